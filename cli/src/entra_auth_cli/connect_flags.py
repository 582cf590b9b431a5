"""The sign-in flags ``connect`` and ``profile add`` share, declared once.

A profile is a saved ``connect`` command line, so both commands must accept exactly the same
flags with the same help; declaring each flag once here (as an ``Annotated`` type) keeps them
from drifting apart, and ``sign_in_flags`` turns them into ``sign_in_methods.ConnectFlags`` for
the one mapping from flags to a provider and its options.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from .sign_in_methods import ConnectFlags

METHOD_PANEL = "Sign-in method (pick one)"
APP_PANEL = "App and identity"
SESSION_PANEL = "Session"

ClientId = Annotated[
    str | None,
    typer.Option(
        "--client-id",
        help="Application (client) ID; with --identity, a user-assigned identity's client ID.",
        rich_help_panel=APP_PANEL,
    ),
]
TenantId = Annotated[
    str | None,
    typer.Option(
        "--tenant-id", help="Directory (tenant) ID or verified domain.", rich_help_panel=APP_PANEL
    ),
]
CertificateThumbprint = Annotated[
    str | None,
    typer.Option(
        "--certificate-thumbprint",
        help="Certificate by SHA-1 (or SHA-256) thumbprint.",
        rich_help_panel=METHOD_PANEL,
    ),
]
CertificateName = Annotated[
    str | None,
    typer.Option(
        "--certificate-name",
        help="Certificate by subject name (CN=…).",
        rich_help_panel=METHOD_PANEL,
    ),
]
CertificatePath = Annotated[
    str | None,
    typer.Option(
        "--certificate",
        metavar="PATH",
        help="Certificate file (PEM or PFX) with its key.",
        rich_help_panel=METHOD_PANEL,
    ),
]
CertificatePassword = Annotated[
    str | None,
    typer.Option(
        "--certificate-password",
        metavar="REF",
        help="Reference to the certificate file's password (env:NAME, file:PATH, prompt…).",
        rich_help_panel=APP_PANEL,
    ),
]
ClientSecret = Annotated[
    str | None,
    typer.Option(
        "--client-secret",
        metavar="REF",
        help="Reference to the client secret: env:NAME, file:PATH, keyring:SERVICE/NAME, "
        "prompt or stdin. Never the secret itself.",
        rich_help_panel=METHOD_PANEL,
    ),
]
Identity = Annotated[
    bool,
    typer.Option(
        "--identity",
        help="Use the managed identity of this Azure host.",
        rich_help_panel=METHOD_PANEL,
    ),
]
ObjectId = Annotated[
    str | None,
    typer.Option(
        "--object-id",
        help="With --identity: the user-assigned identity's object ID.",
        rich_help_panel=APP_PANEL,
    ),
]
ResourceId = Annotated[
    str | None,
    typer.Option(
        "--resource-id",
        help="With --identity: the user-assigned identity's resource ID.",
        rich_help_panel=APP_PANEL,
    ),
]
EnvironmentVariable = Annotated[
    bool,
    typer.Option(
        "--environment-variable",
        help="Read AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET or "
        "AZURE_CLIENT_CERTIFICATE_PATH (with AZURE_CLIENT_CERTIFICATE_PASSWORD and "
        "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN), as azure-identity's EnvironmentCredential does.",
        rich_help_panel=METHOD_PANEL,
    ),
]
ProviderName = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Sign in with this provider (see entra-auth providers); the other flags and "
        "--option become its options.",
        rich_help_panel=METHOD_PANEL,
    ),
]
ProviderOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        metavar="KEY=VALUE",
        help="A provider option (see entra-auth providers --output json).",
        rich_help_panel=METHOD_PANEL,
    ),
]
EnvironmentName = Annotated[
    str | None,
    typer.Option(
        "--environment",
        help="Cloud: Global, China, USGov, USGovDoD or a custom one (see entra-auth environment).",
        rich_help_panel=SESSION_PANEL,
    ),
]
ContextScope = Annotated[
    str | None,
    typer.Option(
        "--context-scope",
        metavar="Process|CurrentUser",
        help="Process keeps tokens in memory only; CurrentUser persists them in a 0600 cache "
        "shared by this user's processes.",
        rich_help_panel=SESSION_PANEL,
    ),
]
SendCertificateChain = Annotated[
    bool,
    typer.Option(
        "--send-certificate-chain",
        help="Send the certificate chain (x5c) for subject name + issuer sign-in.",
        rich_help_panel=APP_PANEL,
    ),
]


SIGN_IN_FLAGS = (
    "client_id",
    "tenant_id",
    "certificate_thumbprint",
    "certificate_name",
    "certificate",
    "certificate_password",
    "client_secret",
    "identity",
    "object_id",
    "resource_id",
    "environment_variable",
    "send_certificate_chain",
    "provider",
    "option",
)
"""The parameter names a command declares with the annotations above, in help order."""


def sign_in_flags(parameters: Mapping[str, Any]) -> ConnectFlags:
    """The shared flags among a command's parameters (pass ``locals()``) as ``ConnectFlags``.

    typer reads flags from each command's signature, so every command declares them; this is
    the one place that gathers them, so a new flag cannot be forgotten by one command."""
    from .sign_in_methods import ConnectFlags

    values = {name: parameters[name] for name in SIGN_IN_FLAGS}
    values["option"] = tuple(values["option"] or ())
    return ConnectFlags(**values)
