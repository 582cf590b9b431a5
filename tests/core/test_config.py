"""Reading profiles and environments from the config file, and connect(profile=...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from entra_auth import ConfigurationError, UsageError, connect, prepare
from entra_auth.config import load_config
from entra_auth.plugins import build_host

CONFIG = """
default_profile = "ci"

[profiles.ci]
provider = "client-secret"
client_id = "22222222-2222-2222-2222-222222222222"
tenant_id = "contoso.onmicrosoft.com"
client_secret = "env:AZURE_CLIENT_SECRET"
environment = "Lab"
context_scope = "CurrentUser"

[environments.Lab]
authority_host = "https://login.lab.example"
graph_endpoint = "https://graph.lab.example"
ca_bundle = "lab-ca.pem"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_profiles_and_environments_are_read(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CONFIG))
    profile = cfg.profile("ci")
    assert profile.provider == "client-secret"
    assert profile.options["client_secret"] == "env:AZURE_CLIENT_SECRET"
    assert "environment" not in profile.options
    lab = cfg.environments["Lab"]
    assert lab.ca_bundle == str(tmp_path / "lab-ca.pem")  # relative to the config file


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "absent.toml")
    assert not cfg.exists and cfg.profiles == {}


def test_invalid_toml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.ci]\nprovider = \n")
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "line 2, column" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 1\n", "unknown top-level key 'colour'"),
        ("[profiles.x]\nclient_id = 'a'\n", "needs provider"),
        ("[profiles.x]\nprovider='p'\ncontext_scope='Machine'\n", "Process or CurrentUser"),
        ("[environments.Lab]\nauthority_host='https://a'\n", "needs graph_endpoint"),
        (
            "[environments.Global]\nauthority_host='https://a'\ngraph_endpoint='https://b'\n",
            "redefines the built-in",
        ),
        (
            "[environments.Lab]\nauthority_host='ftp://a'\ngraph_endpoint='https://b'\n",
            "is not a URL",
        ),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected) as caught:
        load_config(write(tmp_path, text))
    assert "\n" not in str(caught.value)


def test_default_profile_env_and_explicit_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_config(write(tmp_path, CONFIG))
    host = build_host()
    request = prepare(None, {"tenant_id": "other.example"}, config=cfg, plugins=host)
    assert request.profile == "ci"
    assert request.options["tenant_id"] == "other.example"  # flag beats profile
    assert request.environment.authority_host == "https://login.lab.example"
    assert request.context_scope == "CurrentUser"
    monkeypatch.setenv("ENTRA_AUTH_PROFILE", "nope")
    with pytest.raises(ConfigurationError, match="no profile 'nope'"):
        prepare(None, {}, config=cfg, plugins=host)


def test_nothing_to_connect_with_says_how(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="name a provider"):
        connect(config=load_config(tmp_path / "none.toml"))


def test_literal_secret_in_a_profile_is_refused_without_echo(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CONFIG.replace("env:AZURE_CLIENT_SECRET", "Zx9~literal")))
    with pytest.raises(UsageError) as caught:
        connect(profile="ci", config=cfg)
    assert "Zx9~literal" not in str(caught.value)
    assert "reference" in str(caught.value)


def test_unknown_provider_in_a_profile_lists_installed(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CONFIG.replace('"client-secret"', '"cert-vault"')))
    with pytest.raises(UsageError, match="unknown provider 'cert-vault'; installed providers: "):
        connect(profile="ci", config=cfg)


def _many_profiles(count: int, tenant: str = "contoso") -> str:
    return "".join(
        f'[profiles.p{i}]\nprovider = "client-secret"\nclient_id = "{i}"\n'
        f'tenant_id = "{tenant}.onmicrosoft.com"\nclient_secret = "env:S"\n\n'
        for i in range(count)
    )


def test_a_large_config_keeps_a_parsed_copy_until_the_file_changes(tmp_path: Path) -> None:
    from entra_auth import paths

    path = write(tmp_path, _many_profiles(2000))
    first = load_config(path)
    cache = paths.cache_dir() / "config.parsed"
    assert cache.exists() and oct(cache.stat().st_mode & 0o777) == "0o600"
    assert load_config(path).profile("p1999").options == first.profile("p1999").options
    path.write_text(_many_profiles(2000, tenant="contosx"))  # same size, at once, new content
    assert load_config(path).profile("p7").options["tenant_id"] == "contosx.onmicrosoft.com"


def test_a_damaged_parsed_copy_is_ignored(tmp_path: Path) -> None:
    from entra_auth import paths

    path = write(tmp_path, _many_profiles(2000))
    load_config(path)
    (paths.cache_dir() / "config.parsed").write_bytes(b"\x00garbage")
    assert load_config(path).profile("p3").provider == "client-secret"


def test_small_configs_are_parsed_directly(tmp_path: Path) -> None:
    from entra_auth import paths

    load_config(write(tmp_path, CONFIG))
    assert not (paths.cache_dir() / "config.parsed").exists()
