"""The ``skser`` command line on a tiny RAVDESS-layout fixture."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from skser.cli import _load_corpus, build_parser, find_corpus_copies, main


@pytest.fixture
def tiny_ravdess(tmp_path, tone) -> Path:
    """4 actors x 2 emotions x 2 statements x 2 repetitions of 0.3 s tones."""
    root = tmp_path / "data" / "ravdess"
    freqs = {"01": 150.0, "05": 600.0}  # neutral low, anger high
    for actor in (1, 2, 3, 4):
        for emo, f0 in freqs.items():
            for statement in ("01", "02"):
                for rep in ("01", "02"):
                    name = f"03-01-{emo}-01-{statement}-{rep}-{actor:02d}.wav"
                    path = root / f"Actor_{actor:02d}" / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    y = tone(f0 * (1 + 0.02 * actor), 0.3, 16000)
                    sf.write(path, y, 16000)
    return root


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "--data-home" in out and "leave-one-speaker-out" in out


def test_parser_defaults_and_errors(capsys):
    args = build_parser().parse_args(["demo"])
    assert args.corpus == "ravdess" and args.out == Path("skser-demo") and not args.no_download
    args = build_parser().parse_args(["demo", "--corpus", "emodb", "-j", "2", "--no-download"])
    assert args.corpus == "emodb" and args.n_jobs == 2 and args.no_download
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--corpus", "nonsense"])
    assert exc.value.code == 2
    assert main([]) == 2


def test_missing_corpus_is_a_clear_error(tmp_path, capsys):
    status = main(["demo", "--data-home", str(tmp_path), "--no-download", "-q"])
    err = capsys.readouterr().err
    assert status == 1
    assert "No copy of RAVDESS speech" in err and "--no-download" in err and "--data PATH" in err


def test_demo_runs_on_tiny_corpus(tiny_ravdess, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["demo", "--data-home", str(tiny_ravdess.parent), "--no-download",
                   "--out", str(out), "-j", "1", "-q"])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "32 utterances" in text and "4 speakers" in text
    assert "leave-one-speaker-out (4 folds, speaker-independent)" in text
    uar = float(text.split("UAR")[1].split()[0])
    assert uar >= 0.9  # two well-separated tone classes
    assert "WA" in text and "macro-F1" in text
    png = out / "confusion_matrix.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "folds.csv").read_text().count("\n") == 5
    assert "Protocol" in (out / "summary.txt").read_text()


def test_demo_with_explicit_data_folder(tiny_ravdess, tmp_path, capsys):
    status = main(["demo", "--data", str(tiny_ravdess), "--out", str(tmp_path / "o"),
                   "-j", "1", "-q"])
    assert status == 0
    assert str(tiny_ravdess) in capsys.readouterr().out


def test_console_script_installed():
    exe = shutil.which("skser") or str(Path(sys.executable).parent / "skser")
    if not Path(exe).exists():
        pytest.skip("the skser console script is not installed in this environment")
    proc = subprocess.run([exe, "demo", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--corpus" in proc.stdout


# -- where the demo finds its corpus ------------------------------------------
def _tiny_emodb(folder: Path, tone, speakers=("03", "08", "09"), emotions="WN") -> Path:
    for speaker in speakers:
        for code, f0 in zip(emotions, (600.0, 150.0)):
            for text in ("a01", "a02"):
                path = folder / "wav" / f"{speaker}{text}{code}a.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, tone(f0 * (1 + 0.02 * int(speaker)), 0.3, 16000), 16000)
    return folder


def test_demo_finds_emodb_copies_under_any_name(tmp_path, tone, capsys):
    home = tmp_path / "data"
    _tiny_emodb(home / "emodb-2s", tone)
    _tiny_emodb(home / "emodb-4class", tone, speakers=("03", "08"))
    (home / "notes").mkdir()
    copies = find_corpus_copies(home, "emodb")
    assert [(p.name, n) for p, n in copies] == [("emodb-2s", 12), ("emodb-4class", 8)]
    out = tmp_path / "out"
    status = main(["demo", "--corpus", "emodb", "--data-home", str(home), "--no-download",
                   "--out", str(out), "-j", "1", "-q"])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "Found 2 copies of EMO-DB" in text and "using emodb-2s/" in text
    assert f"--data {home / 'emodb-4class'}" in text
    assert "12 utterances" in text and "3 speakers" in text
    # The fetchers' own folder name wins over size; --data picks among copies too.
    _tiny_emodb(home / "emodb", tone, speakers=("03", "08"))
    assert find_corpus_copies(home, "emodb")[0][0].name == "emodb"
    args = build_parser().parse_args(["demo", "--corpus", "emodb", "--data",
                                      str(home / "emodb-4class"), "-q"])
    assert len(_load_corpus(args).data) == 8


def test_demo_never_downloads_into_skser_data(tmp_path, monkeypatch, capsys):
    from skser import datasets

    def no_download(*args, **kwargs):  # pragma: no cover - the test fails if called
        raise AssertionError("a download was started")

    monkeypatch.setattr(datasets, "fetch_emodb", no_download)
    monkeypatch.setattr(datasets, "fetch_ravdess", no_download)
    home = tmp_path / "shared-data"
    monkeypatch.setenv("SKSER_DATA", str(home))
    for corpus in ("emodb", "ravdess"):
        status = main(["demo", "--corpus", corpus, "-q"])
        err = capsys.readouterr().err
        assert status == 1
        assert "$SKSER_DATA names it, and skser never downloads into it" in err
        assert "--data PATH" in err and "--data-home DIR" in err
    assert not home.exists()  # looking did not create it


def test_demo_downloads_only_into_a_chosen_data_home(tmp_path, monkeypatch):
    from skser import datasets

    calls = []
    monkeypatch.setattr(datasets, "fetch_emodb",
                        lambda home, **kw: calls.append((home, kw)) or "fetched")
    monkeypatch.setenv("SKSER_DATA", str(tmp_path / "elsewhere"))
    args = build_parser().parse_args(["demo", "--corpus", "emodb", "--data-home",
                                      str(tmp_path / "mine"), "-q"])
    assert _load_corpus(args) == "fetched"
    assert calls == [(tmp_path / "mine", {"download_if_missing": True, "verbose": False})]


@pytest.mark.shared_data
def test_demo_resolves_the_shared_emodb_folders(shared_data, monkeypatch, capsys):
    monkeypatch.setenv("SKSER_DATA", str(shared_data))
    corpus = _load_corpus(build_parser().parse_args(["demo", "--corpus", "emodb", "-q"]))
    text = capsys.readouterr().out
    assert len(corpus.data) == 535 and "using emodb-2s/" in text
    assert "--data " in text and "emodb-4class" in text
    args = build_parser().parse_args(["demo", "--corpus", "emodb", "-q",
                                      "--data", str(shared_data / "emodb-4class")])
    assert len(_load_corpus(args).data) == 339
