"""The installed package is complete: a wheel, installed into a fresh virtual environment outside
the checkout, runs the demo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pip(*arguments: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *arguments],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _data_files(root: Path) -> set[str]:
    """Files of the `bot` package that are not Python code (prompts, fonts, migration template)."""
    return {
        path.relative_to(root).as_posix()
        for path in (root / "bot").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".py"
    }


def test_wheel_installed_outside_the_checkout_runs_the_demo(tmp_path: Path) -> None:
    # build from a copy, so no build/ folder of an earlier build can slip stale files in
    source = tmp_path / "src"
    shutil.copytree(REPO / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    _pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        str(tmp_path / "dist"),
        str(source),
    )
    (wheel,) = (tmp_path / "dist").glob("sechs_cluster_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    missing = _data_files(source) - packed
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert any(name.startswith("bot/store/migrations/versions/") for name in packed)

    # a fresh virtual environment outside the checkout: the wheel installed into it, the
    # dependencies borrowed from this one (a path entry, so its editable install of the
    # checkout is not seen), nothing of the checkout on the path
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    )
    dependencies = next(p for p in sys.path if p.endswith("site-packages"))
    (site / "borrowed-dependencies.pth").write_text(dependencies + "\n", encoding="utf-8")
    _pip("install", "--no-deps", "--target", str(site), str(wheel))
    run = tmp_path / "run"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    where = subprocess.run(
        [str(python), "-c", "import bot; print(bot.__file__)"],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout

    out = tmp_path / "out"
    demo = subprocess.run(
        [str(python), "-m", "bot", "demo", "--out", str(out)],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    written = {path.suffix for path in out.iterdir()}
    assert {".md", ".json", ".pdf", ".png", ".html"} <= written, written
    assert all(path.stat().st_size > 0 for path in out.iterdir())
    assert (next(out.glob("*.png")).read_bytes()[:8]) == b"\x89PNG\r\n\x1a\n"


def test_compose_takes_every_secret_from_the_env_file_without_defaults() -> None:
    compose = (REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    example = (REPO / "deploy" / ".env.example").read_text(encoding="utf-8")
    for name in ("TELEGRAM_BOT_TOKEN", "POSTGRES_PASSWORD", "WEBHOOK_SECRET", "BOT_DOMAIN"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", compose)
        assert uses, name
        assert all(use.startswith(":?") for use in uses), f"{name} has a default: {uses}"
        assert re.search(rf"^{name}=$", example, re.MULTILINE), f"{name} not blank in .env.example"
    assert "change-me" not in compose


def test_docker_context_holds_only_what_the_wheel_is_built_from() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # everything out first, then only these back in
    assert {rule[1:] for rule in rules if rule.startswith("!")} == {
        "pyproject.toml",
        "README.md",
        "bot",
    }
    assert "**/.env" in rules
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    copied = {
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    }
    assert copied == {"pyproject.toml", "README.md", "bot"}
    assert "pip wheel" in dockerfile
    assert "--no-index --find-links /wheels" in dockerfile
