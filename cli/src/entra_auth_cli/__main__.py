"""``python -m entra_auth_cli`` and the ``entra-auth`` console script.

``token``, ``context`` and the top-level ``--help`` are answered by the fast path (``fast``)
when it can answer exactly as the full command would; everything else imports the typer
application.
"""

import sys


def main() -> None:
    # the only commands the fast path answers
    if sys.argv[1:2] in (["token"], ["context"]) or sys.argv[1:] in (["--help"], ["-h"]):
        from entra_auth_cli.fast import answer

        code = answer(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    from entra_auth_cli.app import main as full

    full()


if __name__ == "__main__":
    main()
