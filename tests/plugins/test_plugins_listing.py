"""``entra-auth plugins`` lists each plugin's token-cache backends (issue 13): the real CLI in
a subprocess, with the workspace's entra-auth-cache-redis installed."""

from __future__ import annotations

import json
import subprocess


def test_plugins_lists_the_redis_token_cache_backend(
    cli_command: list[str], emulator_env: dict[str, str]
) -> None:
    listed = subprocess.run(
        [*cli_command, "plugins", "--output", "json"],
        env=emulator_env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = {row["distribution"]: row for row in json.loads(listed.stdout)["plugins"]}
    redis_row = rows["entra-auth-cache-redis"]
    assert redis_row["token_caches"] == [{"name": "redis", "schemes": ["redis", "rediss"]}]
    assert all(
        row["token_caches"] == [] for name, row in rows.items() if name != "entra-auth-cache-redis"
    )

    table = subprocess.run(
        [*cli_command, "plugins"], env=emulator_env, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in table.splitlines() if "entra-auth-cache-redis" in line)
    assert "token caches: redis (redis://, rediss://)" in line
