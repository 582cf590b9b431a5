"""Fixtures for the emulator's tests: the session emulator comes from the emulator's own pytest
plugin (``entra_emulator``), so these tests also prove the plugin works."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from emulator_helpers import GRAPH_SCOPE, TENANT, session_for

from entra_auth_emulator import Emulator
from entra_auth_emulator.pki import CertifiedKey, make_ca, make_leaf_cert


@pytest.fixture
def emu(entra_emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator, with log, faults and used assertion ids cleared around the test."""
    entra_emulator.reset()
    yield entra_emulator
    entra_emulator.reset()


@pytest.fixture
def http(emu: Emulator) -> Iterator[requests.Session]:
    with session_for(emu) as session:
        yield session


@pytest.fixture(scope="session")
def app_cert() -> CertifiedKey:
    return make_leaf_cert("CN=emulator-tests app")


@pytest.fixture(scope="session")
def other_cert() -> CertifiedKey:
    return make_leaf_cert("CN=emulator-tests other")


@pytest.fixture(scope="session")
def issuing_ca() -> CertifiedKey:
    return make_ca("CN=Contoso Issuing CA,O=Contoso")


PostToken = Callable[..., requests.Response]


@pytest.fixture
def post_token(emu: Emulator, http: requests.Session) -> PostToken:
    """POST a form to the token endpoint of ``tenant``."""

    def post(tenant: str = TENANT, **form: str) -> requests.Response:
        form.setdefault("grant_type", "client_credentials")
        form.setdefault("scope", GRAPH_SCOPE)
        return http.post(emu.token_endpoint(tenant), data=form, timeout=10)

    return post
