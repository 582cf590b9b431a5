"""Fixtures for the certificate providers: real RSA/EC certificates made with cryptography,
apps registered in the session emulator, and the stores laid out on disk as their owners
(.NET, the entra-auth store, ENTRA_AUTH_CERT_PATH folders) write them."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from cert_helpers import CertApp

from entra_auth.certificates import clear_cache
from entra_auth_emulator.pki import CertifiedKey, make_ca, make_leaf_cert


@pytest.fixture(autouse=True)
def fresh_key_cache() -> None:
    """Each test starts with nothing parsed, so load counts are per test."""
    clear_cache()


@pytest.fixture
def register_app(emulator: Any, emulator_env: dict[str, str]) -> Callable[..., CertApp]:
    """Register a fresh tenant and app with the given public certificates / trusted issuers."""

    def register(
        certificates: Iterable[CertifiedKey] = (),
        trusted_issuers: Iterable[CertifiedKey] = (),
        trusted_subjects: Iterable[str] = (),
    ) -> CertApp:
        app = CertApp(
            tenant_id=str(uuid.uuid4()),
            client_id=str(uuid.uuid4()),
            display_name=f"Contoso Automation {secrets.token_hex(3)}",
        )
        emulator.register_app(
            tenant_id=app.tenant_id,
            client_id=app.client_id,
            display_name=app.display_name,
            roles=app.roles,
            certificates=[c.certificate for c in certificates],
            trusted_issuers=[c.certificate for c in trusted_issuers],
            trusted_subjects=list(trusted_subjects),
        )
        return app

    return register


@pytest.fixture(scope="session")
def app_cert() -> CertifiedKey:
    """A self-signed RSA certificate, as New-SelfSignedCertificate makes for an app."""
    return make_leaf_cert("CN=contoso-automation,O=Contoso")


@pytest.fixture(scope="session")
def other_cert() -> CertifiedKey:
    return make_leaf_cert("CN=someone-else")


@pytest.fixture(scope="session")
def issuing_chain() -> tuple[CertifiedKey, CertifiedKey]:
    """A root CA and an intermediate it issued (subject name + issuer sign-in)."""
    root = make_ca("CN=Contoso Root CA,O=Contoso")
    intermediate = make_ca("CN=Contoso Issuing CA,O=Contoso", issuer=root)
    return root, intermediate
