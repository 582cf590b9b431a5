"""``entra-auth plugins``: every plugin, what it registered, and every problem, once.

Like ``llm plugins`` and keyring's diagnostics: a plugin author (or an admin wondering why a
flag is missing) sees each plugin's distribution and version, the providers, secret schemes,
certificate stores, token-cache backends and demo steps it registered, and each broken,
disabled or conflicting plugin with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from .output import Output, data_json, echo, format_table, warn

if TYPE_CHECKING:
    from entra_auth.plugins import PluginHost


def plugins(
    output: Annotated[
        Output, typer.Option(case_sensitive=False, help="table or json.")
    ] = Output.table,
) -> None:
    """List the installed plugins, what each registered, and what is broken."""
    from entra_auth import plugins as core_plugins

    host = core_plugins.get_host()
    rows = plugin_rows(host)
    problems = host.problems()
    if output is Output.json:
        echo(data_json({"plugins": rows, "disabled": host.disabled, "problems": problems}))
        return
    table = [
        {
            "plugin": row["plugin"],
            "distribution": row["distribution"],
            "version": row["version"],
            "registers": _summary(row),
        }
        for row in rows
    ]
    columns = [
        ("plugin", "PLUGIN"),
        ("distribution", "DISTRIBUTION"),
        ("version", "VERSION"),
        ("registers", "REGISTERS"),
    ]
    echo(format_table(table, columns) if table else "No plugins are installed.")
    for disabled in host.disabled:
        echo(f"Disabled: {disabled['plugin']} ({disabled['distribution']}) by {disabled['by']}")
    for problem in problems:
        warn(problem)


def plugin_rows(host: PluginHost) -> list[dict[str, Any]]:
    from entra_auth.plugins import guarded

    host.load_all()  # every plugin, not only those a lazy host has needed so far
    rows: dict[str, dict[str, Any]] = {}
    for plugin, (distribution, version) in host.distributions.items():
        rows[plugin] = {
            "plugin": plugin,
            "distribution": distribution,
            "version": version,
            "providers": [],
            "secret_schemes": [],
            "certificate_stores": [],
            "token_caches": [],
            "demo_steps": [],
        }
    for name, entry in sorted(host.providers().items()):
        row = rows.get(entry.plugin)
        if row is None:
            continue
        row["providers"].append(name)
        try:
            with guarded(entry, "demo_steps"):
                steps = [step.title for step in entry.provider.demo_steps()]
        except Exception as exc:
            steps = [f"(broken: {exc})"]
        row["demo_steps"].extend(f"{name}: {title}" for title in steps)
    for scheme_name, (plugin, _scheme) in host.secret_schemes().items():
        if plugin in rows:
            rows[plugin]["secret_schemes"].append(scheme_name)
    for plugin, store in host.store_plugins():
        if plugin in rows:
            rows[plugin]["certificate_stores"].append(str(getattr(store, "name", store)))
    backends: dict[int, dict[str, Any]] = {}
    for scheme, (plugin, backend) in sorted(host.token_caches().items()):
        if plugin not in rows:
            continue
        listed = backends.get(id(backend))
        if listed is None:
            listed = backends[id(backend)] = {
                "name": str(getattr(backend, "name", "") or scheme),
                "schemes": [],
            }
            rows[plugin]["token_caches"].append(listed)
        listed["schemes"].append(scheme)
    return list(rows.values())


def _summary(row: dict[str, Any]) -> str:
    parts = []
    if row["providers"]:
        steps = len(row["demo_steps"])
        demo = f"{steps} demo step{'s' if steps != 1 else ''}" if steps else "no demo step"
        parts.append(f"providers: {', '.join(row['providers'])} ({demo})")
    if row["secret_schemes"]:
        parts.append(f"secret schemes: {', '.join(row['secret_schemes'])}")
    if row["certificate_stores"]:
        parts.append(f"certificate stores: {len(row['certificate_stores'])}")
    if row["token_caches"]:
        caches = ", ".join(
            f"{cache['name']} ({', '.join(s + '://' for s in cache['schemes'])})"
            for cache in row["token_caches"]
        )
        parts.append(f"token caches: {caches}")
    return "; ".join(parts) or "nothing"
