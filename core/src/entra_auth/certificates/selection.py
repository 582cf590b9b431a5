"""Choosing one certificate from the stores, as Graph PowerShell does, and saying why not.

Among the certificates that match (by thumbprint or subject), the newest valid one by NotBefore
wins, so a renewed certificate takes over as soon as it is valid while the old one is still in
the store. Every certificate passed over is remembered with its reason, because "certificate
not found" alone sends admins on a hunt through folders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..errors import CertificateError
from ..records import Record, replace
from .keys import is_rsa, key_kind
from .subjects import SubjectQuery, display_name
from .thumbprints import Thumbprint, fingerprint

if TYPE_CHECKING:
    from .bundle import CertificateBundle
    from .stores import CertificateStore, StoredCertificate

MAX_LISTED = 20
log = logging.getLogger("entra_auth.certificates")


class PassedOver(Record):
    """A certificate that was seen and not used, with why."""

    location: str
    label: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.label} at {self.location}: {self.reason}"
            if self.label
            else (f"{self.location}: {self.reason}")
        )


def find_certificate(
    stores: Iterable[CertificateStore],
    *,
    thumbprint: Thumbprint | None = None,
    subject: SubjectQuery | None = None,
    now: datetime | None = None,
) -> CertificateBundle:
    """The newest valid certificate with a usable RSA key matching ``thumbprint`` or
    ``subject``; ``CertificateError`` (exit 2) naming every place searched and every
    certificate passed over otherwise."""
    if (thumbprint is None) == (subject is None):
        raise ValueError("give exactly one of thumbprint or subject")
    moment = now or datetime.now(UTC)
    searched: list[str] = []
    passed: list[PassedOver] = []
    usable: list[tuple[str, StoredCertificate]] = []
    matched: list[StoredCertificate] = []  # right thumbprint or subject, usable or not
    for store in stores:
        try:
            searched.append(store.name)
            entries = list(store.candidates())
        except Exception as exc:  # a third-party store must not hide the others
            passed.append(PassedOver(str(getattr(store, "name", store)), "", f"failed: {exc}"))
            continue
        for entry in entries:
            cert = entry.certificate
            if cert is not None and _matches(cert, thumbprint, subject):
                matched.append(entry)
            reason = _why_not(entry, thumbprint, subject, moment)
            if reason is None:
                usable.append((str(store.name), entry))
            else:
                passed.append(PassedOver(entry.location, _label(entry), reason))
    # Newest first; sorted() is stable, so on a tie the earlier store wins.
    usable.sort(key=lambda e: e[1].certificate.not_valid_before_utc, reverse=True)  # type: ignore[union-attr]
    for store_name, entry in usable:
        assert entry.load is not None
        try:
            bundle = entry.load()
        except CertificateError as exc:
            passed.append(PassedOver(entry.location, _label(entry), str(exc)))
            continue
        log.debug(
            "certificate %s found in store %s at %s", _label(entry), store_name, entry.location
        )
        return replace(bundle, store=store_name)
    wanted = f"thumbprint {thumbprint}" if thumbprint else f"subject {subject.text!r}"  # type: ignore[union-attr]
    # One certificate (perhaps in several copies, as .NET's .1.pfx), and it has expired.
    if len({entry.certificate for entry in matched}) == 1:
        cert = matched[0].certificate
        assert cert is not None
    else:
        cert = None
    if cert is not None and cert.not_valid_after_utc < moment:
        raise CertificateError(
            f"the certificate with {wanted} ({display_name(cert.subject)}, at "
            f"{matched[0].location}) expired on {_date(cert.not_valid_after_utc)}; renew it, "
            "upload the new certificate to the app registration and put it in a store"
        )
    raise CertificateError(
        f"no usable certificate with {wanted}; searched: {'; '.join(searched) or 'no stores'}; "
        f"seen: {_listing(passed)}; to fix, put the certificate with its unencrypted private "
        "key in one of those stores, or give the file with --certificate PATH"
    )


def _why_not(
    entry: StoredCertificate,
    thumbprint: Thumbprint | None,
    subject: SubjectQuery | None,
    now: datetime,
) -> str | None:
    cert = entry.certificate
    if cert is None:
        return entry.problem or "could not be read"
    if not _matches(cert, thumbprint, subject):
        return "other thumbprint" if thumbprint else "other subject"
    if cert.not_valid_after_utc < now:
        return f"expired on {_date(cert.not_valid_after_utc)}"
    if cert.not_valid_before_utc > now:
        return f"not valid until {_date(cert.not_valid_before_utc)}"
    if not is_rsa(cert.public_key()):
        return f"{key_kind(cert.public_key())} key (Entra ID needs RSA)"
    if entry.load is None:
        return entry.problem or "no private key"
    return None


def _matches(cert: object, thumbprint: Thumbprint | None, subject: SubjectQuery | None) -> bool:
    if thumbprint is not None:
        return thumbprint.matches(cert)  # type: ignore[arg-type]
    assert subject is not None
    return subject.matches(cert.subject)  # type: ignore[attr-defined]


def _label(entry: StoredCertificate) -> str:
    if entry.certificate is None:
        return ""
    return f"{display_name(entry.certificate.subject)} [{fingerprint(entry.certificate)}]"


def _listing(passed: Sequence[PassedOver]) -> str:
    if not passed:
        return "no certificates"
    # Candidates that matched but were unusable matter most; list them first.
    ordered = sorted(passed, key=lambda p: p.reason.startswith("other "))
    shown = "; ".join(str(p) for p in ordered[:MAX_LISTED])
    more = len(ordered) - MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
