"""Smoke tests of the seed-table scripts (benchmarks/seed_tables) in --quick mode on the shared corpora."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks" / "seed_tables"

pytestmark = pytest.mark.slow


def _script(name: str):
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(f"seed_tables_{name}", SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


def _check_table(out: Path, name: str, systems: set[str]) -> list[dict]:
    md = (out / f"{name}.md").read_text()
    with open(out / f"{name}.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["system"] for r in rows} == systems
    assert "leave-one-speaker-out (speaker-independent)" in {r["protocol"] for r in rows}
    assert len({r["protocol"] for r in rows}) == 2
    for r in rows:
        assert 0 <= float(r["UAR %"]) <= 100 and r["date"] and r["hardware"]
        assert r["system"] in md
    assert "never chosen on the test fold" in md
    return rows


@pytest.mark.shared_data
def test_lightsernet_quick_and_resume(shared_data: Path, tmp_path: Path, capsys):
    script = _script("lightsernet_emodb")
    argv = ["--quick", "--device", "cpu", "--data", str(shared_data), "--out", str(tmp_path)]
    assert script.main(argv) == 0
    _check_table(tmp_path, "lightsernet_emodb",
                 {"Light-SERNet 3 s, CE", "Light-SERNet 3 s, focal", "MFCC functionals + SVM (floor)"})
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert "emodb__light_sernet_3_s_ce__loso_confusion.png" in pngs
    assert "emodb__light_sernet_3_s_focal__paper_curves.png" in pngs
    assert "emodb__mfcc_functionals_svm_floor__loso_confusion.png" in pngs
    fold = tmp_path / "folds" / "emodb__light_sernet_3_s_ce__loso" / "fold01.json"
    record = json.loads(fold.read_text())
    assert record["epochs"] == 1 and len(record["history"]) == 1 and "valid_uar" in record["history"][0]
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "folds").rglob("*.json")}
    assert len(stamps) == 12  # 3 systems x 2 protocols x 2 folds
    capsys.readouterr()

    assert script.main(argv) == 0  # resumed: every fold is cached
    assert "skipped 2 finished fold(s)" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


@pytest.mark.shared_data
def test_timnet_quick(shared_data: Path, tmp_path: Path):
    script = _script("timnet")
    # --n-jobs 2: the two folds of each network run in two worker processes
    assert script.main(["--quick", "--device", "cpu", "--data", str(shared_data), "--out", str(tmp_path),
                        "--corpora", "emodb", "ravdess", "--n-jobs", "2"]) == 0
    for corpus in ("emodb", "ravdess"):
        rows = _check_table(tmp_path, f"timnet_{corpus}", {"TIM-Net (8 TABs)", "MFCC functionals + SVM (floor)"})
        assert any("KFold(10" in r["protocol"] for r in rows)
        assert (tmp_path / f"{corpus}__tim_net_8_tabs__paper_curves.png").is_file()


def test_cremad_without_audio_says_so(tmp_path: Path, capsys):
    script = _script("cremad_cnns")
    assert script.main(["--quick", "--out", str(tmp_path / "out")]) == 0
    assert "CREMA-D audio not given" in capsys.readouterr().out
    assert not list((tmp_path / "out").glob("*.md"))


def test_cremad_quick_on_a_generated_layout(tmp_path: Path):
    """CNN1D and CNN2D cells on tones laid out with CREMA-D's names (no CREMA-D audio is shared)."""
    sf = pytest.importorskip("soundfile")
    audio = tmp_path / "AudioWAV"
    audio.mkdir()
    t = np.arange(16000) / 16000
    for actor in (1001, 1002, 1003):
        for i, emotion in enumerate(["ANG", "DIS", "FEA", "HAP", "NEU", "SAD"]):
            for sentence in ("DFA", "IEO"):
                wave = 0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.01 * np.cos(7 * t * actor)
                sf.write(audio / f"{actor}_{sentence}_{emotion}_XX.wav", wave.astype(np.float32), 16000)
    out = tmp_path / "out"
    assert _script("cremad_cnns").main(["--quick", "--device", "cpu", "--cremad", str(tmp_path),
                                        "--out", str(out)]) == 0
    rows = _check_table(out, "cremad_cnns",
                        {"CNN1D on MFCC functionals", "CNN2D on log-mel", "MFCC functionals + SVM (floor)"})
    assert len(rows) == 6
    assert (out / "cremad__cnn2d_on_log_mel__loso_curves.png").is_file()
