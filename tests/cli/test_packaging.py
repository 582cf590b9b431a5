"""What gets published: every workspace distribution built as PyPI would get it, then inspected,
and the ``[all]`` extra installed from the built wheels into a fresh environment.

``uv build --all-packages`` builds each member (core, cli, emulator, providers/*, plugins/*)
into a temp folder, sdist first and the wheel from that sdist, as a release would. Each wheel
must carry the MIT LICENSE, a real README as its description, classifiers, project URLs and
bounded requirements on its siblings; each sdist must hold its sources and nothing stray. The
fresh environment is made offline from uv's cache (the workspace's ``uv sync`` filled it) with
the pinned third-party requirements of ``entra-auth-cli[all]`` from the lock file, then the
built wheels are installed by name with the extra, so the extra itself is what brings the
providers.
"""

from __future__ import annotations

import email.parser
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement

WORKSPACE = Path(__file__).resolve().parents[2]
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
SIBLING_PREFIX = "entra-auth"
# uv runs with the environment pytest started with: the per-test home of the root conftest
# would give it an empty cache, and the fresh environment is made offline from the real one.
_ENV_AT_IMPORT = {k: v for k, v in os.environ.items() if k not in _LEAKY}
LICENSE_TEXT = (WORKSPACE / "LICENSE").read_text()
# The uv build backend keeps the verbatim pyproject.toml beside the normalised one it writes
# into an sdist (since uv_build 0.12.5); anything else outside src/ is stray.
SDIST_TOP_LEVEL = {"PKG-INFO", "pyproject.toml", "pyproject.toml.orig", "README.md", "LICENSE"}
STRAY_SUFFIXES = (".orig", ".rej", ".bak", ".swp", ".pyc", ".pyo", "~")


@dataclass(frozen=True)
class Member:
    folder: Path
    name: str
    module: str
    project: dict

    @property
    def stem(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.project['version']}"


def members() -> list[Member]:
    root = tomllib.loads((WORKSPACE / "pyproject.toml").read_text())
    found = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for folder in sorted(WORKSPACE.glob(pattern)):
            pyproject = folder / "pyproject.toml"
            if not pyproject.is_file():
                continue
            project = tomllib.loads(pyproject.read_text())["project"]
            (module,) = [p.name for p in (folder / "src").iterdir() if p.is_dir()]
            found.append(Member(folder, project["name"], module, project))
    return found


MEMBERS = members()


def uv_command() -> list[str]:
    for candidate in (os.environ.get("UV"), shutil.which("uv")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    pytest.fail("uv is needed to build the distributions: not in $UV, on PATH or importable")


def uv(*args: str | Path, cwd: Path = WORKSPACE) -> str:
    done = subprocess.run(
        [*uv_command(), *map(str, args)],
        cwd=cwd,
        env=_ENV_AT_IMPORT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"uv {' '.join(map(str, args))} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-cache: the build cache keys on pyproject.toml, not on the sources.
    uv("build", "--all-packages", "--no-cache", "--out-dir", out)
    return out


def wheel_metadata(dist: Path, member: Member) -> tuple[Message, list[str]]:
    (wheel,) = dist.glob(f"{member.stem}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        text = archive.read(f"{member.stem}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text), names


def test_every_member_is_built_as_wheel_and_sdist(dist: Path) -> None:
    built = sorted(p.name for p in dist.iterdir() if p.suffix in (".whl", ".gz"))
    expected = sorted(
        [f"{m.stem}-py3-none-any.whl" for m in MEMBERS] + [f"{m.stem}.tar.gz" for m in MEMBERS]
    )
    assert built == expected
    assert {m.name for m in MEMBERS} >= {"entra-auth", "entra-auth-cli", "entra-auth-emulator"}


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_wheel_metadata_is_complete(dist: Path, member: Member) -> None:
    meta, names = wheel_metadata(dist, member)
    assert meta["License-Expression"] == "MIT"
    assert f"{member.stem}.dist-info/licenses/LICENSE" in names
    with zipfile.ZipFile(next(dist.glob(f"{member.stem}-*.whl"))) as archive:
        assert archive.read(f"{member.stem}.dist-info/licenses/LICENSE").decode() == LICENSE_TEXT
    assert LICENSE_TEXT.startswith("MIT License")

    # A real README: headings, an install section, usage, not a one-line title.
    assert meta["Description-Content-Type"] == "text/markdown"
    description = meta.get_payload()
    assert isinstance(description, str)
    assert description.startswith(f"# {member.name}\n")
    assert len(description.splitlines()) >= 15, description
    assert "```" in description
    assert "../" not in description  # relative links are broken on PyPI

    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert not any(c.startswith("License ::") for c in classifiers)  # License-Expression says it
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    assert meta["Author"]
    assert meta["Requires-Python"] == ">=3.11"

    # Every requirement on a sibling distribution has an upper bound below its next major.
    for line in meta.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.name.startswith(SIBLING_PREFIX):
            bounds = {spec.operator: spec.version for spec in requirement.specifier}
            assert ">=" in bounds and bounds.get("<") == "1", line


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_wheel_holds_the_module_and_its_metadata_only(dist: Path, member: Member) -> None:
    _, names = wheel_metadata(dist, member)
    for name in names:
        top = name.split("/", 1)[0]
        assert top in (member.module, f"{member.stem}.dist-info"), name
        assert "__pycache__" not in name and not name.endswith(STRAY_SUFFIXES), name
    assert f"{member.module}/__init__.py" in names
    assert f"{member.module}/py.typed" in names


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_sdist_holds_sources_and_nothing_stray(dist: Path, member: Member) -> None:
    with tarfile.open(dist / f"{member.stem}.tar.gz") as archive:
        entries = {m.name: m for m in archive.getmembers()}
        files = sorted(
            name.removeprefix(f"{member.stem}/") for name, m in entries.items() if m.isfile()
        )
        top_level = {f for f in files if "/" not in f}
        assert top_level == SDIST_TOP_LEVEL, files
        for name in files:
            if name in SDIST_TOP_LEVEL:
                continue
            assert name.startswith(f"src/{member.module}/"), name
            assert "__pycache__" not in name and not name.endswith(STRAY_SUFFIXES), name
        # Every source file is there: nothing lost.
        on_disk = [
            path.relative_to(member.folder).as_posix()
            for path in (member.folder / "src").rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        ]
        assert sorted(f for f in files if f.startswith("src/")) == sorted(on_disk)

        def read(name: str) -> bytes:
            extracted = archive.extractfile(f"{member.stem}/{name}")
            assert extracted is not None
            return extracted.read()

        assert read("LICENSE").decode() == LICENSE_TEXT
        assert read("README.md") == (member.folder / "README.md").read_bytes()
        # The .orig is the verbatim pyproject.toml, not a leftover of an edit.
        assert read("pyproject.toml.orig") == (member.folder / "pyproject.toml").read_bytes()
        assert tomllib.loads(read("pyproject.toml").decode())["project"]["name"] == member.name


def test_every_member_folder_has_its_license_and_readme() -> None:
    for member in MEMBERS:
        assert (member.folder / "LICENSE").read_text() == LICENSE_TEXT, member.folder
        assert member.project.get("license-files") == ["LICENSE"], member.name
        assert member.project.get("readme") == "README.md", member.name


def test_the_all_extra_names_every_built_in_provider() -> None:
    cli = next(m for m in MEMBERS if m.name == "entra-auth-cli")
    extra = {Requirement(r).name for r in cli.project["optional-dependencies"]["all"]}
    providers = {
        tomllib.loads(p.read_text())["project"]["name"]
        for p in WORKSPACE.glob("providers/*/pyproject.toml")
    }
    assert len(providers) >= 6
    assert extra == providers | {"entra-auth-emulator"}


def test_the_cli_depends_on_typer_with_a_range_not_a_pin() -> None:
    cli = next(m for m in MEMBERS if m.name == "entra-auth-cli")
    requirements = {Requirement(r).name: Requirement(r) for r in cli.project["dependencies"]}
    assert "typer-slim" not in requirements
    typer = requirements["typer"]
    bounds = {spec.operator: spec.version for spec in typer.specifier}
    assert bounds.get("<") == "1", typer  # any current 0.x typer, as other tools need
    assert typer.specifier.contains(_version("typer"))  # what the lock installs is in range


def _version(dist: str) -> str:
    from importlib import metadata

    return metadata.version(dist)


def test_pip_install_of_the_built_wheels_with_all_gives_a_working_command(
    dist: Path, tmp_path: Path
) -> None:
    # A pylock.toml names each wheel by URL, which uv's cache holds since the workspace's sync
    # fetched it; a requirements.txt names only versions, which an offline install can resolve
    # only from a cached index page, and syncing from a lock file caches none.
    requirements = tmp_path / "pylock.toml"
    export = ("export", "--frozen", "--offline", "--format", "pylock.toml", "--no-header",
              "--no-emit-workspace", "--package", "entra-auth-cli", "--extra", "all")  # fmt: skip
    requirements.write_text(uv(*export))
    venv = tmp_path / "venv"
    uv("venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    # Third-party pins first (from the cache, no resolution), then the CLI *by name with the
    # extra* from the built wheels only: the extra must bring core, every provider and the
    # emulator by itself.
    uv("pip", "install", "--offline", "--no-deps", "--python", python, "-r", requirements)
    uv(
        "pip", "install", "--offline", "--no-index", "--find-links", dist, "--python", python,
        "entra-auth-cli[all]",
    )  # fmt: skip
    uv("pip", "check", "--offline", "--python", python)

    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    done = subprocess.run(
        [venv / "bin" / "entra-auth", "providers", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = {p["name"]: p["distribution"] for p in json.loads(done.stdout)["providers"]}
    providers = {
        tomllib.loads(p.read_text())["project"]["name"]
        for p in WORKSPACE.glob("providers/*/pyproject.toml")
    }
    assert set(listed.values()) == providers
    # Installed from the wheels, not the workspace sources.
    where = subprocess.run(
        [python, "-c", "import entra_auth_cli, entra_auth; print(entra_auth_cli.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    installed = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('typer'))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert installed == _version("typer")
