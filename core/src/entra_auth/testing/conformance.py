"""The conformance checks every provider must pass; see the package docstring."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from ..connect import validate_options
from ..context import CONTEXT_FIELDS
from ..environments import Environment
from ..errors import UsageError
from ..plugins import PluginHost, ProviderEntry, build_host
from ..providers import ProviderSettings, TokenSource

_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LOOPBACK = Environment("Conformance", "https://127.0.0.1:9", "https://graph.microsoft.com")


class ProviderConformance:
    """Subclass in a test module; set the class attributes; pytest runs the checks."""

    provider_name: ClassVar[str]
    """The provider's ``name`` as registered through your entry point."""
    valid_options: ClassVar[Mapping[str, Any]]
    """Options that ``create`` accepts without any network call."""
    secret_environment: ClassVar[Mapping[str, str]] = {}
    """Environment variables your ``env:`` references in ``valid_options`` point at."""

    @pytest.fixture
    def entra_host(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
        for name, value in self.secret_environment.items():
            monkeypatch.setenv(name, value)
        yield build_host()

    @pytest.fixture
    def entry(self, entra_host: PluginHost) -> ProviderEntry:
        return entra_host.get_provider(self.provider_name)

    def _settings(self, host: PluginHost, entry: ProviderEntry) -> ProviderSettings:
        return ProviderSettings(
            provider=entry.provider.name,
            options=validate_options(entry.provider, self.valid_options),
            environment=_LOOPBACK,
            resolve_secret=host.resolve_secret,
            certificate_stores=host.certificate_stores,
        )

    def test_registered_through_an_entry_point(self, entry: ProviderEntry) -> None:
        assert entry.distribution not in ("unknown", "in-process"), (
            "register the provider through the 'entra_auth' entry-point group"
        )

    def test_name_summary_and_auth_type(self, entry: ProviderEntry) -> None:
        provider = entry.provider
        assert _KEBAB.match(provider.name), "provider names are kebab-case"
        assert provider.summary and "\n" not in provider.summary
        assert provider.auth_type in ("AppOnly", "ManagedIdentity", "Delegated")

    def test_options_are_declared_and_documented(self, entry: ProviderEntry) -> None:
        names = [option.name for option in entry.provider.options]
        assert len(names) == len(set(names)), "option names are unique"
        for option in entry.provider.options:
            assert _SNAKE.match(option.name), f"option {option.name!r} is snake_case"
            assert option.help.strip(), f"option {option.name!r} has help text"

    def test_missing_required_options_are_refused_before_any_request(
        self, entry: ProviderEntry
    ) -> None:
        for option in entry.provider.options:
            if not option.required:
                continue
            options = {k: v for k, v in self.valid_options.items() if k != option.name}
            with pytest.raises(UsageError, match=re.escape(option.cli_flag)):
                validate_options(entry.provider, options)

    def test_literal_secrets_are_refused_without_echo(self, entry: ProviderEntry) -> None:
        literal = "Literal~Secret~Value~9"
        for option in entry.provider.options:
            if not option.secret:
                continue
            with pytest.raises(UsageError) as caught:
                validate_options(entry.provider, {**self.valid_options, option.name: literal})
            assert literal not in str(caught.value)

    def test_create_returns_a_token_source_that_keeps_secrets_out_of_reprs(
        self, entra_host: PluginHost, entry: ProviderEntry
    ) -> None:
        source = entry.provider.create(self._settings(entra_host, entry))
        try:
            assert isinstance(source, TokenSource)
            shown = repr(source) + repr(dict(source.context()))
            for value in self.secret_environment.values():
                assert value not in shown
        finally:
            source.close()

    def test_context_fields_use_powershell_names(
        self, entra_host: PluginHost, entry: ProviderEntry
    ) -> None:
        source = entry.provider.create(self._settings(entra_host, entry))
        try:
            for key in source.context():
                assert key in CONTEXT_FIELDS.values() or _PASCAL.match(key), (
                    f"context key {key!r} should be a PowerShell-style name"
                )
        finally:
            source.close()
