"""The provider conformance kit: the checks every provider must pass; see the package docstring.

Declarations are checked offline; behaviour is checked by signing in against a real
``entra_auth_emulator.Emulator`` with options from ``sign_in_options(lab)``. A check that does
not apply (no required option, no secret) is skipped with the reason, never passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from ..connect import connect
from ..context import CONTEXT_FIELDS
from ..errors import EntraAuthError, PluginError, UsageError
from ..plugins import PluginHost, ProviderEntry
from ..providers import OPTION_TYPES, Option
from ..secret_references import Secret
from ..sign_in import declared_options
from ._lab import (
    ENTRY_POINT_MISSING,
    Watch,
    _LabFixtures,
    close_quietly,
    empty_config,
    error_texts,
    leaks,
    numbered,
    set_environment,
    shown_texts,
    watched,
)

if TYPE_CHECKING:
    from ..credential import EntraCredential
    from ..demo import DemoLab

__all__ = ["ProviderConformance"]

_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_FLAG = re.compile(r"^--[a-z0-9]+(-[a-z0-9]+)*$")
_UPPER = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
AUTH_TYPES = ("AppOnly", "ManagedIdentity", "Delegated")
# Words that make an option a secret: its value must then be a reference (secret=True).
_SECRET_WORDS = {"secret", "password", "passphrase", "passwd", "pin", "apikey"}
_SECRET_NAMES = ("api_key", "access_key", "private_key", "shared_key", "account_key")
_MIN_SECRET = 6
"""Secret values shorter than this are not searched for (they would match by chance)."""


def looks_secret(option: Option) -> bool:
    """An option whose name says it holds a secret (``client_secret``, ``vault_password``,
    ``api_key``), when its type could carry the value itself."""
    if option.type in ("path", "bool", "object", "int"):
        return False
    words = set(option.name.split("_"))
    return bool(words & _SECRET_WORDS) or option.name.endswith(_SECRET_NAMES)


@dataclass
class SignIn:
    """One sign-in through ``entra_auth.connect`` and what it did."""

    options: dict[str, Any]
    credential: EntraCredential | None
    token: str | None
    error: BaseException | None
    watch: Watch

    def failure(self) -> str:
        if self.error is None:
            return ""
        return f"the sign-in failed: {type(self.error).__name__}: {self.error}"


class ProviderConformance(_LabFixtures):
    """Subclass in a test module and set ``provider_name``; pytest runs the checks.

    Behavioural checks sign in against the emulator with the options ``sign_in_options(lab)``
    returns (by default, those of the provider's first demo step that is not a refusal).
    """

    provider_name: ClassVar[str]
    """The provider's ``name`` as registered through your entry point."""
    secret_environment: ClassVar[Mapping[str, str]] = {}
    """Environment variables set for every check; their values are secrets the checks look for
    in reprs, logs and errors (with the resolved secret options)."""
    literal_secret: ClassVar[str] = "Conformance-Literal-Secret-4f1d2c9e"
    """What the literal-secret check passes where a reference belongs."""

    # -- what the author may override ------------------------------------------------------
    def sign_in_options(self, lab: DemoLab) -> Mapping[str, Any] | None:
        """Options that sign in against ``lab.emulator`` (register what you need with
        ``lab.register_app``, ``lab.new_secret``, ``lab.set_env``…). The default runs the
        provider's first demo step that is not a refusal; None skips the behavioural checks."""
        entry = self.plugin_host().get_provider(self.provider_name)
        for step in entry.provider.demo_steps():
            if not step.refusal:
                return step.prepare(lab)
        return None

    def extra_secret_values(self, lab: DemoLab, options: Mapping[str, Any]) -> Iterable[str]:
        """More values that must never be shown (a private key's PEM lines, say); the kit
        already looks for the resolved secret options and ``secret_environment``."""
        return ()

    # -- helpers ---------------------------------------------------------------------------
    @pytest.fixture
    def entra_host(self, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
        set_environment(monkeypatch, self.secret_environment)
        return self.plugin_host()

    def _entry(self, host: PluginHost) -> ProviderEntry:
        return host.get_provider(self.provider_name)

    def _options(self, lab: DemoLab) -> dict[str, Any]:
        options = self.sign_in_options(lab)
        if options is None:
            pytest.skip(
                f"provider {self.provider_name!r} has no demo step that signs in and the test "
                "does not override sign_in_options(lab), so there are no options to sign in with"
            )
        return dict(options)

    def _sign_in(self, host: PluginHost, lab: DemoLab, options: Mapping[str, Any]) -> SignIn:
        credential: EntraCredential | None = None
        token: str | None = None
        error: BaseException | None = None
        with watched(lab.emulator) as watch:
            try:
                credential = connect(
                    self.provider_name,
                    options=dict(options),
                    environment=lab.environment,
                    config=empty_config(lab.workdir),
                    plugins=host,
                )
                token = credential.get_token_info(lab.environment.default_scope).token
            except Exception as exc:
                error = exc
        return SignIn(dict(options), credential, token, error, watch)

    def _secret_values(
        self, host: PluginHost, entry: ProviderEntry, lab: DemoLab, options: Mapping[str, Any]
    ) -> list[str]:
        values: list[str] = list(self.secret_environment.values())
        for option in declared_options(entry, host):
            value = options.get(option.name)
            if not option.secret or value is None:
                continue
            if isinstance(value, Secret):
                values.append(value.get_secret_value())
                continue
            if str(value) in ("prompt", "stdin"):
                continue  # resolving would read the terminal or standard input
            try:
                values.append(host.resolve_secret(str(value)))
            except Exception:
                continue  # the sign-in itself will say why it cannot be read
        values.extend(self.extra_secret_values(lab, options))
        return list(
            dict.fromkeys(v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET)
        )

    def _refused_before_any_request(
        self, host: PluginHost, lab: DemoLab, options: Mapping[str, Any], what: str
    ) -> UsageError:
        attempt = self._sign_in(host, lab, options)
        close_quietly(attempt.credential)
        assert attempt.error is not None, f"the sign-in went ahead with {what}"
        assert isinstance(attempt.error, UsageError) and not isinstance(
            attempt.error, PluginError
        ), (
            f"with {what} the sign-in raised {type(attempt.error).__name__}: {attempt.error} "
            "(expected a UsageError from the option checks)"
        )
        assert not attempt.watch.requests, (
            f"with {what} the emulator was sent "
            f"{[(r.get('method'), r.get('path')) for r in attempt.watch.requests]} before the "
            "refusal; options are checked before any request"
        )
        assert not attempt.watch.addresses, (
            f"with {what} connections were made to {attempt.watch.addresses} before the "
            "refusal; options are checked before any request"
        )
        return attempt.error

    # -- declarations ----------------------------------------------------------------------
    def test_registered_through_an_entry_point(self, entra_host: PluginHost) -> None:
        entry = self._entry(entra_host)
        assert entry.distribution not in ENTRY_POINT_MISSING, (
            f"provider {self.provider_name!r} comes from {entry.origin}; register it through "
            "the 'entra_auth' entry-point group of an installed distribution"
        )

    def test_name_summary_and_auth_type(self, entra_host: PluginHost) -> None:
        provider = self._entry(entra_host).provider
        assert _KEBAB.match(provider.name), f"provider name {provider.name!r} is not kebab-case"
        summary = getattr(provider, "summary", "")
        assert isinstance(summary, str) and summary.strip(), "the provider has no summary"
        assert "\n" not in summary.strip(), "the summary is one line"
        assert provider.auth_type in AUTH_TYPES, (
            f"auth_type {provider.auth_type!r} is not one of {', '.join(AUTH_TYPES)}"
        )

    def test_options_are_declared_well(self, entra_host: PluginHost) -> None:
        options = tuple(self._entry(entra_host).provider.options)
        problems: list[str] = []
        names = [option.name for option in options]
        problems += [
            f"option {n!r} is declared twice"
            for n in sorted({n for n in names if names.count(n) > 1})
        ]
        for option in options:
            name = option.name
            if not (isinstance(name, str) and _SNAKE.match(name)):
                problems.append(f"option name {name!r} is not snake_case")
            if not (isinstance(option.help, str) and option.help.strip()):
                problems.append(f"option {name!r} has no help text")
            if option.type not in OPTION_TYPES:
                problems.append(
                    f"option {name!r} has type {option.type!r}, not one of "
                    f"{', '.join(OPTION_TYPES)}"
                )
            if option.flag and not _FLAG.match(option.flag):
                problems.append(
                    f"option {name!r} has flag {option.flag!r}; flags are --lower-kebab-case"
                )
            if option.env is not None and not _UPPER.match(option.env):
                problems.append(
                    f"option {name!r} reads variable {option.env!r}; variable names are UPPER_CASE"
                )
            if option.selects and option.type == "object":
                problems.append(
                    f"option {name!r} is an object (Python only) and cannot select the provider"
                )
            if option.selects and option.cli_flag is None:
                problems.append(f"option {name!r} selects the provider but has no flag")
            if looks_secret(option) and not option.secret:
                problems.append(
                    f"option {name!r} looks like a secret: declare it secret=True so it is "
                    "given by reference, never as a value"
                )
        assert not problems, "; ".join(problems)

    # -- refusals before any request --------------------------------------------------------
    def test_missing_required_options_are_refused_before_any_request(
        self, entra_host: PluginHost, lab: DemoLab
    ) -> None:
        entry = self._entry(entra_host)
        required = [o for o in declared_options(entry, entra_host) if o.required]
        if not required:
            pytest.skip(f"provider {self.provider_name!r} declares no required option")
        options = self._options(lab)
        for option in required:
            without = {k: v for k, v in options.items() if k != option.name}
            error = self._refused_before_any_request(
                entra_host, lab, without, f"{option.label} left out"
            )
            assert option.label in str(error), (
                f"the refusal for a missing {option.label} does not name it: {error}"
            )

    def test_literal_secrets_are_refused_without_echo_before_any_request(
        self, entra_host: PluginHost, lab: DemoLab
    ) -> None:
        entry = self._entry(entra_host)
        secrets = [o for o in declared_options(entry, entra_host) if o.secret]
        if not secrets:
            pytest.skip(f"provider {self.provider_name!r} declares no secret option")
        options = self._options(lab)
        for option in secrets:
            error = self._refused_before_any_request(
                entra_host,
                lab,
                {**options, option.name: self.literal_secret},
                f"a literal value for {option.label}",
            )
            assert self.literal_secret not in str(error) and self.literal_secret not in repr(
                error
            ), f"the refusal of a literal {option.label} repeats the value"

    # -- a real sign-in --------------------------------------------------------------------
    def test_signs_in_with_a_token_from_the_emulator(
        self, entra_host: PluginHost, lab: DemoLab
    ) -> None:
        attempt = self._sign_in(entra_host, lab, self._options(lab))
        try:
            assert attempt.error is None, attempt.failure()
            assert attempt.token, "the credential returned an empty token"
            try:
                lab.emulator.verify_token(attempt.token)
            except Exception as exc:
                pytest.fail(f"the token was not issued by the emulator: {exc}")
            answered = [r for r in attempt.watch.requests if r.get("status") == 200]
            assert answered, (
                "the emulator's request log shows no answered request during the sign-in: "
                f"{attempt.watch.requests}"
            )
        finally:
            close_quietly(attempt.credential)

    def test_context_is_filled_from_the_token(self, entra_host: PluginHost, lab: DemoLab) -> None:
        entry = self._entry(entra_host)
        attempt = self._sign_in(entra_host, lab, self._options(lab))
        try:
            assert attempt.error is None, attempt.failure()
            assert attempt.credential is not None and attempt.token
            try:
                claims = lab.emulator.verify_token(attempt.token)
            except Exception as exc:
                pytest.fail(f"the token was not issued by the emulator: {exc}")
            shown = attempt.credential.context.as_dict()
            problems = [
                f"context key {key!r} is not a PowerShell-style name"
                for key in shown
                if not (key in CONTEXT_FIELDS.values() or _PASCAL.match(str(key)))
            ]
            expected = {
                "ClientId": claims.get("appid") or claims.get("azp"),
                "TenantId": claims.get("tid"),
                "AuthType": entry.provider.auth_type,
                "Scopes": list(claims.get("roles") or []),
                "AppName": claims.get("app_displayname"),
                "Environment": lab.environment.name,
            }
            for key, value in expected.items():
                if shown.get(key) != value:
                    problems.append(f"context {key} is {shown.get(key)!r}, expected {value!r}")
            for key in ("ClientId", "TenantId"):
                if not shown.get(key):
                    problems.append(f"context {key} is empty")
            assert not problems, "; ".join(problems)
        finally:
            close_quietly(attempt.credential)

    def test_no_secret_or_token_in_reprs_or_logs(
        self, entra_host: PluginHost, lab: DemoLab
    ) -> None:
        entry = self._entry(entra_host)
        options = self._options(lab)
        values = self._secret_values(entra_host, entry, lab, options)
        attempt = self._sign_in(entra_host, lab, options)
        try:
            assert attempt.error is None, attempt.failure()
            credential = attempt.credential
            assert credential is not None and attempt.token
            source = credential._source
            assert source is not None, "the credential holds no token source after signing in"
            wrapped = getattr(source, "wrapped", source)
            context = credential.context
            shown = shown_texts(
                credential, source, wrapped, context, context.as_dict(), dict(wrapped.context())
            )
            shown.append(("the log records of the sign-in", "\n".join(attempt.watch.logs)))
            # The access token is a secret too: it must not be logged or shown.
            found = leaks([*numbered(values), ("the access token", attempt.token)], shown)
            assert not found, "; ".join(found)
        finally:
            close_quietly(attempt.credential)

    def test_refusal_is_an_error_without_secrets(
        self, entra_host: PluginHost, lab: DemoLab
    ) -> None:
        entry = self._entry(entra_host)
        options = self._options(lab)
        values = self._secret_values(entra_host, entry, lab, options)
        lab.emulator.add_fault("any", status=400, count=50)
        try:
            attempt = self._sign_in(entra_host, lab, options)
        finally:
            lab.emulator.reset()  # drops the faults not used
        close_quietly(attempt.credential)
        assert attempt.error is not None, (
            "the sign-in succeeded although the emulator refused every request"
        )
        assert isinstance(attempt.error, EntraAuthError), (
            f"a refusal by the identity service surfaced as {type(attempt.error).__name__}: "
            f"{attempt.error} (expected an entra_auth.EntraAuthError such as AuthenticationError)"
        )
        texts = error_texts(attempt.error)
        texts.append(("the log records of the sign-in", "\n".join(attempt.watch.logs)))
        found = leaks(numbered(values), texts)
        assert not found, "; ".join(found)

    def test_contacts_only_loopback(self, entra_host: PluginHost, lab: DemoLab) -> None:
        attempt = self._sign_in(entra_host, lab, self._options(lab))
        close_quietly(attempt.credential)
        assert not attempt.watch.refused, (
            f"the sign-in tried to reach {attempt.watch.refused}; only the emulator (loopback) "
            "may be contacted"
        )
        assert attempt.watch.addresses, "the sign-in made no connection at all"
