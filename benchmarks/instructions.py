"""Instructions a fresh process runs for its first token, counted by valgrind's callgrind:
entra-auth, msal alone and azure-identity, and msal with nothing around it at all.

Wall times on a shared 2-core machine drift by tens of milliseconds within minutes, more than
the differences measured; an instruction count is the same on every run of the same code
(``PYTHONHASHSEED`` fixed), so it says by how much, not only which is ahead. Only the child
process is counted, not the emulator answering it.

"msal's floor" is msal's own script with its OpenID discovery answered from memory: the least
any toolkit whose tokens come from msal can run. What lies between that floor and msal's
script is all the room such a toolkit has to be faster than msal alone; most of msal's process
is ``import requests``, which msal does whatever transport it is given.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping

from processes import Row, child_env

_COLLECTED = re.compile(r"Collected : (\d+)")

_DISCOVERY_FROM_MEMORY = """
import json
_authority = os.environ["AZURE_AUTHORITY_HOST"] + "/" + os.environ["B_TENANT"]
class _Known:
    status_code = 200
    headers = {}
    text = json.dumps({
        "authorization_endpoint": _authority + "/oauth2/v2.0/authorize",
        "token_endpoint": _authority + "/oauth2/v2.0/token",
        "issuer": _authority + "/v2.0",
    })
    def raise_for_status(self): pass
class _Client:
    def get(self, url, **kwargs):
        if url.endswith("/.well-known/openid-configuration"):
            return _Known()
        return s.get(url, **kwargs)
    def post(self, url, **kwargs):
        return s.post(url, **kwargs)
"""


def floor(msal_script: str) -> str:
    """``msal_script`` with its discovery request answered from memory (msal still parses
    and checks the document)."""
    head, sep, tail = msal_script.partition("app = msal.ConfidentialClientApplication(")
    if not sep or "http_client=s)" not in tail:
        raise ValueError("not one of processes.py's msal scripts")
    tail = tail.replace("http_client=s)", "http_client=_Client())")
    return head + _DISCOVERY_FROM_MEMORY + sep + tail


def available() -> bool:
    return shutil.which("valgrind") is not None


def count(code: str, env: Mapping[str, str]) -> int:
    """Instructions ``python -c code`` runs, start-up and exit included."""
    done = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, "-c", code,
        ],
        env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count: {done.stderr[-300:]}")
    return int(found.group(1))


def millions(instructions: int) -> str:
    return f"{instructions / 1e6:.0f} M"


def rows(kinds: list[tuple[str, Mapping[str, str], list[str], str | None]]) -> list[Row]:
    """For each (label, environment, [entra-auth, msal, azure-identity] scripts, msal's floor
    or None) kind, already run once where they are timed (discovery kept on disk, OS caches
    warm): the instructions of each script, then msal's floors and what every process pays
    before its own work (start-up; ``import requests``, which msal does)."""
    out: list[Row] = []
    notes: list[Row] = []
    for label, env, codes, floor_code in kinds:
        ours, msal, azid = (count(code, env) for code in codes)
        out.append(
            (
                f"fresh process, first token, instructions: {label}",
                f"{millions(ours)} ({ours / msal:.2f}x)",
                millions(msal),
                f"{millions(azid)} ({azid / msal:.2f}x)",
            )
        )
        if floor_code is not None:
            least = count(floor_code, env)
            notes.append(
                (
                    f"  msal's floor, {label}: msal alone, its discovery answered from memory",
                    "-",
                    f"{millions(least)} ({least / msal:.3f}x)",
                    "-",
                )
            )
    base = child_env()
    python, requests = count("pass", base), count("import requests", base)
    notes.append(("  python -c pass", millions(python), millions(python), millions(python)))
    notes.append(("  python -c 'import requests' (msal imports it)", "-", millions(requests), "-"))
    return out + notes
