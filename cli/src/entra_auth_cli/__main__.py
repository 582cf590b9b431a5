"""``python -m entra_auth_cli`` and the ``entra-auth`` console script."""

from entra_auth_cli.app import main

if __name__ == "__main__":
    main()
