"""Smoke tests of the seed-table scripts (benchmarks/seed_tables) in --quick mode on the shared corpora."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import csv
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks" / "seed_tables"
MFCC_FLOOR = "MFCC functionals + SVM (floor)"
EGEMAPS_FLOOR = "eGeMAPS functionals + SVM (floor)"
#: The floor rows of every table: the eGeMAPS row only where opensmile is installed.
FLOORS = {MFCC_FLOOR} | ({EGEMAPS_FLOOR} if importlib.util.find_spec("opensmile") else set())

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


def _harness():
    """The harness module, as the scripts import it (``import _harness``)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module("_harness")
    finally:
        sys.path.remove(str(SCRIPTS))


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
    _check_table(tmp_path, "lightsernet_emodb", {"Light-SERNet 3 s, CE", "Light-SERNet 3 s, focal", *FLOORS})
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert "emodb__light_sernet_3_s_ce__loso_confusion.png" in pngs
    assert "emodb__light_sernet_3_s_focal__paper_curves.png" in pngs
    assert "emodb__mfcc_functionals_svm_floor__loso_confusion.png" in pngs
    fold = tmp_path / "folds" / "emodb__light_sernet_3_s_ce__loso" / "fold01.json"
    record = json.loads(fold.read_text())
    assert record["epochs"] == 1 and len(record["history"]) == 1 and "valid_uar" in record["history"][0]
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "folds").rglob("*.json")}
    assert len(stamps) == (2 + len(FLOORS)) * 2 * 2  # systems x protocols x folds
    capsys.readouterr()

    assert script.main(argv) == 0  # resumed: every fold is cached
    assert "skipped 2 finished fold(s)" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


@pytest.mark.shared_data
def test_timnet_quick(shared_data: Path, tmp_path: Path):
    from joblib import Parallel, delayed

    # loky workers started before the script put its folder on sys.path (as an earlier test
    # may leave them): the cells must still reach them
    Parallel(n_jobs=2)(delayed(abs)(i) for i in range(2))
    script = _script("timnet")
    # RAVDESS only (EMO-DB runs in the Light-SERNet test); --n-jobs 2: the two folds of
    # each network run in two worker processes
    assert script.main(["--quick", "--device", "cpu", "--data", str(shared_data), "--out", str(tmp_path),
                        "--corpora", "ravdess", "--n-jobs", "2"]) == 0
    rows = _check_table(tmp_path, "timnet_ravdess", {"TIM-Net (8 TABs)", *FLOORS})
    assert any("KFold(10" in r["protocol"] for r in rows)
    assert (tmp_path / "ravdess__tim_net_8_tabs__paper_curves.png").is_file()
    assert len(list((tmp_path / "folds" / "ravdess__tim_net_8_tabs__loso").glob("fold*.json"))) == 2


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
    rows = _check_table(out, "cremad_cnns", {"CNN1D on MFCC functionals", "CNN2D on log-mel", *FLOORS})
    assert len(rows) == 2 * (2 + len(FLOORS))
    assert (out / "cremad__cnn2d_on_log_mel__loso_curves.png").is_file()


def test_egemaps_floor_is_skipped_with_a_reason_without_opensmile(monkeypatch):
    harness = _harness()
    real = importlib.util.find_spec
    monkeypatch.setattr(harness.importlib.util, "find_spec",
                        lambda name, *a: None if name == "opensmile" else real(name, *a))
    systems, notes = harness.floor_systems(None)
    assert [s.name for s in systems] == [MFCC_FLOOR]
    assert any("eGeMAPS functionals + SVM (floor) skipped" in n and "skser[opensmile]" in n for n in notes)


@pytest.mark.shared_data
def test_egemaps_floor_row_when_opensmile_is_installed(shared_data: Path, tmp_path: Path):
    pytest.importorskip("opensmile", reason='the optional opensmile package is not installed')
    harness = _harness()
    systems, _ = harness.floor_systems(None)
    egemaps = next(s for s in systems if s.name == EGEMAPS_FLOOR)
    X = egemaps.features().fit_transform(sorted((shared_data / "emodb-2s" / "wav").glob("*.flac"))[:2])
    assert X.shape == (2, 88) and np.isfinite(X).all()


@pytest.mark.shared_data
def test_sernet_quick(shared_data: Path, tmp_path: Path):
    rows = ["full model", "w/o prosodic features"]
    assert _script("sernet").main(["--quick", "--device", "cpu", "--data", str(shared_data), "--out",
                                   str(tmp_path), "--corpora", "emodb", "--rows", *rows]) == 0
    table = _check_table(tmp_path, "sernet_emodb", {f"SER-Net (small), {r}" for r in rows} | FLOORS)
    paper = {r["system"]: r["paper"] for r in table if r["protocol"].startswith("paper")}
    assert paper["SER-Net (small), full model"] == "UAR 72.4 (MSP-Podcast)"
    assert "-1.5" in paper["SER-Net (small), w/o prosodic features"]
    assert (tmp_path / "emodb__ser_net_small_full_model__loso_curves.png").is_file()
    X = np.load(next((tmp_path / "features").glob("emodb__sernet_features_3s__*.npy")))
    assert X.shape[1:] == (300, 268) or (X.shape[2] == 268 and X.shape[1] <= 300)


@pytest.mark.shared_data
def test_fusion_quick_without_then_with_an_encoder(shared_data: Path, tmp_path: Path):
    pytest.importorskip("transformers")
    from _tiny_encoders import make_tiny_encoder

    script = _script("fusion")
    argv = ["--quick", "--device", "cpu", "--data", str(shared_data), "--out", str(tmp_path)]
    assert script.main(argv) == 0
    md = (tmp_path / "fusion_pooled_ravdess.md").read_text()
    assert "was not run: no pretrained encoder weights" in md and "cremad, tess, savee" in md
    table = _check_table(tmp_path, "fusion_pooled_ravdess", {"FusionNet, MFCC branch only", *FLOORS})
    assert {r["paper"] for r in table if r["protocol"].startswith("paper") and "FusionNet" in r["system"]} == {
        "WA ~51 (4 corpora pooled, one random split)"}

    encoder = make_tiny_encoder("wav2vec2", tmp_path / "encoders")
    assert script.main([*argv, "--encoder", str(encoder)]) == 0  # the cells above are resumed
    table = _check_table(tmp_path, "fusion_pooled_ravdess",
                         {"FusionNet, MFCC branch + encoder embedding", "FusionNet, MFCC branch only", *FLOORS})
    assert any(r["paper"].startswith("WA 70.45") for r in table)
    assert list((tmp_path / "features").glob("pooled_ravdess__fusion_mfcc_embedding_wav2vec2__*.npz"))


@pytest.mark.shared_data
def test_spectrogram_cnn_quick(shared_data: Path, tmp_path: Path):
    assert _script("spectrogram_cnn").main(["--quick", "--device", "cpu", "--data", str(shared_data),
                                            "--out", str(tmp_path), "--corpora", "ravdess"]) == 0
    name = "efficientnet-b0 from scratch (no pretrained weights)"
    table = _check_table(tmp_path, "spectrogram_cnn_ravdess", {name, *FLOORS})
    assert any("97" in r["paper"] for r in table if r["system"] == name)
    assert "not the report's method" in (tmp_path / "spectrogram_cnn_ravdess.md").read_text()
