"""docs/emulator.md documents every CLI option, config key, fault key, fault endpoint and AADSTS
code the emulator uses (a test fails when something new is left undocumented)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entra_auth_emulator import config, errors, faults, managed_identity, service
from entra_auth_emulator.__main__ import build_parser

DOC = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text()


def cli_options() -> list[str]:
    return [
        o
        for a in build_parser()._actions
        for o in a.option_strings
        if o.startswith("--") and o != "--help"
    ]


@pytest.mark.parametrize(
    "name",
    [
        *cli_options(),
        *sorted(
            config.APP_KEYS
            | config.MI_KEYS
            | config.TENANT_KEYS
            | config.RESOURCE_KEYS
            | config.FEDERATED_KEYS
            | config.SECRET_KEYS
            | config.TOP_LEVEL_KEYS
        ),
        *sorted(faults._KEYS),
        *faults.ENDPOINTS,
        "/_emulator/requests",
        "/_emulator/faults",
        "/_emulator/reset",
        "/_emulator/federated-token",
        "/_emulator/apps",
        "/_emulator/tenants",
        "/_emulator/managed-identities",
        "/_emulator/resources",
        "oidc_issuer",
        "authority_host",
        "ca_bundle",
        "imds_endpoint",
        "identity_endpoint",
        "identity_header",
        "pid",
        "entra_emulator",
        "Differences from Entra ID",
    ],
)
def test_documented(name: str) -> None:
    if name.startswith("/"):
        assert f" {name}`" in DOC, name  # as in `GET /_emulator/requests`
    else:
        assert f"`{name}`" in DOC or f"## {name}" in DOC, name


@pytest.mark.parametrize(
    "code",
    sorted(
        set(re.findall(r"\b(\d{5,7}),", Path(errors.__file__).read_text()))
        | set(re.findall(r"\b(\d{5,7}),", Path(service.__file__).read_text()))
        | set(re.findall(r"AADSTS(\d{5,7})", Path(managed_identity.__file__).read_text()))
    ),
)
def test_aadsts_codes_documented(code: str) -> None:
    assert code in DOC, code
