"""rustok as a user installs it, with no extras, in a virtualenv of its own: pytest runs there as if rustok
were not installed, and a conftest that enables the test kit without the kit's extra says what to install.

The virtualenv is made once per test run: rustok's wheel, built from a copy of the project, installed with
``pip install`` and the pinned constraints (from the configured package index, as any install), beside
pytest, the one thing an unrelated project brings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
CONSTRAINTS = PROJECT / "requirements" / "constraints.txt"
INSTALL_TIMEOUT = 600  # seconds; a guard against a hung install, not a measurement
UNRELATED_TEST = "def test_ok():\n    assert 1 + 1 == 2\n"


def _clean_env() -> dict[str, str]:
    """This process's environment without what would tie a child to this run's virtualenv or pytest."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHON", "RUSTOK_"))
    }


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed command line
        [str(part) for part in command],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )


def _pip(python: Path, *arguments: str | Path, cwd: Path) -> None:
    done = _run(python, "-m", "pip", "--disable-pip-version-check", "--quiet", "install", *arguments, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr


@dataclass(frozen=True, slots=True)
class PlainInstall:
    python: Path  # of a fresh virtualenv holding rustok (no extras) and pytest
    wheel: Path  # the rustok wheel installed there

    def pytest(self, project: Path) -> subprocess.CompletedProcess[str]:
        return _run(self.python, "-m", "pytest", "-p", "no:cacheprovider", cwd=project)


@pytest.fixture(scope="session")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> PlainInstall:
    """rustok's wheel, built from a copy of the project, installed without extras in a virtualenv of its
    own beside pytest; made once per run."""
    root = tmp_path_factory.mktemp("plain-install")
    source = root / "rustok"
    shutil.copytree(
        PROJECT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT / name, source / name)
    created = _run(sys.executable, "-m", "venv", root / "venv", cwd=root)
    assert created.returncode == 0, created.stderr
    python = root / "venv" / "bin" / "python"
    built = _run(python, "-m", "pip", "--quiet", "wheel", "--no-deps", "-w", root / "dist", source, cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("rustok-*.whl")
    _pip(python, "-c", CONSTRAINTS, wheel, "pytest", cwd=root)
    return PlainInstall(python, wheel)


def _project(root: Path, conftest: str | None) -> Path:
    root.mkdir()
    (root / "test_unrelated.py").write_text(UNRELATED_TEST)
    if conftest is not None:
        (root / "conftest.py").write_text(conftest)
    return root


def test_pytest_runs_unharmed_where_rustok_is_installed_without_extras(
    plain_install: PlainInstall, tmp_path: Path
) -> None:
    # given a project that knows nothing of rustok, in an environment where rustok is installed
    project = _project(tmp_path / "unrelated", conftest=None)

    # when its tests run
    done = plain_install.pytest(project)

    # then pytest starts as usual, loads nothing of rustok, and the test passes
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "rustok: database backends" not in done.stdout


def test_enabling_the_kit_without_its_extra_names_the_extra_and_with_it_loads_the_kit(
    plain_install: PlainInstall, tmp_path: Path
) -> None:
    # given a project whose conftest enables the kit, in an environment without the kit's extra
    project = _project(tmp_path / "kit-user", conftest='pytest_plugins = ["rustok.testing.plugin"]\n')

    # when its tests run
    done = plain_install.pytest(project)

    # then pytest stops at start-up, saying which package is missing and what to install
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "pytest-asyncio" in output
    assert "httpx" in output
    assert "pip install 'rustok[testing]'" in output

    # and once the extra is installed as the message says, the same run loads the kit (its header line)
    _pip(plain_install.python, "-c", CONSTRAINTS, f"{plain_install.wheel}[testing]", cwd=project)
    done = plain_install.pytest(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rustok: database backends" in done.stdout
    assert "1 passed" in done.stdout


DOCS_ASSETS_CHECK = """
import hashlib
from importlib.resources import files

from rustok.api.docs import STATIC_DIR

static = files("rustok") / "api" / "static"
names = []
for line in (static / "SHA256SUMS").read_text().splitlines():
    digest, name = line.split()
    assert hashlib.sha256((static / name).read_bytes()).hexdigest() == digest, name
    names.append(name)
assert (static / "swagger-init.js").is_file()
assert (STATIC_DIR / "redoc" / "redoc.standalone.js").is_file()
print(len(names), "files")
"""


def test_the_wheel_ships_the_api_docs_pages_files(plain_install: PlainInstall, tmp_path: Path) -> None:
    # given rustok installed from its wheel, without extras
    # when the installed package's docs assets are read where rustok.api.docs serves them from
    done = _run(plain_install.python, "-c", DOCS_ASSETS_CHECK, cwd=tmp_path)

    # then every vendored file of /docs and /redoc is there, byte for byte, with the init script
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 files" in done.stdout
