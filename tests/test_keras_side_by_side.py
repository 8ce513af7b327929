"""The driver of benchmarks/keras_side_by_side.py without TensorFlow: arguments, summary, table."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def sbs():
    spec = importlib.util.spec_from_file_location("keras_side_by_side",
                                                  BENCH / "keras_side_by_side.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REQUIRED = ["--keras-python", "py", "--lightsernet-repo", "ls", "--timnet-repo", "tim"]


def test_arguments_defaults_quick_and_errors(sbs, capsys):
    args = sbs.parse_args([*REQUIRED, "--data", "d", "--threads", "2", "1", "2"])
    assert args.threads == [1, 2] and args.rounds == 5 and args.fits == 2 and args.epochs == 4
    quick = sbs.parse_args([*REQUIRED, "--data", "d", "--quick", "--threads", "2"])
    assert (quick.threads, quick.fits, quick.max_clips) == ([2], 1, sbs.QUICK["max_clips"])
    for bad in (["--epochs", "1"], ["--rounds", "0"], ["--threads", "0"]):
        with pytest.raises(SystemExit):
            sbs.parse_args([*REQUIRED, "--data", "d", *bad])
        assert bad[0] in capsys.readouterr().err


def test_no_corpus_folder_is_an_error(sbs, monkeypatch, capsys):
    monkeypatch.delenv("SKSER_DATA", raising=False)
    with pytest.raises(SystemExit):
        sbs.parse_args(REQUIRED)
    assert "SKSER_DATA" in capsys.readouterr().err


def test_summary_pairs_rounds_and_table_has_every_row(sbs):
    per_round = {
        "lightsernet/model_b1/t1": {"skser": [2.0, 4.0, 3.0], "keras": [1.0, 4.0, 2.0],
                                    "skser_cpu": [2.0, 2.0, 2.0], "keras_cpu": [1.0, 1.0, 1.0]},
        "timnet/epoch/t2": {"skser": [4.0], "keras": [8.0]},
    }
    summary = sbs.summarise(per_round)
    ls = summary["lightsernet/model_b1/t1"]
    assert (ls["skser"], ls["keras"], ls["ratio"], ls["ratio_cpu"]) == (3.0, 2.0, 1.5, 2.0)
    tim = summary["timnet/epoch/t2"]
    assert tim["ratio"] == 0.5 and "ratio_cpu" not in tim
    rows = sbs.table_rows(["lightsernet", "timnet"], [1, 2], train=True)
    assert ("lightsernet", "model_b1", 1) in rows and ("timnet", "epoch", 2) in rows
    assert len(rows) == 6 + 8 + 4
    meta = {"date": "2026-01-01 00:00 UTC", "hardware": "2-core x86_64 CPU, no GPU",
            "load_min": 1.0, "load_max": 2.5, "skser": "0.1", "torch": "2", "skorch": "1",
            "librosa": "0.11", "numpy": "2", "omp_wait_policy": "PASSIVE",
            "keras": {"tensorflow": "2.21.0"}, "lightsernet_repo": "ls @1",
            "timnet_repo": "tim @2", "rounds": 3, "repeats": 30, "repeats32": 6, "fits": 1,
            "epochs": 6, "n_train_text": "535 and 1440 clips", "n_train": {"timnet": 1440},
            "front_agreement": {"lightsernet": 1e-6}}
    table = sbs.markdown({"meta": meta, "rows": rows, "summary": summary})
    lines = table.splitlines()
    assert "| Light-SERNet, batch 1, model only, 1 thread" in table
    assert any(line.startswith("| TIM-Net, training epoch, 1440 clips") and "| 0.50 | n/a |" in line
               for line in lines)
    assert "3.00 ms (2.00)" in table and "load average (1 min) 1.0-2.5" in table
    assert "tensorflow-cpu 2.21.0" in table and "Light-SERNet 1.0e-06" in table
    assert sum(line.startswith("| ") for line in lines) == 1 + 2  # header + the two measured rows


def test_worker_imports_no_skser_and_no_torch():
    tree = ast.parse((BENCH / "_keras_worker.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"skser", "torch", "skorch", "sklearn"}


def test_a_failing_worker_is_reported_with_its_error(sbs, tmp_path):
    # This venv has no tensorflow (or, if it has, the checkouts do not exist): the worker
    # answers with its traceback, and the driver raises it instead of hanging.
    args = argparse.Namespace(keras_python=Path(sys.executable),
                              lightsernet_repo=tmp_path / "none", timnet_repo=tmp_path / "none")
    with pytest.raises(RuntimeError, match="Keras worker failed"):
        sbs.KerasWorker(args, 1, tmp_path)
