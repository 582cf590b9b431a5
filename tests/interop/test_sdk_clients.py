"""Real Azure SDK and Graph SDK clients, given an entra-auth credential, against the emulator
(tokens) and a local HTTPS stand-in for the resource: each test checks the bearer token the
resource really received, and what the emulator says that token is for."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from pathlib import Path

import pytest
from resource_server import Answer, ResourceServer, Seen

import entra_auth
from entra_auth.aio import AsyncEntraCredential

GRAPH = "https://graph.microsoft.com/.default"
VAULT = "https://vault.azure.net/.default"
STORAGE = "https://storage.azure.com/.default"


def bearer(seen: Seen) -> str:
    assert seen.authorization is not None and seen.authorization.startswith("Bearer ")
    token = seen.authorization.removeprefix("Bearer ")
    assert token, "an empty bearer token was sent"
    return token


def vault_routes(resource: ResourceServer, tenant: str) -> None:
    """Key Vault's dance: 401 with a challenge naming tenant and resource, then the secret."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    http_challenge_cache.clear()  # process-wide, keyed by vault URL: this test's challenge

    def get_secret(seen: Seen) -> Answer:
        if seen.authorization is None:
            return Answer.json(
                {"error": {"code": "Unauthorized", "message": "AKV10000"}},
                401,
                **{
                    "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/'
                    f'{tenant}", resource="https://vault.azure.net"'
                },
            )
        return Answer.json(
            {
                "value": "s3cr3t-value",
                "id": f"{resource.url}/secrets/db-password/0123456789abcdef",
                "attributes": {"enabled": True},
            }
        )

    resource.route("GET", "/secrets/db-password", get_secret)


def test_msgraph_sdk_sends_the_bearer_token(emulator, cred, resource, trust_bundle) -> None:
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    resource.route("GET", "/v1.0/users", lambda seen: Answer.json({"value": []}))

    async def main() -> int:
        auth = AzureIdentityAuthenticationProvider(
            cred, scopes=[GRAPH], allowed_hosts=["127.0.0.1"]
        )
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(trust_bundle)))
        )
        adapter = GraphRequestAdapter(auth, client=http)
        adapter.base_url = f"{resource.url}/v1.0"
        users = await GraphServiceClient(request_adapter=adapter).users.get()
        return len(users.value or []) if users else -1

    assert asyncio.run(main()) == 0
    [seen] = resource.seen
    claims = emulator.verify_token(bearer(seen))
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == cred.context.client_id


def test_msgraph_sdk_with_the_async_credential(emulator, cred, resource, trust_bundle) -> None:
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    resource.route("GET", "/v1.0/users", lambda seen: Answer.json({"value": []}))

    async def main() -> None:
        async with AsyncEntraCredential(cred) as acred:
            auth = AzureIdentityAuthenticationProvider(
                acred, scopes=[GRAPH], allowed_hosts=["127.0.0.1"]
            )
            http = GraphClientFactory.create_with_default_middleware(
                client=httpx.AsyncClient(
                    verify=ssl.create_default_context(cafile=str(trust_bundle))
                )
            )
            adapter = GraphRequestAdapter(auth, client=http)
            adapter.base_url = f"{resource.url}/v1.0"
            client = GraphServiceClient(request_adapter=adapter)
            await client.users.get()
            await client.users.get()

    asyncio.run(main())
    first, second = resource.seen
    assert bearer(first) == bearer(second)  # the second came from the cache
    assert emulator.verify_token(bearer(first))["aud"] == "https://graph.microsoft.com"


def test_key_vault_secret_client_answers_the_challenge(
    emulator, cred, resource, trust_bundle
) -> None:
    from azure.keyvault.secrets import SecretClient

    vault_routes(resource, cred.context.tenant_id)
    client = SecretClient(
        resource.url,
        cred,
        verify_challenge_resource=False,  # the stand-in is not under vault.azure.net
        connection_verify=str(trust_bundle),
    )
    assert client.get_secret("db-password").value == "s3cr3t-value"
    unauthenticated, authenticated = resource.seen
    assert unauthenticated.authorization is None
    claims = emulator.verify_token(bearer(authenticated))
    assert claims["aud"] == "https://vault.azure.net"
    assert claims["tid"] == cred.context.tenant_id


def test_key_vault_challenge_for_another_allowed_tenant(
    emulator, interop_env, secret_app, resource, trust_bundle, monkeypatch
) -> None:
    """The vault lives in another tenant where the app also exists (a multi-tenant app): the
    token comes from the challenged tenant, because that tenant is allowed."""
    from azure.keyvault.secrets import SecretClient

    other = str(uuid.uuid4())
    emulator.register_app(other, secret_app.client_id, secrets=[secret_app.secret])
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    cred = entra_auth.connect(
        "client-secret",
        client_id=secret_app.client_id,
        tenant_id=secret_app.tenant_id,
        client_secret="env:APP_SECRET",
        additionally_allowed_tenants=[other],
    )
    vault_routes(resource, other)
    client = SecretClient(
        resource.url, cred, verify_challenge_resource=False, connection_verify=str(trust_bundle)
    )
    assert client.get_secret("db-password").value == "s3cr3t-value"
    assert emulator.verify_token(bearer(resource.seen[-1]))["tid"] == other


def test_key_vault_challenge_for_a_tenant_not_allowed_sends_nothing(
    emulator, cred, resource, trust_bundle
) -> None:
    from azure.keyvault.secrets import SecretClient

    emulator.reset()
    vault_routes(resource, str(uuid.uuid4()))
    client = SecretClient(
        resource.url, cred, verify_challenge_resource=False, connection_verify=str(trust_bundle)
    )
    with pytest.raises(entra_auth.TenantNotAllowedError, match="additionally_allowed_tenants"):
        client.get_secret("db-password")
    assert [r for r in emulator.requests() if r["endpoint"] == "token"] == []


def test_key_vault_async_secret_client(emulator, cred, resource, trust_bundle) -> None:
    from azure.keyvault.secrets.aio import SecretClient

    vault_routes(resource, cred.context.tenant_id)

    async def main() -> str:
        async with AsyncEntraCredential(cred) as acred, SecretClient(
            resource.url, acred, verify_challenge_resource=False,
            connection_verify=str(trust_bundle),
        ) as client:  # fmt: skip
            secret = await client.get_secret("db-password")
            return str(secret.value)

    assert asyncio.run(main()) == "s3cr3t-value"
    assert resource.seen[0].authorization is None
    assert emulator.verify_token(bearer(resource.seen[1]))["aud"] == "https://vault.azure.net"


def test_blob_service_client(emulator, cred, resource, trust_bundle) -> None:
    from azure.storage.blob import BlobServiceClient

    listing = (
        '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="'
        f'{resource.url}/devstoreaccount1/"><Containers /><NextMarker /></EnumerationResults>'
    )
    resource.route(
        "GET",
        "/devstoreaccount1",
        lambda seen: Answer(200, listing.encode(), {"Content-Type": "application/xml"}),
    )
    client = BlobServiceClient(
        f"{resource.url}/devstoreaccount1", credential=cred, connection_verify=str(trust_bundle)
    )
    assert list(client.list_containers()) == []
    [seen] = resource.seen
    assert emulator.verify_token(bearer(seen))["aud"] == "https://storage.azure.com"


def test_bearer_token_credential_policy(emulator, cred, resource, trust_bundle) -> None:
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest

    resource.route("GET", "/api", lambda seen: Answer.json({"ok": True}))
    client = PipelineClient(
        resource.url,
        policies=[BearerTokenCredentialPolicy(cred, "api://contoso-api/.default")],
        transport=RequestsTransport(connection_verify=str(trust_bundle)),
    )
    for _ in range(3):
        assert client.send_request(HttpRequest("GET", f"{resource.url}/api")).json() == {"ok": True}
    tokens = {bearer(seen) for seen in resource.seen}
    assert len(tokens) == 1 and len(resource.seen) == 3
    assert emulator.verify_token(tokens.pop())["aud"] == "api://contoso-api"


def test_async_bearer_token_credential_policy(emulator, cred, resource, trust_bundle) -> None:
    from azure.core import AsyncPipelineClient
    from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.core.rest import HttpRequest

    resource.route("GET", "/api", lambda seen: Answer.json({"ok": True}))

    async def main() -> None:
        async with AsyncEntraCredential(cred) as acred:
            client = AsyncPipelineClient(
                resource.url,
                policies=[AsyncBearerTokenCredentialPolicy(acred, "api://contoso-api/.default")],
                transport=AioHttpTransport(connection_verify=str(trust_bundle)),
            )
            async with client:
                url = f"{resource.url}/api"
                responses = await asyncio.gather(
                    *(client.send_request(HttpRequest("GET", url)) for _ in range(5))
                )
                assert all(r.status_code == 200 for r in responses)

    asyncio.run(main())
    assert len(resource.seen) == 5
    assert len({bearer(seen) for seen in resource.seen}) == 1
    mine = [r for r in emulator.requests() if r.get("client_id") == cred.context.client_id]
    assert len([r for r in mine if r["endpoint"] == "token"]) == 1


def test_azure_identity_chained_token_credential(emulator, cred) -> None:
    from azure.core.credentials import AccessToken, AccessTokenInfo
    from azure.identity import ChainedTokenCredential

    chain = ChainedTokenCredential(cred)
    token = chain.get_token(VAULT)
    assert isinstance(token, AccessToken)
    assert emulator.verify_token(token.token)["aud"] == "https://vault.azure.net"
    info = chain.get_token_info(VAULT)
    assert isinstance(info, AccessTokenInfo) and info.token == token.token


def test_azure_identity_async_chained_token_credential(emulator, cred) -> None:
    from azure.core.credentials import AccessTokenInfo
    from azure.identity.aio import ChainedTokenCredential

    async def main() -> tuple[str, AccessTokenInfo]:
        async with ChainedTokenCredential(AsyncEntraCredential(cred)) as chain:
            token = await chain.get_token(STORAGE)
            info = await chain.get_token_info(STORAGE)
            return token.token, info

    token, info = asyncio.run(main())
    assert emulator.verify_token(token)["aud"] == "https://storage.azure.com"
    assert isinstance(info, AccessTokenInfo) and info.token == token


def test_tokens_are_azure_core_types_once_azure_core_is_loaded(cred) -> None:
    from azure.core.credentials import AccessToken, AccessTokenInfo

    token = cred.get_token(GRAPH)
    info = cred.get_token_info(GRAPH)
    assert isinstance(token, AccessToken) and isinstance(token, entra_auth.AccessToken)
    assert isinstance(info, AccessTokenInfo) and isinstance(info, entra_auth.AccessTokenInfo)
    assert token.token not in repr(token) and token.token not in repr(info)


def test_without_azure_core_loaded_nothing_imports_it(
    interop_env, secret_app, tmp_path: Path
) -> None:
    """A process that never loads azure-core gets the structural twins, and azure-core stays
    unloaded (the CLI's start-up and token path never pay for it)."""
    import json
    import subprocess
    import sys

    probe = (
        "import json, sys, entra_auth\n"
        "cred = entra_auth.connect('client-secret', client_id=sys.argv[1], tenant_id=sys.argv[2],"
        " client_secret='env:APP_SECRET')\n"
        "t = cred.get_token(); i = cred.get_token_info()\n"
        "print(json.dumps({'azure': sorted(m for m in sys.modules if m.startswith('azure')),"
        " 'types': [type(t).__module__, type(i).__module__], 'ok': bool(t.token)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, secret_app.client_id, secret_app.tenant_id],
        capture_output=True,
        text=True,
        timeout=60,
        env={**interop_env, "APP_SECRET": secret_app.secret},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "azure": [],
        "types": ["entra_auth.tokens", "entra_auth.tokens"],
        "ok": True,
    }
