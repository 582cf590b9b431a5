"""cert-thumbprint and cert-name: lookup in the stores of DESIGN.md "Certificate lookup", laid
out on disk as their owners write them, and the refusals that say what was seen and why."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from cert_helpers import days, token_requests, tool_store, write_dotnet_store

import entra_auth
from entra_auth import CertificateError, UsageError
from entra_auth.certificates.builtin_stores import builtin_stores
from entra_auth.plugins import build_host
from entra_auth_emulator.pki import make_leaf_cert


def by_thumbprint(app: Any, thumbprint: str, **options: Any) -> entra_auth.EntraCredential:
    return entra_auth.connect(
        "cert-thumbprint", **app.options(), certificate_thumbprint=thumbprint, **options
    )


def by_name(app: Any, subject: str, **options: Any) -> entra_auth.EntraCredential:
    return entra_auth.connect("cert-name", **app.options(), certificate_name=subject, **options)


def cert_path_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *names: str) -> list[Path]:
    folders = [tmp_path / name for name in names]
    for folder in folders:
        folder.mkdir(exist_ok=True)
    monkeypatch.setenv("ENTRA_AUTH_CERT_PATH", os.pathsep.join(map(str, folders)))
    return folders


# -- thumbprint ---------------------------------------------------------------------------


def spaced(hex_: str) -> str:
    return " ".join(hex_[i : i + 2] for i in range(0, len(hex_), 2)).lower()


def coloned(hex_: str) -> str:
    return ":".join(hex_[i : i + 2] for i in range(0, len(hex_), 2))


@pytest.mark.parametrize("form", ["upper", "lower", "spaced", "colons", "sha256"])
def test_thumbprint_in_a_cert_path_folder(
    form: str, register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = register_app(certificates=[app_cert])
    _, second = cert_path_folder(tmp_path, monkeypatch, "empty", "certs")
    app_cert.write_pem(second / "app.pem")
    given = {
        "upper": app_cert.thumbprint,
        "lower": app_cert.thumbprint.lower(),
        "spaced": spaced(app_cert.thumbprint),
        "colons": coloned(app_cert.thumbprint),
        "sha256": app_cert.thumbprint_sha256.lower(),
    }[form]
    cred = by_thumbprint(app, given)
    ctx = cred.context.as_dict()
    assert ctx["CertificateThumbprint"] == app_cert.thumbprint  # upper-case SHA-1 always
    assert ctx["CertificateName"] == "CN=contoso-automation, O=Contoso"
    assert ctx["AuthType"] == "AppOnly"
    assert ctx["AppName"] == app.display_name


def test_thumbprint_in_the_tool_store(register_app, app_cert, isolated_environment) -> None:
    app = register_app(certificates=[app_cert])
    folder = tool_store(isolated_environment)
    app_cert.write_pem(folder / "contoso.crt", include_key=False)
    app_cert.write_key(folder / "contoso.key")
    assert by_thumbprint(app, app_cert.thumbprint).context.certificate_thumbprint == (
        app_cert.thumbprint
    )


def test_thumbprint_in_the_dotnet_store_as_dotnet_writes_it(
    register_app, app_cert, other_cert, isolated_environment
) -> None:
    app = register_app(certificates=[app_cert])
    write_dotnet_store(isolated_environment, other_cert)
    first = write_dotnet_store(isolated_environment, app_cert, with_key=False)
    second = write_dotnet_store(isolated_environment, app_cert)  # the copy with the key
    assert first.name == f"{app_cert.thumbprint}.pfx"
    assert second.name == f"{app_cert.thumbprint}.1.pfx"
    cred = by_thumbprint(app, app_cert.thumbprint)
    assert cred.context.certificate_thumbprint == app_cert.thumbprint


def test_builtin_stores_are_searched_in_design_order(
    isolated_environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_path_folder(tmp_path, monkeypatch, "a", "b")
    names = [store.name for store in build_host(load_entry_points=False).certificate_stores()]
    assert names[0].startswith(f"ENTRA_AUTH_CERT_PATH {tmp_path / 'a'}")
    assert names[1].startswith(f"ENTRA_AUTH_CERT_PATH {tmp_path / 'b'}")
    assert names[2].startswith("entra-auth store ")
    assert str(isolated_environment / ".local/share/entra-auth/certs") in names[2]
    assert names[3].startswith(".NET CurrentUser\\My ")
    assert str(isolated_environment / ".dotnet/corefx/cryptography/x509stores/my") in names[3]
    assert len(builtin_stores()) == 4


def test_first_store_wins_for_the_same_certificate(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_environment
) -> None:
    app = register_app(certificates=[app_cert])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "first")
    app_cert.write_pem(folder / "app.pem")
    write_dotnet_store(isolated_environment, app_cert)
    from entra_auth.certificates import find_certificate, parse_thumbprint

    stores = build_host(load_entry_points=False).certificate_stores()
    found = find_certificate(stores, thumbprint=parse_thumbprint(app_cert.thumbprint))
    assert found.source == str(folder / "app.pem")
    assert by_thumbprint(app, app_cert.thumbprint).context.certificate_thumbprint


@pytest.mark.parametrize("bad", ["12345", "ZZ" * 20, "3A1F" * 11, ""])
def test_malformed_thumbprint_is_refused_before_any_request(
    bad: str, register_app, emulator
) -> None:
    app = register_app()
    with pytest.raises(UsageError) as raised:  # CertificateError, or UsageError when empty
        by_thumbprint(app, bad)
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "40 hex digits" in message and "64 hex digits" in message
    assert token_requests(emulator, app.tenant_id) == []


def test_no_match_names_every_place_and_every_candidate(
    register_app, app_cert, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    app = register_app(certificates=[app_cert])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    expired = make_leaf_cert("CN=old-app", not_before=days(-400), not_after=days(-35))
    future = make_leaf_cert("CN=future-app", not_before=days(10), not_after=days(400))
    expired.write_pem(folder / "expired.pem")
    future.write_pem(folder / "future.pem")
    app_cert.write_pem(folder / "public.pem", include_key=False)  # matches, but no key
    app_cert.write_pem(folder / "locked.crt", include_key=False)
    app_cert.write_key(folder / "locked.key", password="x")  # matches, key encrypted
    (folder / "garbage.pfx").write_bytes(b"not a pfx")
    with pytest.raises(CertificateError) as raised:
        by_thumbprint(app, app_cert.thumbprint)
    message = str(raised.value)
    assert raised.value.exit_code == 2 and "\n" not in message
    assert f"no usable certificate with thumbprint {app_cert.thumbprint}" in message
    assert f"ENTRA_AUTH_CERT_PATH {folder}" in message
    assert "entra-auth store" in message and "(missing)" in message
    assert ".NET CurrentUser\\My" in message
    assert "public.pem: has no private key" in message
    assert f"CN=old-app [{expired.thumbprint}] at {folder / 'expired.pem'}: other thumbprint" in (
        message
    )
    assert "locked.crt: its private key is encrypted; keys in a store must not be" in message
    assert "garbage.pfx: is neither PEM nor PKCS#12" in message
    assert "to fix, put the certificate with its unencrypted private key" in message


def test_no_match_lists_each_matching_candidate_with_its_reason(
    register_app, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    """Three certificates of the subject, none usable: each is named with why, matching ones
    first, dates as UTC."""
    subject = "CN=quarterly-report"
    expired = make_leaf_cert(subject, not_before=days(-400), not_after=days(-20))
    upcoming = make_leaf_cert(subject, not_before=days(3), not_after=days(400))
    keyless = make_leaf_cert(subject, not_before=days(-5), not_after=days(300))
    app = register_app(certificates=[expired, upcoming, keyless])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    expired.write_pem(folder / "expired.pem")
    upcoming.write_pem(folder / "upcoming.pem")
    keyless.write_pem(folder / "keyless.cer", include_key=False)
    make_leaf_cert("CN=unrelated").write_pem(folder / "a-unrelated.pem")
    with pytest.raises(CertificateError) as raised:
        by_name(app, subject)
    message = str(raised.value)

    def utc(moment: Any) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC")

    assert raised.value.exit_code == 2 and "\n" not in message
    assert message.startswith(f"no usable certificate with subject '{subject}'; searched: ")
    reasons = [
        f"[{expired.thumbprint}] at {folder / 'expired.pem'}: expired on "
        f"{utc(expired.certificate.not_valid_after_utc)}",
        f"[{upcoming.thumbprint}] at {folder / 'upcoming.pem'}: not valid until "
        f"{utc(upcoming.certificate.not_valid_before_utc)}",
        f"[{keyless.thumbprint}] at {folder / 'keyless.cer'}: has no private key",
    ]
    for reason in reasons:
        assert reason in message
    unrelated = message.index("CN=unrelated")
    assert all(message.index(reason) < unrelated for reason in reasons)
    assert "a-unrelated.pem: other subject" in message


def test_expired_copies_and_unreadable_neighbours_still_say_expired(
    register_app, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    """One expired certificate, in the .NET store twice (.pfx and .1.pfx), next to a file that
    cannot be read: the message is still "expired on DATE", not a listing."""
    old = make_leaf_cert("CN=old-twice", not_before=days(-400), not_after=days(-2))
    app = register_app(certificates=[old])
    write_dotnet_store(isolated_environment, old, with_key=False)
    write_dotnet_store(isolated_environment, old)
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    (folder / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    with pytest.raises(CertificateError) as raised:
        by_thumbprint(app, old.thumbprint)
    when = old.certificate.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    assert str(raised.value).startswith(f"the certificate with thumbprint {old.thumbprint}")
    assert f"expired on {when}; renew it" in str(raised.value)


def test_the_only_match_expired_says_when(
    register_app, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    old = make_leaf_cert("CN=old-app", not_before=days(-400), not_after=days(-35))
    app = register_app(certificates=[old])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    old.write_pem(folder / "old.pem")
    with pytest.raises(CertificateError) as raised:
        by_thumbprint(app, old.thumbprint)
    message = str(raised.value)
    when = old.certificate.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    assert raised.value.exit_code == 2
    assert f"expired on {when}" in message and "CN=old-app" in message
    assert "renew" in message


# -- subject name -------------------------------------------------------------------------


def test_newest_valid_of_three_wins(
    register_app, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    subject = "CN=nightly-export,O=Contoso"
    expired = make_leaf_cert(subject, not_before=days(-700), not_after=days(-300))
    # The older one expires last, so only NotBefore (not NotAfter, nor store order) picks newest.
    older = make_leaf_cert(subject, not_before=days(-200), not_after=days(900))
    newest = make_leaf_cert(subject, not_before=days(-10), not_after=days(355))
    app = register_app(certificates=[expired, older, newest])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    older.write_pem(folder / "b-older.pem")
    expired.write_pem(folder / "c-expired.pem")
    write_dotnet_store(isolated_environment, newest)
    for given in ("CN=nightly-export", "nightly-export", "cn=Nightly-Export, o=contoso"):
        cred = by_name(app, given)
        assert cred.context.certificate_thumbprint == newest.thumbprint, given
        assert cred.context.certificate_name == "CN=nightly-export, O=Contoso"


def test_not_yet_valid_and_keyless_are_passed_over(
    register_app, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    subject = "CN=renewing-app"
    current = make_leaf_cert(subject, not_before=days(-30), not_after=days(300))
    upcoming = make_leaf_cert(subject, not_before=days(5), not_after=days(400))
    keyless = make_leaf_cert(subject, not_before=days(-1), not_after=days(400))
    app = register_app(certificates=[current, upcoming, keyless])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    current.write_pem(folder / "current.pem")
    upcoming.write_pem(folder / "upcoming.pem")
    keyless.write_pem(folder / "keyless.pem", include_key=False)
    assert by_name(app, subject).context.certificate_thumbprint == current.thumbprint


def test_no_subject_match_lists_other_subjects_and_reasons(
    register_app, app_cert, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    app = register_app(certificates=[app_cert])
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    upcoming = make_leaf_cert("CN=payroll", not_before=days(5), not_after=days(400))
    upcoming.write_pem(folder / "upcoming.pem")
    app_cert.write_pem(folder / "app.pem")
    with pytest.raises(CertificateError) as raised:
        by_name(app, "CN=payroll")
    message = str(raised.value)
    start = upcoming.certificate.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC")
    assert "no usable certificate with subject 'CN=payroll'" in message
    assert f"not valid until {start}" in message
    assert "CN=contoso-automation, O=Contoso" in message and "other subject" in message


def test_ec_certificate_in_a_store_is_passed_over(
    register_app, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    app = register_app()
    (folder,) = cert_path_folder(tmp_path, monkeypatch, "certs")
    make_leaf_cert("CN=ec-app", key_type="ec").write_pem(folder / "ec.pem")
    with pytest.raises(CertificateError, match=r"EC secp256r1 key \(Entra ID needs RSA\)"):
        by_name(app, "CN=ec-app")


def test_a_plugin_store_is_searched_after_core_stores(
    register_app, app_cert, isolated_environment, tmp_path: Path
) -> None:
    """A third-party store registered through the hook, the way a vault plugin would."""
    from entra_auth import hookimpl
    from entra_auth.certificates import StoredCertificate, bundle_from_object

    class VaultStore:
        name = "vault test-vault"

        def __init__(self) -> None:
            self.loads = 0

        def candidates(self):  # type: ignore[no-untyped-def]
            def load():  # type: ignore[no-untyped-def]
                self.loads += 1
                return bundle_from_object(
                    (app_cert.private_key, app_cert.certificate), source=self.name
                )

            yield StoredCertificate("vault://app", app_cert.certificate, load=load)

    store = VaultStore()

    class Plugin:
        @hookimpl
        def entra_auth_register_certificate_stores(self, register):  # type: ignore[no-untyped-def]
            register(store)

    host = build_host([("vault-plugin", Plugin())])
    names = [s.name for s in host.certificate_stores()]
    assert names[-1] == "vault test-vault" and names[0].startswith("entra-auth store")
    app = register_app(certificates=[app_cert])
    cred = entra_auth.connect(
        "cert-thumbprint", plugins=host, **app.options(), certificate_thumbprint=app_cert.thumbprint
    )
    assert cred.context.certificate_thumbprint == app_cert.thumbprint
    assert store.loads == 1
