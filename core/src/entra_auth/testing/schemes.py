"""The secret scheme conformance kit; see the package docstring."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import pytest

from ..errors import SecretReferenceError
from ..plugins import PluginHost
from ..secret_references import SecretScheme, scheme_of
from ._lab import ENTRY_POINT_MISSING, leaks, numbered, shown_texts

__all__ = ["SecretSchemeConformance"]

_NAME = re.compile(r"^[a-z][a-z0-9+.-]*$")


class SecretSchemeConformance:
    """Subclass in a test module, set ``scheme`` and implement ``stored_secret`` and
    ``missing_reference``; pytest runs the checks against the installed plugins."""

    scheme: ClassVar[str]
    """The scheme's name, the part of a reference before the colon (``vault``)."""

    def stored_secret(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        """Put a fresh secret where your scheme reads it (a file in ``tmp_path``, a variable
        set with ``monkeypatch``, a test vault) and return ``(reference, value)``."""
        raise NotImplementedError("implement stored_secret(tmp_path, monkeypatch)")

    def missing_reference(self) -> str:
        """A reference of your scheme that names nothing (``vault:apps/no-such-secret``)."""
        raise NotImplementedError("implement missing_reference()")

    def plugin_host(self) -> PluginHost:
        """The plugin host the checks use (every installed entry point)."""
        from ..plugins import build_host

        return build_host()

    def _registered(self, host: PluginHost) -> tuple[str, SecretScheme]:
        registered = host.secret_schemes().get(self.scheme)
        if registered is None:
            problems = "; ".join(host.problems()) or "no plugin problems reported"
            pytest.fail(
                f"no plugin registered secret scheme {self.scheme!r} (registered: "
                f"{', '.join(sorted(host.secret_schemes())) or 'none'}; {problems})"
            )
        return registered

    def test_registered_through_an_entry_point(self) -> None:
        host = self.plugin_host()
        plugin, _scheme = self._registered(host)
        distribution = host.distributions.get(plugin, ("unknown", ""))[0]
        assert distribution not in ENTRY_POINT_MISSING, (
            f"secret scheme {self.scheme!r} comes from plugin {plugin!r} ({distribution}); "
            "register it through the 'entra_auth' entry-point group of an installed distribution"
        )

    def test_name_summary_and_form(self) -> None:
        _plugin, scheme = self._registered(self.plugin_host())
        assert scheme.name == self.scheme
        assert _NAME.match(scheme.name), (
            f"scheme name {scheme.name!r} is not lower-case letters, digits, '+', '.' or '-'"
        )
        summary = scheme.summary
        assert isinstance(summary, str) and summary.strip(), "the scheme has no summary"
        assert "\n" not in summary.strip(), "the summary is one line"
        assert not scheme.form or scheme.form.startswith(scheme.name), (
            f"form {scheme.form!r} does not show how to write a {scheme.name}: reference"
        )

    def test_resolves_a_stored_secret(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        reference, expected = self.stored_secret(tmp_path, monkeypatch)
        assert scheme_of(reference) == self.scheme, (
            f"stored_secret returned {reference!r}, not a reference of scheme {self.scheme!r}"
        )
        value = self.plugin_host().resolve_secret(reference)
        assert value == expected, (
            f"{reference} resolved to a value of {len(value)} characters that is not the stored "
            f"one ({len(expected)} characters)"
        )

    def test_missing_secret_is_refused_by_reference_without_values(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _reference, stored = self.stored_secret(tmp_path, monkeypatch)
        missing = self.missing_reference()
        assert scheme_of(missing) == self.scheme
        with pytest.raises(SecretReferenceError) as caught:
            self.plugin_host().resolve_secret(missing)
        message = str(caught.value)
        target = missing.partition(":")[2] or missing
        assert missing in message or target in message, (
            f"the refusal does not name the reference {missing!r}: {message}"
        )
        found = leaks(
            numbered([stored]), [("the refusal", message), ("its repr", repr(caught.value))]
        )
        assert not found, f"{'; '.join(found)} (the stored value of another reference)"

    def test_repr_shows_no_value(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        reference, expected = self.stored_secret(tmp_path, monkeypatch)
        host = self.plugin_host()
        host.resolve_secret(reference)
        _plugin, scheme = self._registered(host)
        found = leaks(numbered([expected]), shown_texts(scheme, scheme.resolve))
        assert not found, f"{'; '.join(found)} after resolving {reference}"
