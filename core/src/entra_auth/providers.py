"""The provider model: what a plugin declares and what core asks of it.

A provider only knows how to obtain its kind of credential. Core owns selection, option
validation, secret resolution, caching and the context, so a third-party provider is a
declaration plus one ``create`` method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from .errors import UsageError

if TYPE_CHECKING:
    import requests

    from .certificates.stores import CertificateStore
    from .environments import Environment
    from .tokens import TokenResult


@dataclass(frozen=True)
class Option:
    """One setting a provider takes.

    ``name`` is snake_case (``client_secret``); the CLI spells it ``--client-secret`` and the
    config file ``client_secret``. A ``secret`` option holds a reference (``env:NAME``…), never
    a value: core refuses literals and resolves references only when the provider asks.
    """

    name: str
    help: str
    required: bool = False
    secret: bool = False
    flag: bool = False
    """A yes/no switch (``--send-certificate-chain``) rather than a value."""

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")


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


@dataclass
class ProviderSettings:
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

    def get(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value

    def require(self, name: str) -> Any:
        value = self.options.get(name)
        if value is None or value == "":
            raise UsageError(f"provider {self.provider!r} needs option --{name.replace('_', '-')}")
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
    ``ManagedIdentity`` for managed identities).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    auth_type: ClassVar[str] = "AppOnly"
    options: ClassVar[tuple[Option, ...]] = ()

    @abstractmethod
    def create(self, settings: ProviderSettings) -> TokenSource:
        """Build a token source from validated settings. Cheap checks and file reads belong
        here (they fail before any network call); network calls belong in ``acquire``."""

    def validate(self, options: Mapping[str, Any]) -> None:
        """Hook for cross-option rules (say, 'one of A or B'); raise ``UsageError``."""

    def __repr__(self) -> str:
        return f"<Provider {self.name}>"


CLIENT_ID = Option("client_id", "Application (client) ID of the app registration.", required=True)
TENANT_ID = Option(
    "tenant_id",
    "Directory (tenant) ID or a verified domain, e.g. contoso.onmicrosoft.com.",
    required=True,
)
