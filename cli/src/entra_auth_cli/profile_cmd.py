"""``entra-auth profile``: named ``connect`` command lines kept in the config file.

``profile add`` takes exactly ``connect``'s sign-in flags (declared once in ``connect_flags``)
and checks them the way ``connect`` does, against the provider's own declaration, before the
file is touched: a profile that is in the file is a profile ``connect --profile`` can use.
Secrets are stored as references only; a literal is refused and never echoed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import connect_flags as flag
from .completion import profile_names
from .output import Output, data_json, echo, format_list, format_table, warn
from .provider_flags import ProviderFlagsCommand

if TYPE_CHECKING:
    from entra_auth.config import Config, Profile

profile_app = typer.Typer(
    name="profile",
    help="Named sign-in settings in the config file (list, show, add, remove, use).",
    no_args_is_help=True,
)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SECRET_WORDS = ("secret", "password", "passphrase", "pin")
"""Keys masked even when no installed provider declares them secret."""
LITERAL_SECRET = "<literal secret refused: write a reference such as env:NAME>"

OutputOption = Annotated[Output, typer.Option(case_sensitive=False, help="table or json.")]
NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The profile's name.")]
ExistingName = Annotated[
    str,
    typer.Argument(metavar="NAME", autocompletion=profile_names, help="The profile's name."),
]


def check_name(name: str, what: str) -> str:
    """Names are typed on command lines and in ``ENTRA_AUTH_PROFILE``: keep them plain."""
    from entra_auth import UsageError

    if not NAME_PATTERN.match(name):
        raise UsageError(
            f"{what} name {name!r} may use only letters, digits, '.', '_' and '-', starting "
            "with a letter or digit"
        )
    return name


def _masked(profile: Profile) -> dict[str, Any]:
    """The profile's table with any literal secret masked (a hand-edited file may hold one;
    ``connect`` refuses it, and nothing here may print it)."""
    from entra_auth.secret_references import looks_like_reference

    secret_names = _secret_option_names(profile.provider)
    table = profile.as_table()
    for key, value in table.items():
        secret = key in secret_names or any(word in key for word in SECRET_WORDS)
        if secret and not (isinstance(value, str) and looks_like_reference(value)):
            table[key] = LITERAL_SECRET
            warn(
                f"profile {profile.name!r} holds a literal {key}; replace it with a reference "
                f"(env:NAME, file:PATH, keyring:SERVICE/NAME, prompt or stdin)"
            )
    return table


def _secret_option_names(provider: str) -> set[str]:
    """Secret options of ``provider``; when it is not installed, of every installed provider
    and store (a hand-edited file may name a provider that is gone)."""
    from entra_auth import UsageError, plugins
    from entra_auth.sign_in import declared_options

    host = plugins.get_host()
    try:
        entries = [host.get_provider(provider)]
    except UsageError:
        entries = list(host.providers().values())
    return {o.name for e in entries for o in declared_options(e, host) if o.secret}


def _row(config: Config, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "default": name == config.selected_profile_name(),
        **_masked(config.profiles[name]),
    }


@profile_app.command("list")
def list_profiles(output: OutputOption = Output.table) -> None:
    """List the profiles; the one connect uses without --profile is marked."""
    from entra_auth.config import load_config

    config = load_config()
    rows = [_row(config, name) for name in config.profiles]
    if output is Output.json:
        echo(
            data_json(
                {
                    "config_file": str(config.path),
                    "default_profile": config.default_profile,
                    "profiles": rows,
                }
            )
        )
        return
    if not rows:
        echo(f"No profiles in {config.path}; add one with 'entra-auth profile add NAME …'.")
        return
    for row in rows:
        row["default"] = "*" if row["default"] else ""
        profile = config.profiles[row["name"]]
        row["app"], row["tenant"] = profile.app or "", profile.tenant or ""
    columns = [
        ("default", "DEFAULT"),
        ("name", "NAME"),
        ("provider", "PROVIDER"),
        ("app", "APP"),
        ("tenant", "TENANT"),
        ("environment", "ENVIRONMENT"),
        ("context_scope", "CONTEXT SCOPE"),
    ]
    echo(format_table(rows, columns))


@profile_app.command("show")
def show_profile(name: ExistingName, output: OutputOption = Output.table) -> None:
    """Show one profile as it is in the config file."""
    from entra_auth.config import load_config

    config = load_config()
    config.profile(name)  # the error lists the profiles there are
    row = _row(config, name)
    echo(data_json(row) if output is Output.json else format_list(row))


@profile_app.command("add", cls=ProviderFlagsCommand)
def add_profile(
    ctx: typer.Context,
    name: NameArgument,
    environment_variable: flag.EnvironmentVariable = False,
    provider: flag.ProviderName = None,
    option: flag.ProviderOptions = None,
    environment: flag.EnvironmentName = None,
    context_scope: flag.ContextScope = None,
    token_cache: flag.TokenCache = None,
    token_cache_encryption: flag.TokenCacheEncryption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a profile of the same name.")
    ] = False,
) -> None:
    """Save connect's flags as a named profile, checked against the provider first."""
    from entra_auth import UsageError
    from entra_auth.config import load_config

    from .config_edit import editing_config

    check_name(name, "profile")
    # Checked before taking the lock (loading plugins is the slow part); the few facts
    # another process could change meanwhile are checked again under the lock. A new profile
    # never inherits the default one.
    request = flag.prepare_from_command_line(
        ctx,
        provider=provider,
        option=option,
        environment_variable=environment_variable,
        environment=environment,
        context_scope=context_scope,
        token_cache=token_cache,
        token_cache_encryption=token_cache_encryption,
        config=load_config(),
        use_profiles=False,
    )
    table: dict[str, Any] = {"provider": request.provider_name, **request.options}
    if environment is not None:
        table["environment"] = request.environment.name
    if context_scope is not None:
        table["context_scope"] = request.context_scope

    with editing_config() as (config, document):
        if name in config.profiles and not replace:
            raise UsageError(
                f"profile {name!r} already exists in {config.path}; add --replace to overwrite "
                "it, or choose another name"
            )
        _check_environment(config, table.get("environment"))
        document.set_table("profiles", name, table)
    echo(f"{'Replaced' if name in config.profiles else 'Added'} profile {name!r} in {config.path}.")


def _check_environment(config: Config, environment: str | None) -> None:
    from entra_auth.environments import resolve_environment

    if environment is not None:
        resolve_environment(environment, config.environments, environ={})


@profile_app.command("remove")
def remove_profile(name: ExistingName) -> None:
    """Remove a profile (and default_profile, when it named this one)."""
    with _edit() as (config, document):
        config.profile(name)
        document.remove_table("profiles", name)
        was_default = config.default_profile == name
        if was_default:
            document.remove_top_level("default_profile")
    echo(
        f"Removed profile {name!r} from {config.path}"
        + ("; there is no default profile now." if was_default else ".")
    )


@profile_app.command("use")
def use_profile(name: ExistingName) -> None:
    """Make a profile the default (default_profile): connect uses it without --profile."""
    import os

    from entra_auth.config import PROFILE_ENV

    with _edit() as (config, document):
        config.profile(name)
        document.set_top_level("default_profile", name)
    echo(f"Default profile is now {name!r} ({config.path}).")
    override = os.environ.get(PROFILE_ENV, "").strip()
    if override and override != name:
        warn(f"{PROFILE_ENV}={override} is set and wins over default_profile in this shell")


def _edit() -> Any:
    from .config_edit import editing_config

    return editing_config()
