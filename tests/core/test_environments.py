"""Built-in clouds, custom environments and the AZURE_AUTHORITY_HOST override."""

from __future__ import annotations

import pytest

from entra_auth import BUILTIN_ENVIRONMENTS, ConfigurationError, Environment
from entra_auth.environments import resolve_environment


def test_builtins_match_get_mgenvironment() -> None:
    assert {
        name: (e.authority_host, e.graph_endpoint) for name, e in BUILTIN_ENVIRONMENTS.items()
    } == {
        "Global": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
        "China": ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
        "USGov": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
        "USGovDoD": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    }


def test_default_is_global_and_lookup_ignores_case() -> None:
    assert resolve_environment(None, environ={}).name == "Global"
    assert resolve_environment("usgov", environ={}).graph_endpoint == "https://graph.microsoft.us"


def test_default_scope_is_graph_dot_default() -> None:
    assert resolve_environment("China", environ={}).default_scope == (
        "https://microsoftgraph.chinacloudapi.cn/.default"
    )


def test_azure_authority_host_overrides_the_authority_only() -> None:
    env = resolve_environment("Global", environ={"AZURE_AUTHORITY_HOST": "https://127.0.0.1:8443/"})
    assert env.authority_host == "https://127.0.0.1:8443"
    assert env.graph_endpoint == "https://graph.microsoft.com"
    assert not env.is_microsoft_host


def test_microsoft_hosts_keep_instance_discovery() -> None:
    assert resolve_environment("Global", environ={}).is_microsoft_host
    assert not Environment("Lab", "https://login.lab.example", "https://g").is_microsoft_host


def test_custom_environment() -> None:
    lab = Environment("Lab", "https://login.lab.example", "https://graph.lab.example", "/ca.pem")
    env = resolve_environment("lab", {"Lab": lab}, environ={})
    assert env.ca_bundle == "/ca.pem"


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="unknown environment 'Mars'; known: China, "):
        resolve_environment("Mars", environ={})


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(ConfigurationError, match="must use https"):
        resolve_environment(None, environ={"AZURE_AUTHORITY_HOST": "http://login.example"})
