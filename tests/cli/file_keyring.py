"""A stand-in for the OS keyring at its boundary, for subprocess tests.

Each CLI process is separate, so an in-memory keyring would forget between ``connect`` and
``token``; this backend keeps entries in the JSON file named by ``ENTRA_AUTH_TEST_KEYRING``,
the way a real keyring daemon outlives the processes that use it. Select it with
``PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring`` and this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["ENTRA_AUTH_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(f"{service}/{username} is not stored")
        self._save(data)
