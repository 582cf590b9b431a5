"""The plugin authors' conformance kit, applied to our own client-secret provider."""

from __future__ import annotations

from entra_auth.testing import ProviderConformance


class TestClientSecretConformance(ProviderConformance):
    provider_name = "client-secret"
    valid_options = {
        "client_id": "22222222-2222-2222-2222-222222222222",
        "tenant_id": "contoso.onmicrosoft.com",
        "client_secret": "env:CONFORMANCE_SECRET",
    }
    secret_environment = {"CONFORMANCE_SECRET": "conformance-secret-value-1"}
