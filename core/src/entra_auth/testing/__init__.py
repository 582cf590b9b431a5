"""A test kit for plugin authors, as keyring ships ``keyring.testing`` and pytest ships
``pytester``: subclass :class:`ProviderConformance` in your provider's test suite and every
rule core relies on is checked against your provider, offline::

    from entra_auth.testing import ProviderConformance

    class TestVaultProvider(ProviderConformance):
        provider_name = "vault"
        valid_options = {"client_id": "…", "tenant_id": "…", "vault_secret": "env:VAULT_SECRET"}
        secret_environment = {"VAULT_SECRET": "a-secret-value-for-tests"}

The checks need no network: ``create`` must not make requests (they belong in ``acquire``).
"""

from __future__ import annotations

from .conformance import ProviderConformance

__all__ = ["ProviderConformance"]
