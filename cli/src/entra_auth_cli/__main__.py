"""``python -m entra_auth_cli`` and the ``entra-auth`` console script.

``token`` and ``context`` are answered by the fast path (``fast``) when it can answer exactly
as the full command would; everything else imports the typer application.
"""

import sys


def main() -> None:
    if sys.argv[1:2] in (["token"], ["context"]):  # the only commands the fast path answers
        from entra_auth_cli.fast import answer

        code = answer(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    from entra_auth_cli.app import main as full

    full()


if __name__ == "__main__":
    main()
