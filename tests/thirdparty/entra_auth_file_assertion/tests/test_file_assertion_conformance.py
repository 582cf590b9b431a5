"""entra-auth's conformance kit, run against this provider as its author would run it: in an
environment where entra-auth[testing] (pytest, the emulator) and this package are installed.

The behavioural checks sign in with the options of the provider's demo step (an app with a
registered certificate, and a file holding an assertion that certificate signed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from entra_auth import DemoLab
from entra_auth.testing import ProviderConformance


class TestFileAssertion(ProviderConformance):
    provider_name = "file-assertion"

    def extra_secret_values(self, lab: DemoLab, options: Mapping[str, Any]) -> Iterable[str]:
        # The assertion is a credential for as long as it is valid: never shown or logged.
        assertion = Path(options["assertion_file"]).read_text().strip()
        return (assertion, assertion.rsplit(".", 1)[1])
