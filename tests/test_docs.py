"""The documentation site builds offline with warnings as errors, and every
gallery script in ``examples/`` runs in quick mode and writes its figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


@pytest.mark.slow
def test_sphinx_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra (sphinx) is not installed")
    pytest.importorskip("myst_parser", reason="the docs extra (myst-parser) is not installed")
    pytest.importorskip("numpydoc", reason="the docs extra (numpydoc) is not installed")
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ("index", "getting-started", "examples", "audio-input", "api/models"):
        assert (out / f"{page}.html").is_file(), page
    api = (out / "api" / "models.html").read_text(encoding="utf-8")
    assert "LightSERNet" in api and "TIMNet" in api


def test_gallery_is_linked_from_the_docs():
    page = (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")
    assert EXAMPLES, "no gallery scripts found"
    for script in EXAMPLES:
        assert f"../examples/{script.name}" in page, f"{script.name} is not on docs/examples.md"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_gallery_script_runs_quick(script, tmp_path):
    data = os.environ.get("SKSER_DATA")
    if not data or not (Path(data) / "emodb-4class").is_dir():
        pytest.skip("needs $SKSER_DATA/emodb-4class (set SKSER_DATA=../shared/data)")
    # The script runs in tmp_path: a relative $SKSER_DATA (CI's ../shared/data) must be resolved.
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        cwd=tmp_path, env=_env(SKSER_DATA=str(Path(data).resolve())),
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 1000, proc.stdout


def test_gallery_script_skips_cleanly_without_data(tmp_path):
    script = EXAMPLES[0]
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        cwd=tmp_path, env=_env(SKSER_DATA=str(tmp_path / "absent")),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipped" in proc.stdout and not list(tmp_path.glob("*.png"))
