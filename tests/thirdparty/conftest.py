"""tests/thirdparty: a third-party provider package, installed into a fresh virtual environment.

The package folder is what its author would publish (its own pyproject, src and tests); it is
not a workspace member and is not installed in the workspace's environment, so this suite must
not collect it: test_third_party_provider.py runs the package's own tests inside the fresh
environment instead.
"""

collect_ignore = ["entra_auth_file_assertion"]
