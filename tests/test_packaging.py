"""The built wheel carries the Alembic scripts and the seed data, so `pip install .` suffices."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Both tests use one wheel: built once, on one worker.
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True,
    )  # fmt: skip
    (built,) = out.glob("fintrack-*.whl")
    return built


def test_wheel_ships_migrations_and_seed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "fintrack/migrations/env.py" in names
    assert "fintrack/migrations/script.py.mako" in names
    migrations = {
        f"fintrack/migrations/versions/{p.name}" for p in ROOT.glob("migrations/versions/*.py")
    }
    assert "fintrack/migrations/versions/0001_initial_schema.py" in migrations
    assert len(migrations) >= 3 and migrations <= names
    seeds = sorted(p.name for p in ROOT.glob("seed/*.toml"))
    assert seeds == ["claims.toml", "pledges.toml", "sanctions.toml", "sources.toml"]
    assert {f"fintrack/seed/{name}" for name in seeds} <= names
    assert not any(name.startswith(("tests/", "migrations/", "seed/")) for name in names)


def test_wheel_version_is_the_package_version(wheel: Path) -> None:
    # `fintrack --version` prints fintrack.__version__; the metadata pip sees is built from it.
    import fintrack

    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    assert f"Version: {fintrack.__version__}" in lines
    assert wheel.name.startswith(f"fintrack-{fintrack.__version__}-")


def test_installed_wheel_migrates_and_seeds_a_new_database(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}  # and the test's FINTRACK_DATABASE_URL
    code = (
        "import fintrack.store as s, sys\n"
        "from fintrack.cli import main\n"
        "print(s.resource_dir('migrations'))\n"
        "sys.exit(main(['seed']) or main(['totals', '--format', 'csv']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(target / "fintrack" / "migrations")
    assert "Qatar,Syria,USD,1,87000000.00,0.00,87000000.00,0.0,87000000.00,0.00,false" in lines
