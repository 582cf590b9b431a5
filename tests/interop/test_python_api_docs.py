"""docs/python-api.md's consumer examples cannot rot: every ``python`` block between the
consumer markers runs here, against the emulator (tokens) and the HTTPS resource stand-in
(its ``*_url = "…"`` lines are pointed at the stand-in, and Key Vault clients are told not to
insist that the vault lives under the challenge's resource domain, which a loopback stand-in
cannot), and each example must have sent the stand-in a token the emulator issued."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from resource_server import Answer, ResourceServer, Seen

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"
URL_LINE = re.compile(r'^(\w+_url) = "https://[^"]+"$', re.M)


def blocks() -> list[str]:
    text = DOC.read_text()
    section = text.split("<!-- consumers:start -->")[1].split("<!-- consumers:end -->")[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def serve(resource: ResourceServer, tenant: str) -> None:
    from azure.keyvault.secrets._shared import http_challenge_cache

    http_challenge_cache.clear()

    def secret(seen: Seen) -> Answer:
        if seen.authorization is None:  # Key Vault's challenge: the vault's tenant and resource
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/{tenant}", '
                f'resource="{resource.url}"'
            )
            return Answer.json({"error": {"code": "Unauthorized"}}, 401, **{
                "WWW-Authenticate": challenge
            })  # fmt: skip
        return Answer.json({"value": "s3cr3t", "id": f"{resource.url}/secrets/db-password/1"})

    listing = (
        '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="'
        f'{resource.url}/contoso/"><Containers /><NextMarker /></EnumerationResults>'
    )
    resource.route("GET", "/secrets/db-password", secret)
    resource.route(
        "GET",
        "/contoso",
        lambda s: Answer(200, listing.encode(), {"Content-Type": "application/xml"}),
    )
    resource.route("GET", "/orders", lambda s: Answer.json([{"id": 1}]))


def test_the_docs_have_a_block_per_consumer() -> None:
    joined = "\n".join(blocks())
    for consumer in ("azure.keyvault.secrets import", ".aio import", "GraphServiceClient",
                     "BearerAuth", "HttpxBearerAuth"):  # fmt: skip
        assert consumer in joined


@pytest.mark.parametrize("index", range(len(blocks())))
def test_docs_block_runs(
    index, emulator, cred, resource, trust_bundle, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(trust_bundle))  # aiohttp and httpx trust it too
    serve(resource, cred.context.tenant_id)
    code = URL_LINE.sub(
        lambda m: (
            f'{m.group(1)} = "{resource.url}' + ('/contoso"' if "account" in m.group(1) else '"')
        ),
        blocks()[index],
    )
    code = re.sub(
        r"SecretClient\(vault_url, credential=(\w+)\)",
        r"SecretClient(vault_url, credential=\1, verify_challenge_resource=False)",
        code,
    )
    emulator.reset()
    exec(compile(code, f"{DOC.name}[block {index}]", "exec"), {"cred": cred, "__name__": "docs"})
    authorized = [seen for seen in resource.seen if seen.authorization]
    if "GraphServiceClient" in code:
        # Graph itself is not contacted: the block asks kiota for the token every request uses.
        issued = [r for r in emulator.requests() if r["endpoint"] == "token"]
        assert len(issued) == 1
        return
    assert authorized, "the example sent no authenticated request"
    for seen in authorized:
        emulator.verify_token(seen.authorization.removeprefix("Bearer "))
    out = capsys.readouterr().out
    assert "s3cr3t" in out or "[]" in out or "'id': 1" in out
