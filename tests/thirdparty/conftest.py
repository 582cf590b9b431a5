"""tests/thirdparty: a third-party provider package, installed into a fresh virtual environment.

The package folder is what its author would publish (its own pyproject, src and tests); it is
not a workspace member and is not installed in the workspace's environment, so this suite must
not collect it: test_third_party_provider.py runs the package's own tests inside the fresh
environment instead.
"""

import pytest

collect_ignore = ["entra_auth_file_assertion"]


@pytest.fixture(autouse=True, scope="session")
def resources_these_tests_ask_for(emulator) -> None:  # type: ignore[no-untyped-def]
    """Custom APIs the tests request tokens for, registered as Entra needs them (an unknown
    resource is refused with AADSTS500011)."""
    for uri in ("api://contoso-reports", "api://one", "api://two", "api://three"):
        emulator.register_resource(uri, display_name=uri)
