"""The ``entra-auth`` command: ``Connect-Entra`` style app-only sign-in from the shell.

Modules stay import-light on purpose: ``entra-auth --help`` and ``entra-auth context`` must not
pay for msal, requests or cryptography, so every heavy import lives inside the command that
needs it.
"""
