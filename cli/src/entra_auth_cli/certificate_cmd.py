"""``entra-auth certificate``: the certificates entra-auth can sign in with, as an admin handles
them in PowerShell (``Get-ChildItem Cert:\\CurrentUser\\My``, ``New-SelfSignedCertificate``,
``Export-Certificate``, ``Import-PfxCertificate``, ``Remove-Item``).

Every registered store is listed (``ENTRA_AUTH_CERT_PATH`` folders, the entra-auth store, the
.NET CurrentUser\\My store, and plugin stores); ``new``, ``import`` and ``remove`` change only
stores that can be written (the entra-auth store and .NET's); exports are the public part only.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .output import Output, data_json, echo, format_list, format_table, note, warn

if TYPE_CHECKING:
    from cryptography import x509

    from entra_auth.certificates.thumbprints import Thumbprint

certificate_app = typer.Typer(
    name="certificate",
    help="Certificates entra-auth can sign in with: list, show, new, import, export, remove.",
    no_args_is_help=True,
)

UPLOAD_HINT = (
    "App registrations > your app > Certificates & secrets > Certificates > Upload certificate"
)


class StoreChoice(enum.StrEnum):
    entra_auth = "entra-auth"
    dotnet = "dotnet"


class KeySize(enum.StrEnum):
    rsa2048 = "2048"
    rsa3072 = "3072"
    rsa4096 = "4096"


class PublicFormat(enum.StrEnum):
    cer = "cer"
    pem = "pem"


StoreOption = Annotated[
    StoreChoice,
    typer.Option(
        "--store",
        case_sensitive=False,
        help="entra-auth: $XDG_DATA_HOME/entra-auth/certs; dotnet: .NET's CurrentUser\\My "
        "(~/.dotnet/corefx/cryptography/x509stores/my), which PowerShell 7 uses.",
    ),
]
ThumbprintArgument = Annotated[
    str,
    typer.Argument(metavar="THUMBPRINT", help="SHA-1 (40 hex digits) or SHA-256 (64)."),
]


@dataclass(frozen=True)
class Seen:
    """One certificate in one store."""

    store: str
    store_object: Any
    location: str
    certificate: x509.Certificate
    has_key: bool

    def row(self) -> dict[str, Any]:
        from entra_auth.certificates.subjects import display_name
        from entra_auth.certificates.thumbprints import fingerprint

        cert = self.certificate
        return {
            "Thumbprint": fingerprint(cert),
            "Subject": display_name(cert.subject),
            "NotBefore": _time(cert.not_valid_before_utc),
            "NotAfter": _time(cert.not_valid_after_utc),
            "HasPrivateKey": self.has_key,
            "Store": self.store,
            "Path": self.location,
        }


# -- reading ------------------------------------------------------------------------------


def _store_label(store: object) -> str:
    return str(getattr(store, "label", None) or getattr(store, "name", store))


def _everything(*, report: bool = True) -> Iterator[Seen]:
    """Every certificate of every registered store; unreadable entries as warnings."""
    from entra_auth.plugins import get_host

    for plugin, store in get_host().store_plugins():
        label = _store_label(store)
        try:
            entries = list(store.candidates())
        except Exception as exc:  # a plugin store must not hide the others
            if report:
                warn(f"certificate store {label} ({plugin}) failed: {exc}")
            continue
        for entry in entries:
            if entry.certificate is None:
                if report:
                    warn(f"{entry.location}: {entry.problem or 'could not be read'}")
                continue
            yield Seen(label, store, entry.location, entry.certificate, entry.load is not None)


def _thumbprint(text: str) -> Thumbprint:
    from entra_auth import CertificateError
    from entra_auth.certificates.thumbprints import ACCEPTED_FORMS, parse_thumbprint

    try:
        return parse_thumbprint(text)
    except CertificateError:
        raise CertificateError(
            f"{text[:80]!r} is not a thumbprint; give {ACCEPTED_FORMS}"
        ) from None


def _matching(thumbprint: Thumbprint) -> list[Seen]:
    found = [s for s in _everything(report=False) if thumbprint.matches(s.certificate)]
    if not found:
        from entra_auth import CertificateError

        stores = ", ".join(_store_label(s) for _, s in _stores())
        raise CertificateError(
            f"no certificate with thumbprint {thumbprint} in any store ({stores}); see "
            "'entra-auth certificate list'"
        )
    return found


def _stores() -> list[tuple[str, Any]]:
    from entra_auth.plugins import get_host

    return list(get_host().store_plugins())


def _writable_store(choice: StoreChoice) -> Any:
    from entra_auth import CertificateError
    from entra_auth.certificates.builtin_stores import TOOL_STORE_LABEL
    from entra_auth.certificates.stores import DotNetStore, is_writable

    for _plugin, store in _stores():
        if choice is StoreChoice.dotnet and isinstance(store, DotNetStore):
            return store
        label = getattr(store, "label", "")
        if choice is StoreChoice.entra_auth and label == TOOL_STORE_LABEL and is_writable(store):
            return store
    raise CertificateError(f"the {choice.value} certificate store is not available")


def _time(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- commands -----------------------------------------------------------------------------


@certificate_app.command("list")
def list_certificates(
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject", metavar="SUBJECT", help="Only certificates with this subject (CN=…)."
        ),
    ] = None,
    valid_only: Annotated[
        bool,
        typer.Option(
            "--valid-only",
            help="Only certificates valid now (NotBefore..NotAfter) with their private key: "
            "those a sign-in could use.",
        ),
    ] = False,
    output: Annotated[Output, typer.Option(case_sensitive=False, help="table or json.")] = (
        Output.table
    ),
) -> None:
    """Every certificate in every store, as Get-ChildItem Cert:\\CurrentUser\\My shows them."""
    from datetime import UTC, datetime

    query = None
    if subject is not None:
        from entra_auth import CertificateError
        from entra_auth.certificates.subjects import parse_subject

        try:
            query = parse_subject(subject)
        except CertificateError:
            raise CertificateError(
                f"--subject {subject!r} is not a subject; write CN=name or CN=name, O=org"
            ) from None
    now = datetime.now(UTC)
    rows = []
    for seen in _everything():
        cert = seen.certificate
        if query is not None and not query.matches(cert.subject):
            continue
        if valid_only and not (
            seen.has_key and cert.not_valid_before_utc <= now <= cert.not_valid_after_utc
        ):
            continue
        rows.append(seen.row())
    if output is Output.json:
        echo(data_json(rows))
        return
    columns = [
        ("Thumbprint", "Thumbprint"),
        ("Subject", "Subject"),
        ("NotBefore", "NotBefore"),
        ("NotAfter", "NotAfter"),
        ("HasPrivateKey", "HasPrivateKey"),
        ("Store", "Store"),
        ("Path", "Path"),
    ]
    if rows:
        echo(format_table(rows, columns))
    else:
        note("no certificates" + (" match" if query or valid_only else " in any store"))


@certificate_app.command("show")
def show(
    thumbprint: ThumbprintArgument,
    output: Annotated[Output, typer.Option(case_sensitive=False, help="table or json.")] = (
        Output.table
    ),
) -> None:
    """One certificate (every copy of it), with issuer, serial number, key and usages."""
    found = _matching(_thumbprint(thumbprint))
    details = [_details(seen) for seen in found]
    if output is Output.json:
        echo(data_json(details))
    else:
        echo("\n\n".join(format_list(d) for d in details))


def _details(seen: Seen) -> dict[str, Any]:
    from cryptography import x509

    from entra_auth.certificates.keys import key_kind
    from entra_auth.certificates.subjects import display_name
    from entra_auth.certificates.thumbprints import fingerprint

    cert = seen.certificate
    key = cert.public_key()
    usages: list[str] = []
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        for name in ("digital_signature", "key_encipherment", "key_cert_sign"):
            if getattr(ku, name):
                usages.append("".join(p.title() for p in name.split("_")))
    except x509.ExtensionNotFound:
        pass
    row = seen.row()
    return {
        "Subject": row["Subject"],
        "Issuer": display_name(cert.issuer),
        "Thumbprint": row["Thumbprint"],
        "ThumbprintSHA256": fingerprint(cert, "sha256"),
        "SerialNumber": format(cert.serial_number, "X"),
        "NotBefore": row["NotBefore"],
        "NotAfter": row["NotAfter"],
        "HasPrivateKey": seen.has_key,
        "PublicKey": key_kind(key),
        "KeyUsage": usages,
        "SignatureAlgorithm": getattr(cert.signature_hash_algorithm, "name", "").upper(),
        "Store": seen.store,
        "Path": seen.location,
    }


@certificate_app.command("new")
def new(
    subject: Annotated[
        str,
        typer.Option("--subject", metavar="CN=NAME", help="Subject, e.g. CN=contoso-automation."),
    ],
    months: Annotated[
        int, typer.Option("--months", min=1, max=120, help="Validity in months.")
    ] = 12,
    key_size: Annotated[
        KeySize, typer.Option("--key-size", help="RSA key size in bits.")
    ] = KeySize.rsa2048,
    store: StoreOption = StoreChoice.entra_auth,
) -> None:
    """Create a self-signed certificate for an app registration (New-SelfSignedCertificate):
    the key goes into a store (0600), the public part into ./NAME.cer and ./NAME.pem."""
    from entra_auth import CertificateError
    from entra_auth.certificates.create import file_stem, new_self_signed, subject_name

    name = subject_name(subject)
    stem = file_stem(name)
    targets = [Path.cwd() / f"{stem}.cer", Path.cwd() / f"{stem}.pem"]
    existing = [str(t) for t in targets if t.exists() or t.is_symlink()]
    if existing:
        raise CertificateError(
            f"{existing[0]} already exists; move it away or run the command in another folder"
        )
    target = _writable_store(store)
    certificate, key = new_self_signed(subject, months=months, key_size=int(key_size.value))
    location = target.add(certificate, key)
    written = _write_public(certificate, targets)
    _announce(certificate, location, _store_label(target), written)


@certificate_app.command("import")
def import_certificate(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A .pfx/.p12, or a .pem holding the key too."),
    ],
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            metavar="REF",
            help="Reference to the file's password: env:NAME, file:PATH, keyring:SERVICE/NAME, "
            "prompt or stdin (never the password itself).",
        ),
    ] = None,
    store: StoreOption = StoreChoice.entra_auth,
) -> None:
    """Copy a certificate with its private key into a store (Import-PfxCertificate); the key
    is stored unencrypted, 0600, so lookups need no password."""
    from entra_auth import CertificateError
    from entra_auth.certificates.files import read_certificate_file

    secret = None
    if password is not None:
        from entra_auth.plugins import get_host
        from entra_auth.secret_references import check_reference

        check_reference(password, "password")
        secret = get_host().resolve_secret(password)
    parsed = read_certificate_file(file, password=secret)
    if parsed.private_key is None:
        raise CertificateError(
            f"{file} holds no usable private key ({parsed.key_problem or 'none found'}); "
            "import needs the certificate with its key (a .pfx, or a .pem with the key)"
        )
    bundle = parsed.bundle(str(file))
    target = _writable_store(store)
    location = target.add(bundle.certificate, bundle.private_key, bundle.chain)
    _announce(bundle.certificate, location, _store_label(target), [])


@certificate_app.command("export")
def export(
    thumbprint: ThumbprintArgument,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Where to write (default ./NAME.cer or .pem; - for stdout).",
        ),
    ] = None,
    form: Annotated[
        PublicFormat,
        typer.Option(
            "--format", case_sensitive=False, help="cer: DER, what the portal takes; pem: text."
        ),
    ] = PublicFormat.cer,
) -> None:
    """Write the public certificate (never the key) for uploading to the app registration."""
    from entra_auth import CertificateError
    from entra_auth.certificates.create import file_stem, public_bytes

    seen = _matching(_thumbprint(thumbprint))[0]
    data = public_bytes(seen.certificate, "pem" if form is PublicFormat.pem else "cer")
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = (
        Path(out).expanduser()
        if out
        else Path.cwd() / f"{file_stem(seen.certificate.subject)}.{form.value}"
    )
    if target.is_dir():
        raise CertificateError(f"--out {target} is a folder; name the file")
    written = _write_public(seen.certificate, [target], form=form.value)
    echo(written[0])


@certificate_app.command("remove")
def remove(
    thumbprint: ThumbprintArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a certificate and its key from the stores entra-auth may change."""
    from entra_auth import CertificateError
    from entra_auth.certificates.stores import is_writable

    wanted = _thumbprint(thumbprint)
    found = _matching(wanted)
    changeable = [s for s in found if is_writable(s.store_object)]
    if not changeable:
        where = "; ".join(f"{s.store} ({s.location})" for s in found)
        raise CertificateError(
            f"the certificate {wanted} is only in stores entra-auth does not change: {where}; "
            "delete the file yourself"
        )
    subject = Seen.row(changeable[0])["Subject"]
    places = ", ".join(s.location for s in changeable)
    if not yes:
        if not sys.stdin.isatty():
            raise CertificateError(
                f"removing {wanted} ({subject}) needs confirmation; add --yes to remove "
                "without a question"
            )
        if not typer.confirm(f"Remove {subject} [{wanted}] from {places}?", default=False):
            note("nothing removed")
            raise typer.Exit(1)
    removed: list[str] = []
    stores = {id(s.store_object): s.store_object for s in changeable}
    for store_object in stores.values():
        removed.extend(store_object.remove(wanted))
    for path in removed:
        note(f"removed {path}")
    others = [s for s in found if not is_writable(s.store_object)]
    for seen in others:
        warn(f"a copy stays in {seen.store} ({seen.location}), which entra-auth does not change")


# -- shared -------------------------------------------------------------------------------


def _write_public(
    certificate: x509.Certificate, targets: list[Path], form: str | None = None
) -> list[str]:
    from entra_auth.certificates.create import public_bytes
    from entra_auth.files import atomic_write_bytes

    written = []
    for target in targets:
        kind = form or target.suffix.lstrip(".").lower()
        data = public_bytes(certificate, "pem" if kind == "pem" else "cer")
        # Public, meant to be uploaded: readable like any document, still written atomically.
        atomic_write_bytes(target, data, mode=0o644, what="public certificate")
        written.append(str(target))
    return written


def _announce(
    certificate: x509.Certificate, location: str, store: str, public_files: list[str]
) -> None:
    """The thumbprint on stdout (for scripts); what was done and the next step on stderr."""
    from entra_auth.certificates.subjects import display_name
    from entra_auth.certificates.thumbprints import fingerprint

    thumbprint = fingerprint(certificate)
    echo(thumbprint)
    note(f"Subject    : {display_name(certificate.subject)}")
    note(f"NotAfter   : {_time(certificate.not_valid_after_utc)}")
    note(f"Store      : {store} ({location})")
    if public_files:
        note(f"Public     : {', '.join(public_files)}")
        upload = Path(public_files[0]).name
    else:
        upload = "the .cer from 'entra-auth certificate export " + thumbprint + "'"
    note(
        f"Next step  : upload {upload} in the Azure portal ({UPLOAD_HINT}), then sign in with "
        "this thumbprint (see 'entra-auth connect --help')."
    )
