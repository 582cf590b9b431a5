"""Certificate stores take settings: their own options (secrets by reference) through the
profile or ``--option``, bound per sign-in; the context says which store found the certificate.
"""

from __future__ import annotations

from typing import Any

import pytest

import entra_auth
from entra_auth import Option, StoredCertificate, UsageError, bundle_from_object, hookimpl
from entra_auth.plugins import build_host


class HsmStore:
    """What an HSM store plugin looks like: a PIN by reference, bound per sign-in."""

    name = "hsm test-slot"
    options = (Option("hsm_pin", "Reference to the HSM user PIN.", secret=True),)

    def __init__(self, cert: Any) -> None:
        self.cert = cert
        self.pins: list[str] = []

    def candidates(self) -> list[StoredCertificate]:
        return []  # locked until bound with a PIN

    def bind(self, settings: entra_auth.ProviderSettings) -> Any:
        pin = settings.secret("hsm_pin")
        if pin is None:
            raise UsageError("the HSM store needs --option hsm_pin=REF")
        self.pins.append(pin)
        store, cert = self, self.cert

        class Unlocked:
            name = store.name

            def candidates(self) -> list[StoredCertificate]:
                load = lambda: bundle_from_object((cert.private_key, cert.certificate))  # noqa: E731
                return [StoredCertificate("hsm://slot/1", cert.certificate, load=load)]

        return Unlocked()


def host_with(store: HsmStore) -> Any:
    class Plugin:
        @hookimpl
        def entra_auth_register_certificate_stores(self, register: Any) -> None:
            register(store)

    return build_host([("hsm-plugin", Plugin())])


def test_a_store_reads_its_pin_by_reference_and_is_named_in_the_context(
    register_app: Any, app_cert: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = register_app(certificates=[app_cert])
    monkeypatch.setenv("HSM_PIN", "1234-pin-value")
    store = HsmStore(app_cert)
    host = host_with(store)
    cred = entra_auth.connect(
        "cert-thumbprint",
        options={
            **app.options(),
            "certificate_thumbprint": app_cert.thumbprint,
            "hsm_pin": "env:HSM_PIN",
        },
        plugins=host,
    )
    assert store.pins == ["1234-pin-value"]
    context = cred.context.as_dict()
    assert context["CertificateStore"] == "hsm test-slot"
    assert context["CertificateThumbprint"] == app_cert.thumbprint
    assert "1234-pin-value" not in repr(cred) + repr(context)


def test_a_store_option_is_a_reference_and_only_for_store_users(
    register_app: Any, app_cert: Any
) -> None:
    app = register_app(certificates=[app_cert])
    host = host_with(HsmStore(app_cert))
    with pytest.raises(UsageError, match="--option hsm_pin takes a reference") as caught:
        entra_auth.prepare(
            "cert-thumbprint",
            {**app.options(), "certificate_thumbprint": app_cert.thumbprint, "hsm_pin": "1234"},
            plugins=host,
        )
    assert "1234" not in str(caught.value)
    # a provider that uses no certificate store does not take the store's options
    with pytest.raises(UsageError, match="does not take"):
        entra_auth.prepare(
            "client-secret",
            {**app.options(), "client_secret": "env:X", "hsm_pin": "env:HSM_PIN"},
            plugins=host,
        )
