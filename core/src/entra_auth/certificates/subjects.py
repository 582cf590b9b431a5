"""Subject names as admins write them (``CN=app``, ``CN=app, O=Contoso`` or just ``app``) and
how they are compared with a certificate's subject DN.

Graph PowerShell matches ``-CertificateName`` against the subject distinguished name. We accept
the same, compare attribute by attribute without regard to case, spacing or RDN order (people
copy DNs from tools that print them in either order), and treat a bare name or a lone ``CN=`` as
"the certificate whose common name is this".
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from ..errors import CertificateError
from ..records import Record

if TYPE_CHECKING:
    from cryptography import x509

# Attribute names as .NET, OpenSSL and RFC 4514 print them, mapped to one spelling.
_ALIASES = {
    "E": "EMAILADDRESS",
    "EMAIL": "EMAILADDRESS",
    "S": "ST",
    "STREET": "STREET",
    "SN": "SN",
    "SERIALNUMBER": "SERIALNUMBER",
    "OID.2.5.4.3": "CN",
}
_OID_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.5": "SERIALNUMBER",
    "2.5.4.4": "SN",
    "2.5.4.42": "G",
    "2.5.4.12": "T",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "EMAILADDRESS",
}
_SEPARATOR = re.compile(r"(?<!\\)[,;+]")

Pair = tuple[str, str]


class SubjectQuery(Record):
    """A parsed ``--certificate-name``: attribute/value pairs to match."""

    text: str
    pairs: tuple[Pair, ...]

    @property
    def common_name_only(self) -> bool:
        return len(self.pairs) == 1 and self.pairs[0][0] == "CN"

    def matches(self, name: x509.Name) -> bool:
        have = name_pairs(name)
        if self.common_name_only:
            return any(pair == self.pairs[0] for pair in have)
        return Counter(have) == Counter(self.pairs)


def parse_subject(text: str) -> SubjectQuery:
    """Parse ``CN=app``, ``CN=app, O=Contoso`` or a bare ``app`` (meaning ``CN=app``)."""
    raw = str(text).strip()
    if not raw:
        raise CertificateError("--certificate-name is empty; give the subject, e.g. CN=contoso-app")
    if "=" not in raw:
        return SubjectQuery(raw, (("CN", _norm_value(raw)),))
    pairs: list[Pair] = []
    for part in _SEPARATOR.split(raw):
        if not part.strip():
            continue
        attr, sep, value = part.partition("=")
        if not sep or not attr.strip():
            raise CertificateError(
                f"--certificate-name {raw!r} is not a distinguished name; write CN=name or "
                "CN=name, O=organization (as the certificate's Subject shows it)"
            )
        pairs.append((_norm_attr(attr), _norm_value(value)))
    return SubjectQuery(raw, tuple(pairs))


def name_pairs(name: x509.Name) -> list[Pair]:
    return [
        (_OID_NAMES.get(attr.oid.dotted_string, attr.oid.dotted_string), _norm_value(attr.value))
        for attr in name
    ]


def display_name(name: x509.Name) -> str:
    """``CN=app, O=Contoso``: RFC 4514 order and escaping, with PowerShell's ", " separator."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def _norm_attr(attr: str) -> str:
    key = attr.strip().upper()
    return _ALIASES.get(key, key)


def _norm_value(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    text = re.sub(r"\\(.)", r"\1", text)
    return " ".join(text.split()).casefold()
