"""The certificate store conformance kit; see the package docstring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from ..connect import connect
from ..plugins import PluginHost
from ..providers import ProviderSettings
from ._lab import ENTRY_POINT_MISSING, _LabFixtures, close_quietly, empty_config

if TYPE_CHECKING:
    from ..certificates import CertificateBundle, CertificateStore, StoredCertificate, Thumbprint
    from ..demo import DemoLab

__all__ = ["CertificateStoreConformance"]

SIGN_IN_PROVIDER = "cert-thumbprint"


class CertificateStoreConformance(_LabFixtures):
    """Subclass in a test module, set ``store_name`` and implement ``store_certificate``;
    pytest runs the checks against the installed plugins."""

    store_name: ClassVar[str]
    """Your store's ``name``, or its beginning when the name goes on with a location
    (``"entra-auth store"`` matches ``"entra-auth store /home/me/.local/share/…"``)."""
    store_options: ClassVar[Mapping[str, Any]] = {}
    """Values for the options your store declares (secrets by reference), given to
    ``bind(settings)`` and to the sign-in."""

    def store_certificate(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        """Put a fresh certificate with its private key in your store (make one with
        ``entra_auth_emulator.pki.make_leaf_cert("CN=…")``, with a subject no other certificate
        has) and return ``(thumbprint, subject)``."""
        raise NotImplementedError("implement store_certificate(tmp_path, monkeypatch)")

    # -- helpers ---------------------------------------------------------------------------
    def _store(self, host: PluginHost) -> tuple[str, CertificateStore]:
        registered = host.store_plugins()
        for plugin, store in registered:
            name = str(getattr(store, "name", ""))
            if name == self.store_name or name.startswith(self.store_name):
                return plugin, store
        problems = "; ".join(host.problems()) or "no plugin problems reported"
        names = ", ".join(repr(getattr(s, "name", s)) for _p, s in registered) or "none"
        pytest.fail(
            f"no registered store is named {self.store_name!r} (stores: {names}; {problems})"
        )

    def _bound(self, host: PluginHost, store: CertificateStore) -> list[CertificateStore]:
        """The store as a sign-in searches it: ``bind(settings)`` when it has one."""
        bind = getattr(store, "bind", None)
        if not callable(bind):
            return [store]
        from ..environments import BUILTIN_ENVIRONMENTS

        settings = ProviderSettings(
            provider=SIGN_IN_PROVIDER,
            options=dict(self.store_options),
            environment=BUILTIN_ENVIRONMENTS["Global"],
            resolve_secret=host.resolve_secret,
            declared=tuple(getattr(store, "options", ()) or ()),
        )
        result = bind(settings)
        return list(result) if isinstance(result, list | tuple) else [result]

    def _stored(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> tuple[Thumbprint, str, PluginHost, list[CertificateStore]]:
        from ..certificates import parse_thumbprint

        thumbprint, subject = self.store_certificate(tmp_path, monkeypatch)
        host = self.plugin_host()
        _plugin, store = self._store(host)
        return parse_thumbprint(thumbprint), subject, host, self._bound(host, store)

    @staticmethod
    def _names(stores: Sequence[CertificateStore]) -> list[str]:
        return [str(store.name) for store in stores]

    def _check_found(
        self,
        bundle: CertificateBundle,
        wanted: Thumbprint,
        stores: Sequence[CertificateStore] | None,
    ) -> None:
        found = bundle.thumbprint if wanted.algorithm == "sha1" else bundle.thumbprint_sha256
        assert found == wanted.hex, (
            f"the store gave certificate {found} ({bundle.subject}), not {wanted.hex}: "
            "StoredCertificate.load must load the certificate it was listed with"
        )
        if stores is None:
            return
        assert bundle.store in self._names(stores), (
            f"the bundle says store {bundle.store!r}, not one of {self._names(stores)}"
        )

    # -- the checks ------------------------------------------------------------------------
    def test_registered_through_an_entry_point(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.store_certificate(tmp_path, monkeypatch)
        host = self.plugin_host()
        plugin, _store = self._store(host)
        distribution = host.distributions.get(plugin, ("unknown", ""))[0]
        assert distribution not in ENTRY_POINT_MISSING, (
            f"store {self.store_name!r} comes from plugin {plugin!r} ({distribution}); register "
            "it through the 'entra_auth' entry-point group of an installed distribution"
        )

    def test_name_is_one_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        _wanted, _subject, _host, stores = self._stored(tmp_path, monkeypatch)
        for store in stores:
            name = store.name
            assert isinstance(name, str) and name.strip(), f"store {store!r} has an empty name"
            assert "\n" not in name and "\r" not in name, (
                f"store name {name!r} is not one line (it is shown in 'searched: …' messages)"
            )

    def test_candidates_are_stored_certificates_that_load(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from ..certificates import CertificateBundle, StoredCertificate

        wanted, _subject, _host, stores = self._stored(tmp_path, monkeypatch)
        entries = [entry for store in stores for entry in store.candidates()]
        wrong = sorted({type(e).__name__ for e in entries if not isinstance(e, StoredCertificate)})
        assert not wrong, f"candidates() yielded {', '.join(wrong)}, not StoredCertificate"
        mine: list[StoredCertificate] = [
            e for e in entries if e.certificate is not None and wanted.matches(e.certificate)
        ]
        assert mine, (
            f"candidates() of {self._names(stores)} did not list the certificate "
            f"store_certificate put there ({wanted.hex}); saw {[e.location for e in entries]}"
        )
        entry = mine[0]
        assert entry.load is not None, f"{entry.location} has no private key: {entry.problem}"
        bundle = entry.load()
        assert isinstance(bundle, CertificateBundle), (
            f"load() returned {type(bundle).__name__}, not a CertificateBundle"
        )
        self._check_found(bundle, wanted, None)

    def test_found_by_thumbprint(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from ..certificates import find_certificate

        wanted, _subject, _host, stores = self._stored(tmp_path, monkeypatch)
        self._check_found(find_certificate(stores, thumbprint=wanted), wanted, stores)

    def test_found_by_subject(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from ..certificates import find_certificate, parse_subject

        wanted, subject, _host, stores = self._stored(tmp_path, monkeypatch)
        self._check_found(find_certificate(stores, subject=parse_subject(subject)), wanted, stores)

    def test_signs_in_through_cert_thumbprint(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lab: DemoLab
    ) -> None:
        wanted, _subject, host, stores = self._stored(tmp_path, monkeypatch)
        if SIGN_IN_PROVIDER not in host.providers():
            pytest.skip(
                f"the {SIGN_IN_PROVIDER} provider (entra-auth-cert-thumbprint) is not installed"
            )
        listed = [
            cert
            for store in stores
            for entry in store.candidates()
            if (cert := getattr(entry, "certificate", None)) is not None and wanted.matches(cert)
        ]
        assert listed, f"candidates() of {self._names(stores)} did not list {wanted.hex}"
        app = lab.register_app(certificates=[listed[0]])
        credential = None
        try:
            credential = connect(
                SIGN_IN_PROVIDER,
                options={
                    "client_id": app.client_id,
                    "tenant_id": app.tenant_id,
                    "certificate_thumbprint": wanted.hex,
                    **self.store_options,
                },
                environment=lab.environment,
                config=empty_config(lab.workdir),
                plugins=host,
            )
            shown = credential.context.as_dict()
        finally:
            close_quietly(credential)
        if wanted.algorithm == "sha1":
            assert shown.get("CertificateThumbprint") == wanted.hex
        assert shown.get("CertificateStore") in self._names(stores), (
            f"the context says CertificateStore {shown.get('CertificateStore')!r}, not one of "
            f"{self._names(stores)}"
        )
