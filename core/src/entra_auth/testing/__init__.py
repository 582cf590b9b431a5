"""Conformance kits for plugin authors, as keyring ships ``keyring.testing`` and pytest ships
``pytester``. Install ``entra-auth[testing]`` (pytest and the emulator), subclass a kit in your
test suite, and pytest runs every check against your installed plugin: declarations offline,
behaviour against a real local emulator (``entra_auth_emulator``). A check that does not apply
to your plugin is skipped with the reason; none passes without checking.

A provider (``ProviderConformance``): set ``provider_name``. The behavioural checks sign in
with the options of your provider's first demo step, or with what ``sign_in_options(lab)``
returns::

    from entra_auth.testing import ProviderConformance

    class TestVaultSecretProvider(ProviderConformance):
        provider_name = "vault-secret"

        def sign_in_options(self, lab):
            secret = lab.new_secret()
            app = lab.register_app(secrets=[secret])    # the emulator checks this secret
            lab.set_env("VAULT_TEST_SECRET", secret)    # restored after each check
            return {"client_id": app.client_id, "tenant_id": app.tenant_id,
                    "vault_secret": "env:VAULT_TEST_SECRET"}

It checks the registration (an entry point), the name, summary and ``auth_type``, the option
declarations, that a missing required option and a literal secret are refused before any
request, a real token from the emulator (its request log shows the request), the context
(ClientId, TenantId, AuthType, Scopes, AppName from the token; PowerShell-style keys), that no
secret (the resolved secret options, ``secret_environment``, ``extra_secret_values``) nor the
token shows in reprs or DEBUG logs, that a refusal by the emulator is an ``EntraAuthError``
without secrets in it, and that nothing but loopback is contacted.

A secret scheme (``SecretSchemeConformance``)::

    from entra_auth.testing import SecretSchemeConformance

    class TestVaultScheme(SecretSchemeConformance):
        scheme = "vault"

        def stored_secret(self, tmp_path, monkeypatch):
            monkeypatch.setenv("VAULT_ADDR", start_test_vault(tmp_path))   # your helper
            put_secret("apps/ci", "s3cret-for-tests")
            return "vault:apps/ci", "s3cret-for-tests"

        def missing_reference(self):
            return "vault:apps/no-such-secret"

It checks the registration, the name, summary and form, that the reference resolves through
the plugin host to the stored value, that a missing secret raises ``SecretReferenceError``
naming the reference and no value, and that the scheme's repr shows no value.

A certificate store (``CertificateStoreConformance``)::

    from entra_auth.testing import CertificateStoreConformance
    from entra_auth_emulator.pki import make_leaf_cert

    class TestVaultStore(CertificateStoreConformance):
        store_name = "vault certificates"
        store_options = {"vault_token": "env:VAULT_TOKEN"}

        def store_certificate(self, tmp_path, monkeypatch):
            monkeypatch.setenv("VAULT_TOKEN", "a-token-for-tests")
            cert = make_leaf_cert("CN=store-conformance-1")
            import_into_vault(cert.pfx())                      # your helper
            return cert.thumbprint, "CN=store-conformance-1"

It checks the registration and the name, that ``candidates()`` yields ``StoredCertificate``
objects that load the right certificate, that ``entra_auth.find_certificate`` finds it by
thumbprint and by subject and names your store, and (with entra-auth-cert-thumbprint installed)
a real sign-in with it against the emulator whose context names your store.
"""

from __future__ import annotations

from .conformance import ProviderConformance
from .schemes import SecretSchemeConformance
from .stores import CertificateStoreConformance

__all__ = ["CertificateStoreConformance", "ProviderConformance", "SecretSchemeConformance"]
