"""A managed identity sign-in in a new process loads only what it uses: msal's
``ManagedIdentityClient`` behind the provider's own transport, none of the confidential
client's machinery (``msal_confidential``, OpenID discovery) nor other providers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

from mi_helpers import host_environment, register_identities

WORKER = textwrap.dedent(
    """
    import json, sys
    import entra_auth
    cred = entra_auth.connect("managed-identity", fetch_token=False)
    assert cred.get_token("https://graph.microsoft.com/.default").token
    print(json.dumps(sorted(m for m in sys.modules if m.startswith("entra_auth"))))
    """
)


def test_a_managed_identity_sign_in_imports_no_confidential_client_machinery(
    emulator: Any,
) -> None:
    register_identities(emulator)
    env = {**os.environ, **host_environment(emulator, "IMDS")}

    def run() -> set[str]:
        done = subprocess.run(
            [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return set(json.loads(done.stdout))

    run()  # writes the plugin facts
    loaded = run()
    assert {"entra_auth_managed_identity", "entra_auth.msal_results"} <= loaded
    for module in (
        "entra_auth.msal_confidential",
        "entra_auth.discovery_cache",
        "entra_auth_client_secret",
        "entra_auth.certificates",
    ):
        assert module not in loaded, (module, sorted(loaded))
