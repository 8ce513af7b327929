"""``skser train``, ``evaluate``, ``predict`` and ``datasets`` on tiny generated audio."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import soundfile as sf
from conftest import make_tone

from skser.cli import build_parser, main
from skser.io import read_manifest

#: Two tone classes far apart in pitch: every model separates them.
_F0 = {"neutral": 150.0, "anger": 600.0}


@pytest.fixture(scope="module")
def labelled_folder(tmp_path_factory) -> Path:
    """``<label>/spk<k>_<n>.wav``: 2 classes x 4 speakers x 3 files of 0.3 s tones."""
    root = tmp_path_factory.mktemp("folder")
    for label, f0 in _F0.items():
        for speaker in range(4):
            for n in range(3):
                path = root / label / f"spk{speaker}_{n}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                y = make_tone(f0 * (1 + 0.03 * speaker + 0.01 * n), 0.3, 16000)
                sf.write(path, y, 16000)
    return root


@pytest.fixture(scope="module")
def svm_model(labelled_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "tones.skser"
    assert main(["train", str(labelled_folder), "--model", "svm", "-o", str(out), "-q"]) == 0
    return out


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- train -> predict through the saved file -------------------------------------
def test_train_saves_one_model_file_with_labels_and_version(svm_model):
    import skser

    manifest = read_manifest(svm_model)
    assert manifest["classes"] == ["anger", "neutral"]
    assert manifest["versions"]["skser"] == skser.__version__
    assert manifest["estimator"] == "sklearn.pipeline.Pipeline"
    from skser.io import load

    steps = [name for name, _ in load(svm_model).steps]
    assert steps == ["features", "standardscaler", "classifier"]  # features included


def test_svm_model_is_a_calibrated_svc_without_deprecation_warnings(labelled_folder, tmp_path):
    """The svm model gets its probabilities from CalibratedClassifierCV, not SVC(probability=True)."""
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    from skser.io import load

    out = tmp_path / "svm.skser"
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        assert main(["train", str(labelled_folder), "--model", "svm", "-o", str(out), "-q"]) == 0
    clf = load(out)[-1]
    assert isinstance(clf, CalibratedClassifierCV) and not clf.ensemble
    assert isinstance(clf.estimator, SVC) and clf.estimator.class_weight == "balanced"
    assert clf.estimator.probability in (False, "deprecated")  # the default, no Platt inside SVC


def test_predict_round_trip_csv_json_table(svm_model, labelled_folder, tmp_path, capsys):
    files = [labelled_folder / "anger" / "spk0_0.wav", labelled_folder / "neutral" / "spk3_2.wav"]
    assert main(["predict", str(svm_model), *map(str, files), "--format", "csv", "-q"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert [r["file"] for r in rows] == [str(f) for f in files]
    assert [r["label"] for r in rows] == ["anger", "neutral"]
    for r in rows:
        assert abs(float(r["anger"]) + float(r["neutral"]) - 1) < 1e-4
    assert main(["predict", str(svm_model), *map(str, files), "--format", "json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    from skser.io import load

    expected = load(svm_model).predict_proba([str(f) for f in files])  # what predict prints
    for d, p in zip(data, expected):
        assert [d["probabilities"][c] for c in ("anger", "neutral")] == pytest.approx(p, abs=1e-6)
    assert [d["label"] for d in data] == ["anger", "neutral"]
    assert set(data[0]["probabilities"]) == {"anger", "neutral"} and "error" not in data[0]
    assert data[0]["probabilities"]["anger"] > 0.5
    assert main(["predict", str(svm_model), str(files[0])]) == 0
    captured = capsys.readouterr()
    header = captured.out.splitlines()[0].split()
    assert header == ["file", "label", "anger", "neutral"]
    assert "classes ['anger', 'neutral']" in captured.err  # status lines go to stderr


def test_predict_expands_directories_recursively(svm_model, labelled_folder, capsys):
    (labelled_folder / "notes.txt").write_text("not audio")
    assert main(["predict", str(svm_model), str(labelled_folder), "--format", "csv", "-q"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert len(rows) == 24
    assert all(Path(r["file"]).parent.name == r["label"] for r in rows)
    empty = labelled_folder.parent / "empty-folder"
    empty.mkdir(exist_ok=True)
    assert main(["predict", str(svm_model), str(empty), "-q"]) == 3
    assert "holds no audio file" in capsys.readouterr().err


def test_predict_refuses_a_file_that_is_not_a_model(tmp_path, labelled_folder, capsys):
    fake = tmp_path / "model.skser"
    fake.write_text("just text")
    wav = str(labelled_folder / "anger" / "spk0_0.wav")
    assert main(["predict", str(fake), wav]) == 5
    err = capsys.readouterr().err
    assert "is not a skser model file" in err and str(fake) in err
    assert main(["predict", str(tmp_path / "absent.skser"), wav]) == 3
    assert "does not exist" in capsys.readouterr().err


def test_predict_unreadable_audio(svm_model, labelled_folder, tmp_path, capsys):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....not really a wav")
    good = labelled_folder / "anger" / "spk1_1.wav"
    assert main(["predict", str(svm_model), str(bad), str(good), "-q"]) == 4
    err = capsys.readouterr().err
    assert "broken.wav" in err and "--skip-bad" in err
    assert main(["predict", str(svm_model), str(bad), str(good), "--skip-bad",
                 "--format", "json", "-q"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data[0]["label"] is None and "broken.wav" in data[0]["error"]
    assert data[1]["label"] == "anger" and data[1]["error"] is None
    assert "skipped" in captured.err and "broken.wav" in captured.err  # never silent
    assert main(["predict", str(svm_model), str(tmp_path / "nope.wav")]) == 3


# -- the default model routes speakers ----------------------------------------------
def test_default_model_needs_and_gets_speakers(labelled_folder, tmp_path, capsys):
    out = tmp_path / "default.skser"
    assert main(["train", str(labelled_folder), "--model", "default", "-o", str(out),
                 "-q"]) == 2
    assert "needs the speaker of every file" in capsys.readouterr().err
    assert not out.exists()
    assert main(["train", str(labelled_folder), "--model", "default", "-o", str(out), "-q",
                 "--speaker-pattern", r"(spk\d)_"]) == 0
    files = [str(p) for p in sorted((labelled_folder / "anger").glob("spk2_*"))]
    assert main(["predict", str(out), *files, "-q"]) == 2
    assert "--speaker NAME" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["predict", str(out), *files, "--speaker", "new", "--format", "csv",
                 "-q"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert len(rows) == 3 and all(r["label"] in _F0 for r in rows)


def test_train_from_a_csv_table(labelled_folder, tmp_path):
    table = tmp_path / "files.csv"
    lines = ["path,emotion"] + [f"{p},{p.parent.name}"
                                for p in sorted(labelled_folder.rglob("*.wav"))]
    table.write_text("\n".join(lines) + "\n")
    out = tmp_path / "t.skser"
    assert main(["train", str(table), "-o", str(out), "-q"]) == 0
    assert read_manifest(out)["classes"] == ["anger", "neutral"]


# -- evaluate -------------------------------------------------------------------
def test_evaluate_writes_report_csvs_and_png(labelled_folder, tmp_path, capsys):
    out = tmp_path / "ev"
    assert main(["evaluate", str(labelled_folder), "--speaker-pattern", r"(spk\d)_",
                 "--protocol", "speaker-kfold", "--folds", "2", "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "speaker-independent" in text and "UAR" in text
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "report.md").read_text().startswith("# skser evaluate: svm")
    metrics = _csv((out / "metrics.csv").read_text())
    assert [m["statistic"] for m in metrics] == ["pooled", "mean", "std"]
    assert float(metrics[0]["uar"]) >= 0.9
    assert len(_csv((out / "folds.csv").read_text())) == 2
    assert len(_csv((out / "predictions.csv").read_text())) == 24
    # Without speakers only the random protocol can run, and it says what it is.
    assert main(["evaluate", str(labelled_folder), "--out", str(out), "-q"]) == 2
    assert "DATA has no speakers" in capsys.readouterr().err
    assert main(["evaluate", str(labelled_folder), "--protocol", "random", "--folds", "3",
                 "--out", str(out), "-q"]) == 0
    assert "speaker" in capsys.readouterr().out


# -- datasets ---------------------------------------------------------------------
def test_datasets_lists_a_fake_data_home(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    for name in ("03a01Fa", "03a01Wa", "08b02Nc"):
        path = home / "emodb-copy" / "wav" / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, make_tone(200, 0.1, 16000), 16000)
    (home / "tess" / "OAF_angry").mkdir(parents=True)
    sf.write(home / "tess" / "OAF_angry" / "OAF_back_angry.wav", make_tone(200, 0.1, 16000),
             16000)
    monkeypatch.setenv("SKSER_DATA", str(home))
    assert main(["datasets"]) == 0
    text = capsys.readouterr().out
    assert f"Data home: {home} ($SKSER_DATA)" in text
    assert f"present: {home / 'emodb-copy'} (3 files)" in text
    assert f"present: {home / 'tess'} (1 files)" in text
    assert "fetch_ravdess" in text and "sail.usc.edu/iemocap" in text
    assert main(["datasets", "--format", "json", "--data-home", str(tmp_path / "none")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exists"] is False and data["data_home_from"] == "--data-home"
    assert {c["name"] for c in data["corpora"]} >= {"emodb", "ravdess", "iemocap"}
    assert all(c["copies"] == [] for c in data["corpora"])
    assert not (tmp_path / "none").exists()  # looking does not create it


# -- arguments and help -----------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "datasets", "demo"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and "usage: skser " + command in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "X", "--model", "default", "--features", "mfcc"], "--features applies"),
    (["train", "X", "--model", "svm", "--epochs", "3"], "--epochs applies"),
    (["train", "X", "--features", "mfcc+nonsense"], "unknown ['nonsense']"),
    (["train", "X", "--model", "lightsernet", "--epochs", "0"], "--epochs must be"),
])
def test_bad_option_combinations_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_data_and_unknown_choices(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nowhere"), "-q"]) == 3
    assert "neither a corpus name" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["train", "X", "--model", "nonsense"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["predict", "model.skser"])  # no FILE
    assert exc.value.code == 2
    assert main(["train", "emodb", "--data-home", str(tmp_path), "-q"]) == 1
    assert "No copy of EMO-DB" in capsys.readouterr().err


def test_default_n_jobs_is_one_process():
    for argv in (["train", "X"], ["evaluate", "X"], ["predict", "m", "f"], ["demo"]):
        assert build_parser().parse_args(argv).n_jobs == 1


@pytest.mark.parametrize("model", ["default", "svm", "lightsernet", "timnet", "sernet",
                                   "cnn2d"])
def test_every_named_model_is_a_pipeline_from_audio(model):
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    from skser.cli._models import build_model

    pipe = build_model(model, epochs=None)
    assert isinstance(pipe, Pipeline) and pipe.steps[0][0] == "features"
    assert pipe.steps[-1][0] == "classifier"
    clone(pipe)


def test_neural_model_train_predict_round_trip(labelled_folder, tmp_path, capsys):
    out = tmp_path / "light.skser"
    assert main(["train", str(labelled_folder), "--model", "lightsernet", "--epochs", "1",
                 "--duration", "0.5", "-o", str(out), "-q"]) == 0
    manifest = read_manifest(out)
    assert manifest["final_estimator"] == "skser.models._lightsernet.LightSERNet"
    assert main(["predict", str(out), str(labelled_folder / "anger"), "--format", "json",
                 "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 12
    assert all(abs(sum(d["probabilities"].values()) - 1) < 1e-4 for d in data)


def test_predict_refuses_a_model_file_that_cannot_predict(tmp_path, labelled_folder, capsys):
    from skser import MFCC
    from skser.io import save

    path = save(MFCC(), tmp_path / "features-only.skser")
    assert main(["predict", str(path), str(labelled_folder / "anger"), "-q"]) == 5
    assert "does not predict labels" in capsys.readouterr().err


def test_svm_needs_five_files_per_emotion_for_its_calibration(tmp_path, capsys):
    for label, f0 in _F0.items():
        for n in range(5 if label == "neutral" else 3):
            path = tmp_path / label / f"spk{n}_{n}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, make_tone(f0 * (1 + 0.01 * n), 0.3, 16000), 16000)
    for command in (["train", "-o", str(tmp_path / "m.skser")], ["evaluate", "--protocol", "random"]):
        assert main([command[0], str(tmp_path), "--model", "svm", *command[1:], "-q"]) == 1
        err = capsys.readouterr().err
        assert "every emotion needs at least 5 of them; 'anger' has 3" in err
        assert "--model default" in err
    assert not (tmp_path / "m.skser").exists()
