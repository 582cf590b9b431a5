"""A certificate outside its validity dates is refused locally, with its dates, before any
request: Entra would refuse it anyway, with a less helpful message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cert_helpers import token_requests

import entra_auth
from entra_auth import CertificateError
from entra_auth_emulator.pki import make_leaf_cert


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(-400, -30, "expired on"), (30, 400, "is not valid until")],
    ids=["expired", "not-yet-valid"],
)
def test_a_certificate_file_outside_its_dates_is_refused_before_any_request(
    register_app: Any, tmp_path: Path, emulator: Any, start: int, end: int, expected: str
) -> None:
    now = datetime.now(UTC)
    cert = make_leaf_cert(
        "CN=dated", not_before=now + timedelta(days=start), not_after=now + timedelta(days=end)
    )
    app = register_app(certificates=[cert])
    path = cert.write_pem(tmp_path / "dated.pem")
    before = len(token_requests(emulator, app.tenant_id))
    with pytest.raises(CertificateError, match=expected) as caught:
        entra_auth.connect("cert-object", **app.options(), certificate_path=str(path))
    assert cert.thumbprint in str(caught.value)
    assert len(token_requests(emulator, app.tenant_id)) == before
