"""Property-based tests for the parsers of untrusted input that guard what is sent: IDs, URLs,
scopes, thumbprints and the token claims ``context`` shows. Each answers with a value or an
``EntraAuthError`` (exit 2), whatever it is fed; what passes is safe to put into a URL."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from entra_auth import EntraAuthError, EntraContext, parse_thumbprint
from entra_auth.claims import token_claims
from entra_auth.environments import validate_url
from entra_auth.identifiers import check_client_id, check_scope, check_tenant_id

ANYTHING = st.one_of(
    st.text(),
    st.binary().map(lambda b: b.decode("latin-1")),
    st.integers(),
    st.none(),
    st.lists(st.text(), max_size=3),
    st.floats(allow_nan=True),
)
URL_TEXT = st.one_of(
    st.text(),
    st.builds(
        lambda scheme, user, host, port, path, tail: f"{scheme}://{user}{host}{port}{path}{tail}",
        st.sampled_from(["https", "http", "ftp", "", "HTTPS"]),
        st.sampled_from(["", "user@", "user:pass@", "@"]),
        st.sampled_from(["login.example", "127.0.0.1", "localhost", "[::1]", "", "a..b"]),
        st.sampled_from(["", ":443", ":0", ":99999", ":-1", ":x"]),
        st.sampled_from(["", "/", "/tenant", "/../common"]),
        st.sampled_from(["", "?x=1", "#f", "?", "#"]),
    ),
)


def _outcome(check: Any, value: Any) -> str | None:
    try:
        return check(value)  # type: ignore[no-any-return]
    except EntraAuthError as exc:
        assert "\n" not in str(exc)
        return None


@settings(max_examples=300)
@given(ANYTHING)
@example("contoso\n.onmicrosoft.com")  # a label ending in a newline once passed ``$``
def test_tenant_ids_that_pass_are_safe_in_an_authority_url(value: Any) -> None:
    tenant = _outcome(check_tenant_id, value)
    if tenant is not None:
        assert all(c.isalnum() or c in ".-" for c in tenant)
        assert tenant not in ("common", "organizations", "consumers")
        assert ".." not in tenant and not tenant.startswith(".")


@settings(max_examples=300)
@given(st.one_of(ANYTHING, st.uuids().map(str)))
def test_client_ids_that_pass_are_guids(value: Any) -> None:
    client = _outcome(check_client_id, value)
    if client is not None:
        assert str(uuid.UUID(client)) == client


# What the checks accept, as the patterns they replaced: the checks run without ``re`` (a new
# process should not compile patterns to sign in), and must accept exactly these languages.
GUID_PATTERN = r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SCOPE_PATTERN = r"[\x21-\x7e]{1,2048}"
NEAR_MISSES = "0123456789abcdefABCDEFgG- \n\t\u0661\uff10\u00e9\x7f"


@st.composite
def guid_like(draw: st.DrawFn) -> str:
    """A GUID, upper or lower case, with up to three characters replaced, added or removed."""
    text = list(draw(st.uuids().map(str).map(draw(st.sampled_from([str.lower, str.upper])))))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.integers(0, len(text)))
        change = draw(st.sampled_from(["replace", "insert", "delete"]))
        if change == "insert":
            text.insert(where, draw(st.sampled_from(NEAR_MISSES)))
        elif text and where < len(text):
            if change == "replace":
                text[where] = draw(st.sampled_from(NEAR_MISSES))
            else:
                del text[where]
    return "".join(text)


@settings(max_examples=500)
@given(st.one_of(guid_like(), st.text(alphabet=NEAR_MISSES, max_size=40)))
@example("22222222-2222-2222-2222-22222222222\u0661")  # a non-ASCII digit
@example("22222222-2222-2222-2222-222222222222\n")  # stripped, as the check strips
def test_the_guid_check_accepts_exactly_the_guid_pattern(value: str) -> None:
    passed = _outcome(check_client_id, value) is not None
    assert passed == bool(re.fullmatch(GUID_PATTERN, value.strip()))
    if passed:  # a tenant GUID is checked alike
        assert check_tenant_id(value) == value.strip().lower()


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(alphabet=NEAR_MISSES + "/.:~!", max_size=12),
        st.text(max_size=12),
        st.integers(2040, 2056).map(lambda n: "x" * n),
    )
)
@example("")
@example("https://graph.microsoft.com/.default\n")
def test_the_scope_check_accepts_exactly_the_scope_pattern(value: str) -> None:
    passed = _outcome(check_scope, value) is not None
    assert passed == bool(re.fullmatch(SCOPE_PATTERN, value))


@settings(max_examples=300)
@given(URL_TEXT)
def test_urls_that_pass_name_a_host_over_https_or_loopback_only(value: str) -> None:
    from urllib.parse import urlsplit

    url = _outcome(lambda v: validate_url(v, "authority host"), value)
    if url is None:
        return
    parts = urlsplit(url)
    assert parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost", "::1")
    assert parts.username is None and parts.password is None
    assert not parts.query and not parts.fragment and not parts.path.strip("/")
    assert parts.port is None or 0 < parts.port < 65536


@settings(max_examples=200)
@given(ANYTHING)
def test_scopes_and_thumbprints_answer_a_value_or_a_clear_error(value: Any) -> None:
    scope = _outcome(check_scope, value)
    if scope is not None:
        assert " " not in scope and scope
    _outcome(lambda v: parse_thumbprint(v).hex, value)


def _jwt(payload: bytes) -> str:
    encode = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(b'{}')}.{encode(payload)}.sig"


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
            lambda children: st.one_of(
                st.lists(children, max_size=3), st.dictionaries(st.text(), children, max_size=4)
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {},
            optional={
                "appid": ANYTHING,
                "azp": ANYTHING,
                "tid": ANYTHING,
                "roles": ANYTHING,
                "app_displayname": ANYTHING,
            },
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_the_claims_context_shows_never_crash_on_a_strange_token(payload: bytes) -> None:
    """A token from a misbehaving endpoint becomes a context or nothing, never a crash."""
    claims = token_claims(_jwt(payload))
    assert isinstance(claims, dict)
    shown = EntraContext(client_id="c").with_claims(claims).as_dict()
    json.dumps(shown, default=str)  # what `context --output json` does
