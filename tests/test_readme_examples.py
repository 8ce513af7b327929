"""Every ```python block of README.md runs as written.

Each block runs on its own, in a fresh namespace and a fresh subprocess, from a
scratch copy of the layout the README assumes: the current directory stands
for the repository root and ``../shared/data`` points at ``$SKSER_DATA``, so
files the examples write (figures, saved models) land in a temporary folder.
Blocks that read ``../shared/data`` are skipped when the corpora are absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _python_blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


BLOCKS = _python_blocks()


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 5


def test_plotting_examples_save_their_figure():
    for line, code in BLOCKS:
        if "plot" in code:
            assert "savefig" in code or "show()" in code, f"README.md:{line} draws but never saves"


@pytest.mark.slow
@pytest.mark.parametrize("line,code", BLOCKS, ids=[f"README.md:{n}" for n, _ in BLOCKS])
def test_readme_block_runs(line, code, tmp_path):
    if "../shared/data" in code:
        data = os.environ.get("SKSER_DATA")
        if not data or not (Path(data) / "emodb-4class").is_dir():
            pytest.skip("reads ../shared/data; set SKSER_DATA=../shared/data to run it")
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "data").symlink_to(Path(data).resolve(), target_is_directory=True)
    cwd = tmp_path / "repo"
    cwd.mkdir()
    script = cwd / "readme_example.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, script.name], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"README.md:{line} failed:\n{proc.stdout}\n{proc.stderr}"
    if "savefig(" in code:
        assert list(cwd.glob("*.png")), f"README.md:{line} saved no figure"
