"""National clouds as Get-MgEnvironment lists them, plus custom ones (a lab, the emulator).

The authority host decides two things beyond where tokens come from: whether msal may ask the
public cloud for instance discovery (only for Microsoft's own hosts, else msal would call out to
login.microsoftonline.com first), and which CA bundle TLS trusts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .records import Record, replace

MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.us",
        "login-us.microsoftonline.com",
        "login.usgovcloudapi.net",
        "login.microsoftonline.de",
    }
)


class Environment(Record):
    """Where to sign in and which Graph to get tokens for."""

    name: str
    authority_host: str
    graph_endpoint: str
    ca_bundle: str | None = None
    builtin: bool = False

    @property
    def default_scope(self) -> str:
        """Graph's app-only scope in this cloud: ``<graph_endpoint>/.default``."""
        return self.graph_endpoint.rstrip("/") + "/.default"

    @property
    def is_microsoft_host(self) -> bool:
        """True for Microsoft's own authority hosts, the only ones instance discovery knows."""
        return (urlsplit(self.authority_host).hostname or "").lower() in MICROSOFT_AUTHORITY_HOSTS

    def authority(self, tenant_id: str) -> str:
        return f"{self.authority_host.rstrip('/')}/{tenant_id}"

    @classmethod
    def from_dict(cls, data: object) -> Environment:
        """An environment saved with ``as_dict`` (the saved connection), checked again: the
        file may have been damaged or edited since."""
        fields = ("name", "authority_host", "graph_endpoint")
        if not isinstance(data, Mapping) or not all(isinstance(data.get(f), str) for f in fields):
            raise ConfigurationError(
                "the saved connection's environment is damaged; run entra-auth disconnect, then "
                "entra-auth connect again"
            )
        bundle = data.get("ca_bundle")
        return cls(
            str(data["name"]),
            validate_url(str(data["authority_host"]), "the saved authority host"),
            validate_url(str(data["graph_endpoint"]), "the saved Graph endpoint"),
            bundle if isinstance(bundle, str) else None,
        )

    def as_dict(self) -> dict[str, str]:
        data = {
            "name": self.name,
            "authority_host": self.authority_host,
            "graph_endpoint": self.graph_endpoint,
        }
        if self.ca_bundle:
            data["ca_bundle"] = self.ca_bundle
        return data


BUILTIN_ENVIRONMENTS: Mapping[str, Environment] = {
    env.name: env
    for env in (
        Environment(
            "Global", "https://login.microsoftonline.com", "https://graph.microsoft.com", None, True
        ),
        Environment(
            "China",
            "https://login.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            None,
            True,
        ),
        Environment(
            "USGov", "https://login.microsoftonline.us", "https://graph.microsoft.us", None, True
        ),
        Environment(
            "USGovDoD",
            "https://login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
            None,
            True,
        ),
    )
}

DEFAULT_ENVIRONMENT = "Global"


def validate_url(value: str, what: str) -> str:
    """Refuse anything but an absolute https (or loopback http) URL naming only a host (and a
    port): no credentials, path, query or fragment, since whatever it names receives secrets.
    The message never repeats a URL's userinfo."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} must be a URL such as https://login.example.com")
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"{what} {_safe(value)!r} has an invalid port; write https://host[:port]"
        ) from None
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{what} {_safe(value)!r} is not a URL; write it as https://host")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"{what} must not carry a user name or password ({_safe(value)!r}); credentials go "
            "in secret references, never in URLs"
        )
    if parts.scheme == "http" and not loopback:
        raise ConfigurationError(
            f"{what} {_safe(value)!r} must use https (http is allowed on loopback)"
        )
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ConfigurationError(f"{what} {_safe(value)!r} must not have a query or fragment")
    if parts.path.strip("/"):
        raise ConfigurationError(
            f"{what} {_safe(value)!r} must be the host only (no path), e.g. https://login.example.com"
        )
    if port == 0:
        raise ConfigurationError(f"{what} {_safe(value)!r} has an invalid port")
    return value.strip().rstrip("/")


def _safe(value: str) -> str:
    """``value`` without any ``user:password@`` part, for messages."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    host, slash, tail = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{tail}"


def resolve_environment(
    name: str | None = None,
    custom: Mapping[str, Environment] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Environment:
    """Find an environment by name (case-insensitive), applying ``AZURE_AUTHORITY_HOST``.

    ``AZURE_AUTHORITY_HOST`` overrides the authority host as azure-identity does, so a script
    pointed at a sovereign or test authority needs no other change.
    """
    environ = os.environ if environ is None else environ
    wanted = name or DEFAULT_ENVIRONMENT
    known: dict[str, Environment] = {**BUILTIN_ENVIRONMENTS, **(custom or {})}
    by_lower = {key.lower(): env for key, env in known.items()}
    env = by_lower.get(wanted.lower())
    if env is None:
        raise ConfigurationError(
            f"unknown environment {wanted!r}; known: {', '.join(sorted(known))} "
            "(add one with 'entra-auth environment add')"
        )
    override = environ.get("AZURE_AUTHORITY_HOST", "").strip()
    if override:
        if "://" not in override:
            override = "https://" + override
        env = replace(env, authority_host=validate_url(override, "AZURE_AUTHORITY_HOST"))
    return env
