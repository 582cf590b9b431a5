"""``entra-auth request [METHOD] URL``: call Microsoft Graph with the connection, as
``Invoke-MgGraphRequest`` and ``az rest`` do.

A relative URL (``/v1.0/groups``) goes to the Graph endpoint of the connection's environment;
an absolute ``https://`` URL gets a token for its own host. The work is core's
``entra_auth.graph.GraphClient``; this module parses the command line and prints.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .output import echo, format_list, format_table, to_json
from .sessions import (
    DEFAULT_TIMEOUT,
    ProfileOption,
    TimeoutOption,
    chosen_profile,
    request_for,
    within,
)

if TYPE_CHECKING:
    from entra_auth.graph import GraphResponse

BODY_LIMIT = 4 * 1024 * 1024
MAX_COLUMNS = 6
_FIRST_COLUMNS = ("displayName", "id")


class RequestOutput(enum.StrEnum):
    json = "json"
    table = "table"
    raw = "raw"


def request(
    target: Annotated[
        list[str],
        typer.Argument(
            metavar="[METHOD] URL",
            help="GET (default), POST, PUT, PATCH, DELETE or HEAD, then the URL: a Graph path "
            "such as /v1.0/groups, or a full https:// URL.",
            show_default=False,
        ),
    ],
    body: Annotated[
        str | None,
        typer.Option(
            "--body",
            metavar="JSON|@FILE",
            help="Request body: JSON text, @FILE to read it from a file, or @- for stdin.",
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            metavar="NAME:VALUE",
            help="Extra request header (repeatable), e.g. ConsistencyLevel:eventual.",
        ),
    ] = None,
    all_pages: Annotated[
        bool,
        typer.Option(
            "--all-pages", help="Follow @odata.nextLink and print every item as one collection."
        ),
    ] = False,
    output: Annotated[
        RequestOutput,
        typer.Option(
            case_sensitive=False,
            help="json (pretty), table (a collection's items as rows), or raw (the body as sent).",
        ),
    ] = RequestOutput.json,
    profile: ProfileOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Call Microsoft Graph (or another API Entra protects) with the connection's token, like
    Invoke-MgGraphRequest: entra-auth request /v1.0/groups."""
    from entra_auth import UsageError
    from entra_auth.connect import open_credential
    from entra_auth.graph import GraphClient

    if len(target) not in (1, 2):
        raise UsageError("give [METHOD] URL: a URL, optionally after the method")
    method, url = ("GET", target[0]) if len(target) == 1 else (target[0], target[1])
    if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
        raise UsageError(
            f"{method!r} is not an HTTP method; give GET, POST, PUT, PATCH, DELETE or HEAD "
            "before the URL"
        )
    headers = _parse_headers(header or [])
    content = _read_body(body) if body is not None else None
    sign_in = request_for(chosen_profile(profile))
    environment = sign_in.environment
    credential = open_credential(
        sign_in, scopes=(environment.default_scope,), fetch_token=False, defer_create=True
    )
    client = GraphClient(credential, environment=environment)
    try:
        # Checked before any sign-in: a bad URL is the user's to fix (exit 2).
        client.resolve(url)
        response = within(
            timeout,
            f"{method.upper()} {url}",
            lambda: client.request(
                method, url, content=content, headers=headers, all_pages=all_pages
            ),
        )
    finally:
        client.close()
        credential.close()
    _print(response, output)


def _parse_headers(values: Sequence[str]) -> dict[str, str]:
    from entra_auth import UsageError

    headers: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header {value!r} is not NAME:VALUE")
        headers[name.strip()] = text.strip()
    return headers


def _read_body(body: str) -> bytes:
    """The body's bytes, checked to be JSON (Graph takes JSON; a typo fails here, exit 2)."""
    from entra_auth import UsageError

    if body == "@-":
        data = sys.stdin.buffer.read(BODY_LIMIT + 1)
        if len(data) > BODY_LIMIT:
            raise UsageError(f"--body @-: more than {BODY_LIMIT // (1024 * 1024)} MiB on stdin")
        where = "stdin"
    elif body.startswith("@"):
        from pathlib import Path

        from entra_auth.files import read_trusted

        path = Path(body[1:]).expanduser()
        data = read_trusted(path, limit=BODY_LIMIT, what="the --body file", error=UsageError)
        where = str(path)
    else:
        data = body.encode("utf-8")
        where = "--body"
    try:
        json.loads(data)
    except (ValueError, RecursionError) as exc:
        detail = str(exc).split("\n")[0] if isinstance(exc, ValueError) else "nested too deep"
        raise UsageError(
            f"{where} is not JSON ({detail}); give JSON text or @FILE holding JSON"
        ) from None
    return data


def _print(response: GraphResponse, output: RequestOutput) -> None:
    if output is RequestOutput.raw:
        if response.content:
            sys.stdout.buffer.write(response.content)
            if not response.content.endswith(b"\n"):
                sys.stdout.buffer.write(b"\n")
            sys.stdout.flush()
        return
    data = response.json
    if data is None:
        if response.content.strip():  # not JSON: show it as it came
            echo(response.text.rstrip("\n"))
        return
    if output is RequestOutput.json:
        echo(to_json(data))
        return
    if isinstance(data, Mapping) and isinstance(data.get("value"), list):
        rows = [row for row in data["value"] if isinstance(row, Mapping)]
        echo(format_table(rows, _columns(rows)))
    elif isinstance(data, Mapping):
        echo(format_list({_title(k): v for k, v in data.items() if not k.startswith("@odata.")}))
    else:
        echo(to_json(data))


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """DisplayName and Id first (as Get-MgGroup shows them), then other simple properties in
    the order Graph sent them, at most MAX_COLUMNS."""
    seen: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key.startswith("@") or isinstance(value, Mapping):
                continue
            seen.setdefault(key)
    keys = [k for k in _FIRST_COLUMNS if k in seen] + [k for k in seen if k not in _FIRST_COLUMNS]
    if not keys and rows:
        keys = list(rows[0])[:1]
    return [(key, _title(key)) for key in keys[:MAX_COLUMNS]]


def _title(key: str) -> str:
    """``displayName`` -> ``DisplayName``, as PowerShell shows Graph's properties."""
    return key[:1].upper() + key[1:]
