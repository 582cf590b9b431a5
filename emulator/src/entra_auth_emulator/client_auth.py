"""Verify an app's credential the way Entra does: secret value, or a signed client assertion.

For an assertion this checks, in Entra's order of concern: that it parses, its algorithm, who it
claims to be (``iss``/``sub``), whom it is for (``aud`` = the token endpoint), when it is valid
(``nbf``/``exp`` with five minutes of clock skew), which key signed it (registered certificate by
``x5t``/``x5t#S256``, or an ``x5c`` chain to a trusted issuer whose leaf has a trusted subject
for subject name + issuer), its size, and the signature itself. A reused ``jti`` is accepted,
as Entra accepts it, unless ``strict_jti`` is on. Assertions from an external issuer go to
:mod:`federation`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from . import errors, jws
from .config import AppRegistration, normalize_subject
from .directory import Directory, certificate_index
from .federation import FederatedVerifier

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW = 300
MIN_RSA_BITS = 2048  # Entra refuses smaller RSA keys

# What verify_directly_issued_by raises when a certificate was not issued by the candidate.
_NOT_ISSUED_BY = (ValueError, TypeError, InvalidSignature)

# Entra's appidacr values.
SECRET = "1"
CERTIFICATE = "2"


def check_secret(app: AppRegistration, *candidates: str) -> str:
    """Compare in constant time against every registered secret; a secret past its
    ``expires`` is refused with AADSTS7000222 (only when the value matched, as Entra does).

    More than one candidate comes from client_secret_basic: RFC 6749 wants the secret
    form-urlencoded inside the header, many clients (requests' HTTPBasicAuth) send it raw.
    """
    matched = expired = False
    now = datetime.now(UTC)
    for candidate in dict.fromkeys(candidates):
        given = candidate.encode("utf-8", "surrogatepass")
        for registered in app.secrets:
            same = hmac.compare_digest(given, registered.value.encode("utf-8"))
            if same and registered.expired(now):
                expired = True
            else:
                matched |= same
    if not matched:
        raise errors.secret_expired(app.client_id) if expired else errors.bad_secret(app.client_id)
    return SECRET


def _thumbprint_header(value: object, size: int) -> bytes | None:
    """Decode an x5t (SHA-1, ``size`` 20) or x5t#S256 (SHA-256, 32) header: base64url, padded
    (as msal sends it) or not. Hex is not accepted (RFC 7515 says base64url, and so does Entra),
    and a digest of the other length is not that header's thumbprint, so a client that gets
    either wrong fails here rather than only at Entra."""
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = jws.b64url_decode(value)
    except jws.MalformedJWS:
        return None
    return raw if len(raw) == size else None


def _x5c_chain(value: object) -> list[x509.Certificate]:
    if not isinstance(value, list) or not value or len(value) > 10:
        raise errors.bad_assertion("[Reason - The x5c header is not a list of certificates.]")
    chain = []
    for item in value:
        if not isinstance(item, str):
            raise errors.bad_assertion("[Reason - The x5c header is not a list of certificates.]")
        try:
            # msal keeps the PEM line breaks inside each x5c entry.
            der = base64.b64decode("".join(item.split()), validate=True)
            chain.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            raise errors.bad_assertion(
                "[Reason - A certificate in the x5c header could not be parsed.]"
            ) from None
    return chain


def _within_validity(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _may_issue(cert: x509.Certificate) -> bool:
    """A CA certificate (basicConstraints CA, and keyCertSign when keyUsage is present).

    x5c is the client's to choose: without this, whoever holds the key of any leaf a trusted
    issuer signed could sign themselves more certificates and present them through that leaf."""
    try:
        extensions = cert.extensions  # parsed lazily: a malformed one raises ValueError here
        if not extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except (x509.ExtensionNotFound, ValueError):
        return False
    try:
        return extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True


def _chain_to_trusted(
    chain: Sequence[x509.Certificate], trusted: Sequence[x509.Certificate]
) -> bool:
    """True when chain[0] leads, through CA certificates in the rest of x5c, to a certificate a
    trusted issuer signed, every certificate on the way being currently valid."""
    now = datetime.now(UTC)
    current = chain[0]
    rest = list(chain[1:])
    for _ in range(len(chain) + 1):
        if not _within_validity(current, now):
            return False
        for issuer in trusted:
            try:
                current.verify_directly_issued_by(issuer)
            except _NOT_ISSUED_BY:
                continue
            return _within_validity(issuer, now)
        for i, candidate in enumerate(rest):
            if not _may_issue(candidate):
                continue
            try:
                current.verify_directly_issued_by(candidate)
            except _NOT_ISSUED_BY:
                continue
            current = rest.pop(i)
            break
        else:
            return False
    return False


def _number(payload: dict[str, object], claim: str) -> float | None:
    """A time claim as a finite number, or None: a value too large for a float (JSON allows
    1e400 and 400-digit integers) must be refused as a bad time, not crash the comparison."""
    value = payload.get(claim)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def normalize_audience(value: str) -> str:
    """An audience URL as compared: case-folded, no trailing slash, no explicit default port
    (``https://host:443/t/oauth2/v2.0/token`` is the same endpoint as without ``:443``)."""
    text = value.strip().lower().rstrip("/")
    scheme, sep, rest = text.partition("://")
    if sep:
        host, slash, path = rest.partition("/")
        if (scheme, host.rpartition(":")[2]) in (("https", "443"), ("http", "80")):
            host = host.rpartition(":")[0]
        text = f"{scheme}://{host}{slash}{path}"
    return text


def _audience_matches(aud: object, audiences: Sequence[str]) -> bool:
    aud_values = aud if isinstance(aud, list) else [aud]
    wanted = {normalize_audience(a) for a in audiences}
    return any(isinstance(a, str) and normalize_audience(a) in wanted for a in aud_values)


def _check_time(payload: dict[str, object]) -> float:
    """``exp`` (returned) and ``nbf`` within five minutes of clock skew, else AADSTS700024."""
    now = int(time.time())
    exp, nbf = _number(payload, "exp"), _number(payload, "nbf")
    bad_nbf = nbf is None and "nbf" in payload  # present but not a usable number
    if exp is None or exp < now - CLOCK_SKEW or bad_nbf or (nbf or 0) > now + CLOCK_SKEW:
        raise errors.assertion_time_range(now, nbf, exp)
    return exp


def _check_key_size(cert: x509.Certificate, shown_tp: str) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise errors.bad_assertion(
            f"[Reason - The key size {key.key_size} is too small; RSA keys must be at least "
            f"{MIN_RSA_BITS} bits., Thumbprint of key used by client: '{shown_tp}']"
        )


def _subject_names(cert: x509.Certificate) -> list[str]:
    names = [cert.subject.rfc4514_string()]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [str(v) for v in san.get_values_for_type(x509.DNSName)]
    except (x509.ExtensionNotFound, ValueError):
        pass
    return names


def check_assertion(
    *,
    app: AppRegistration,
    assertion: str,
    assertion_type: str,
    client_id: str,
    audiences: Sequence[str],
    directory: Directory,
    federation: FederatedVerifier | None = None,
    log: dict[str, object] | None = None,
) -> str:
    """Verify a client assertion for ``app``; return the appidacr or raise an EntraError.

    An assertion whose ``iss`` is the app itself is signed with the app's certificate; one whose
    ``iss`` is an https URL is a token from an external identity provider, checked against the
    app's federated identity credentials."""
    if assertion_type != JWT_BEARER:
        raise errors.bad_assertion_type(assertion_type)
    try:
        token = jws.parse(assertion)
    except jws.MalformedJWS as exc:
        raise errors.bad_assertion(f"[Reason - The assertion is not a valid JWT: {exc}.]") from None
    header, payload = token.header, token.payload
    alg = header.get("alg")
    if alg not in jws.SUPPORTED_ALGORITHMS:
        raise errors.bad_assertion(
            f"[Reason - The algorithm '{alg}' is not supported; use RS256 or PS256.]"
        )

    iss, sub = payload.get("iss"), payload.get("sub")
    if isinstance(iss, str) and iss.lower() != client_id.lower() and iss.startswith("https://"):
        if federation is None:
            raise errors.no_federated_record(iss, sub, payload.get("aud"))
        if log is not None:
            log["credential"] = "federated"
        federation.match(app, token)
        _check_time(payload)
        federation.verify_signature(token)
        _record_jti(directory, app, payload, required=False)
        return CERTIFICATE
    if not (isinstance(iss, str) and iss.lower() == client_id.lower()):
        raise errors.assertion_subject()
    if sub != iss:
        raise errors.subject_not_issuer(client_id)

    if not _audience_matches(payload.get("aud"), audiences):
        raise errors.assertion_audience(payload.get("aud"))

    _check_time(payload)

    sha256_tp = _thumbprint_header(header.get("x5t#S256"), 32)
    sha1_tp = _thumbprint_header(header.get("x5t"), 20)
    wanted_tp = sha256_tp or sha1_tp
    raw_header_tp = header.get("x5t#S256") or header.get("x5t")
    shown_tp = (
        wanted_tp.hex().upper()
        if wanted_tp
        else (raw_header_tp if isinstance(raw_header_tp, str) else "(none)")
    )

    registered = certificate_index(app.certificates)
    cert = registered.get(wanted_tp) if wanted_tp else None
    if cert is not None:
        if not _within_validity(cert, datetime.now(UTC)):
            raise errors.bad_assertion(
                f"[Reason - The key used is expired., Thumbprint of key used by client: "
                f"'{shown_tp}', Found key 'Start={cert.not_valid_before_utc:%m/%d/%Y %H:%M:%S}, "
                f"End={cert.not_valid_after_utc:%m/%d/%Y %H:%M:%S}']"
            )
    elif "x5c" in header and app.trusted_issuers:
        chain = _x5c_chain(header["x5c"])
        leaf = chain[0]
        if wanted_tp and wanted_tp not in (
            leaf.fingerprint(hashes.SHA1()),
            leaf.fingerprint(hashes.SHA256()),
        ):
            raise errors.bad_assertion(
                "[Reason - The x5t/x5t#S256 header does not match the first certificate in x5c.]"
            )
        if normalize_subject(leaf.subject) not in app.trusted_subjects:
            raise errors.subject_not_trusted(_subject_names(leaf))
        if not _chain_to_trusted(chain, app.trusted_issuers):
            raise errors.bad_assertion(
                "[Reason - The certificate chain in x5c does not lead to a trusted issuer "
                f"configured for app Id '{app.client_id}', or a certificate in it is not "
                "currently valid.]"
            )
        cert = leaf
    else:
        raise errors.key_not_found(shown_tp, app.client_id)

    _check_key_size(cert, shown_tp)
    if not jws.verify(token, cert.public_key()):
        raise errors.bad_assertion(
            f"[Reason - The signature does not verify with the key of the certificate "
            f"'{shown_tp}'., Thumbprint of key used by client: '{shown_tp}']"
        )
    _record_jti(directory, app, payload, required=True)
    return CERTIFICATE


def _record_jti(
    directory: Directory, app: AppRegistration, payload: dict[str, object], *, required: bool
) -> None:
    """Entra wants a ``jti`` in the app's own assertions; federated tokens need not have one
    (a Kubernetes service account token may not). With ``strict_jti`` a reuse is refused."""
    jti = payload.get("jti")
    if not isinstance(jti, str) or not jti:
        if required:
            raise errors.bad_assertion("[Reason - The assertion has no 'jti' claim.]")
        return
    exp = _number(payload, "exp") or time.time()
    if not directory.record_jti(app.tenant_id, app.client_id, jti, exp):
        raise errors.assertion_replayed()
