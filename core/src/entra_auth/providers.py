"""The provider model: what a plugin declares and what core asks of it.

A provider only knows how to obtain its kind of credential. Core owns selection, option
validation, secret resolution, caching and the context, so a third-party provider is a
declaration plus one ``create`` method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from .errors import UsageError
from .records import Record, field

if TYPE_CHECKING:
    import requests

    from .certificates.stores import CertificateStore
    from .demo import DemoStep
    from .environments import Environment
    from .tokens import TokenResult


OptionType = Literal["str", "bool", "path", "int", "object"]
OPTION_TYPES: tuple[str, ...] = ("str", "bool", "path", "int", "object")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class Option(Record):
    """One setting a provider (or certificate store) takes: its whole surface, declared once.

    The CLI flag, the config-file key, the ``--environment-variable`` source, the generated
    docs and the validation all come from this declaration, so a third-party provider gets
    exactly what a built-in one gets.

    ``name`` is snake_case (``client_secret``): the config-file key and the ``connect()``
    option. ``flag`` is the CLI spelling (default ``--name-with-dashes``; ``""`` for an option
    only the Python API can pass, such as an object). ``type`` is ``str``, ``bool`` (a switch),
    ``path`` (made absolute, since later processes run elsewhere), ``int`` or ``object``
    (Python API only). A ``secret`` option holds a reference (``env:NAME``…), never a value.
    ``env`` names the variable that supplies the value when signing in from the environment
    (``--environment-variable``); for a secret option the value stays a reference to it.
    ``selects``: giving this flag picks the provider (``--certificate-thumbprint`` picks
    cert-thumbprint). ``check`` validates and normalises a given value once, when the sign-in
    is prepared (raise ``UsageError``); its result is what ``create`` sees and what is saved.
    """

    name: str
    help: str
    required: bool = False
    secret: bool = False
    type: OptionType = "str"
    flag: str | None = None
    env: str | None = None
    selects: bool = False
    metavar: str | None = None
    check: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)

    @property
    def cli_flag(self) -> str | None:
        """The flag as typed on the command line; None for a Python-only option."""
        if self.type == "object" or self.flag == "":
            return None
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """How messages name the option: its flag; ``--option NAME`` when it has none; its
        key for a Python-only object."""
        if self.cli_flag:
            return self.cli_flag
        return self.name if self.type == "object" else f"--option {self.name}"

    @property
    def cli_metavar(self) -> str:
        if self.metavar:
            return self.metavar
        if self.secret:
            return "REF"
        return {"path": "PATH", "int": "N"}.get(self.type, "TEXT")

    def coerce(self, value: Any, *, where: str) -> Any:
        """``value`` (from a flag, the config file, the environment or Python) as this
        option's type; ``UsageError`` naming ``where`` and the expected type otherwise."""
        from .errors import ArgumentTypeError, ArgumentValueError

        if self.type == "object" or value is None:
            return value
        if self.secret:
            return value  # a reference or a Secret; checked by the secret rules
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                return value.strip().lower() in _TRUE
            raise ArgumentValueError(f"{where} {self.label} takes true or false, not {value!r}")
        if self.type == "int":
            if isinstance(value, bool):
                raise ArgumentTypeError(f"{where} {self.label} takes a whole number, not {value!r}")
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ArgumentValueError(
                    f"{where} {self.label} takes a whole number, not {value!r}"
                ) from None
        if self.type == "path":
            import os
            from pathlib import Path

            if not isinstance(value, str | os.PathLike) or str(value) == "":
                raise ArgumentTypeError(f"{where} {self.label} takes a file path, not {value!r}")
            if "\x00" in str(value):
                raise ArgumentValueError(f"{where} {self.label}: the path contains a NUL character")
            return str(Path(value).expanduser().absolute())
        if not isinstance(value, str):
            raise ArgumentTypeError(
                f"{where} {self.label} takes text, not {type(value).__name__} {value!r}"
            )
        return value


@runtime_checkable
class TokenSource(Protocol):
    """What ``Provider.create`` returns: something that can fetch a token on demand.

    Core calls ``acquire`` only on a cache miss, from one thread at a time per scope set.
    """

    def acquire(
        self, scopes: Sequence[str], *, claims: str | None = None, tenant_id: str | None = None
    ) -> TokenResult:
        """Request a fresh token from the identity service; raise ``AuthenticationError``."""
        ...

    def context(self) -> Mapping[str, Any]:
        """Provider-specific context fields, e.g. ``{"CertificateThumbprint": "…"}``."""
        ...

    def close(self) -> None:
        """Release sessions and keys."""
        ...


SecretResolver = Callable[[Any], str]


class ProviderSettings(Record, frozen=False):
    """Everything a provider's ``create`` gets: validated options and core's shared services.

    Secret options stay references in ``options``; call ``secret(name)`` to resolve one, at the
    moment it is needed, so a value never lingers in a structure that might be printed.
    """

    provider: str
    options: Mapping[str, Any]
    environment: Environment
    resolve_secret: SecretResolver
    certificate_stores: Callable[[], Sequence[CertificateStore]] = field(default=tuple)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    declared: Sequence[Option] = ()
    context_scope: str = "Process"
    """``CurrentUser`` lets sources keep what outlives the process (OpenID discovery) on disk."""
    """The provider's options (and its stores'), so messages can name the right flag."""

    def get(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value

    def require(self, name: str) -> Any:
        value = self.options.get(name)
        if value is None or value == "":
            label = next((o.label for o in self.declared if o.name == name), name)
            raise UsageError(f"provider {self.provider!r} needs option {label}")
        return value

    def secret(self, name: str) -> str | None:
        """Resolve the secret reference held by option ``name`` (None when unset)."""
        reference = self.options.get(name)
        if reference is None:
            return None
        return self.resolve_secret(reference)

    def http_session(self) -> requests.Session:
        """A requests session with connect/read timeouts and this environment's CA bundle."""
        from .http import build_session

        return build_session(
            ca_bundle=self.environment.ca_bundle,
            timeout=(self.connect_timeout, self.read_timeout),
        )

    def __repr__(self) -> str:
        return f"ProviderSettings(provider={self.provider!r}, options={sorted(self.options)})"


class Provider(ABC):
    """Base class for providers. Subclass, fill the class attributes, implement ``create``.

    ``auth_type`` is what the context shows (``AppOnly`` for app credentials,
    ``ManagedIdentity`` for managed identities). ``environment_rank`` makes the provider a
    candidate for ``--environment-variable``: among providers whose selecting option's ``env``
    variable is set, the lowest rank wins (azure-identity's EnvironmentCredential order: secret
    10, certificate 20; workload identity comes after). ``uses_certificate_stores`` makes the
    options of every registered certificate store valid for this provider.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    auth_type: ClassVar[str] = "AppOnly"
    options: ClassVar[tuple[Option, ...]] = ()
    environment_rank: ClassVar[int | None] = None
    uses_certificate_stores: ClassVar[bool] = False

    @abstractmethod
    def create(self, settings: ProviderSettings) -> TokenSource:
        """Build a token source from validated settings. Cheap checks and file reads belong
        here (they fail before any network call); network calls belong in ``acquire``."""

    def validate(self, options: Mapping[str, Any]) -> None:
        """Hook for cross-option rules (say, 'one of A or B'); raise ``UsageError``."""

    def demo_steps(self) -> Sequence[DemoStep]:
        """Steps ``entra-auth demo`` runs against the embedded emulator (none by default)."""
        return ()

    def cache_scope(self, options: Mapping[str, Any]) -> Mapping[str, str]:
        """What, besides the options, decides whose tokens these are: it becomes part of the
        token cache partition, so a token is never served for another endpoint (a managed
        identity's host, say). Computed when the partition is; cheap, no network."""
        return {}

    def __repr__(self) -> str:
        return f"<Provider {self.name}>"


def _client_id(value: Any) -> str:
    from .identifiers import check_client_id

    return check_client_id(value)


def _tenant_id(value: Any) -> str:
    from .identifiers import check_tenant_id

    return check_tenant_id(value)


CLIENT_ID = Option(
    "client_id",
    "Application (client) ID of the app registration.",
    required=True,
    env="AZURE_CLIENT_ID",
    metavar="GUID",
    check=_client_id,
)
TENANT_ID = Option(
    "tenant_id",
    "Directory (tenant) ID or a verified domain, e.g. contoso.onmicrosoft.com.",
    required=True,
    env="AZURE_TENANT_ID",
    metavar="TENANT",
    check=_tenant_id,
)
