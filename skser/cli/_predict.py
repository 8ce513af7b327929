"""``skser predict``: label and class probabilities of audio files from a saved model."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from ._common import UsageError, add_run_arguments, expand_audio_paths, info
from ._train import speakers_for

__all__ = ["add_predict_parser", "run_predict"]


def add_predict_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``skser predict`` to the sub-command parsers ``commands``."""
    parser = commands.add_parser(
        "predict",
        help="label and class probabilities of audio files, from a saved model",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Load MODEL (a file written by `skser train` or skser.io.save; any other\n"
            "file is refused) and print, for every FILE, the predicted label and the\n"
            "probability of each class. A folder stands for every audio file below\n"
            "it (recursively: .wav, .flac, .ogg, .mp3, ...). The table goes to stdout,\n"
            "messages to stderr."
        ),
    )
    parser.add_argument("model", metavar="MODEL", type=Path, help="a .skser model file")
    parser.add_argument("files", metavar="FILE", nargs="+",
                        help="audio files or folders of audio files")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="output format (default: table)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="report unreadable audio files (stderr and the error column) "
                             "and predict the others, instead of stopping with status 4")
    speakers = parser.add_mutually_exclusive_group()
    speakers.add_argument("--speaker", default=None, metavar="NAME",
                          help="models that normalise per speaker (default): every FILE is "
                               "from this one speaker")
    speakers.add_argument("--speaker-pattern", default=None, metavar="REGEX",
                          help="models that normalise per speaker: the speaker of each file "
                               "is this regular expression's group 'speaker' (or 1) in its "
                               "path")
    add_run_arguments(parser)
    parser.set_defaults(run=run_predict)
    return parser


def _speakers(args: argparse.Namespace, files: list[Path]) -> list[str] | None:
    if args.speaker is not None:
        return [args.speaker] * len(files)
    if args.speaker_pattern is None:
        return None
    try:
        pattern = re.compile(args.speaker_pattern)
    except re.error as exc:
        raise UsageError(f"--speaker-pattern {args.speaker_pattern!r}: {exc}") from exc
    speakers = []
    for f in files:
        m = pattern.search(f.as_posix())
        if m is None:
            raise UsageError(f"--speaker-pattern {args.speaker_pattern!r} does not match "
                             f"{f}; every file needs a speaker.")
        name = "speaker" if "speaker" in pattern.groupindex else (1 if pattern.groups else 0)
        speakers.append(m.group(name))
    return speakers


def _readable(files: list[Path]) -> dict[int, str]:
    """Row -> reason, for every file that the audio contract cannot read."""
    from .._audio import load_audio
    from ..exceptions import AudioInputError

    bad = {}
    for row, f in enumerate(files):
        try:
            load_audio(f)
        except (AudioInputError, OSError) as exc:
            bad[row] = str(exc)
    return bad


def _rows(files: list[Path], labels: Any, proba: Any, classes: list[str],
          errors: dict[int, str]) -> list[dict[str, Any]]:
    """One output row per file, in input order; skipped files carry their error."""
    rows = []
    done = iter(range(len(labels)))
    for row, f in enumerate(files):
        if row in errors:
            rows.append({"file": str(f), "label": None,
                         "probabilities": dict.fromkeys(map(str, classes)),
                         "error": errors[row]})
            continue
        i = next(done)
        probs = ({str(c): float(p) for c, p in zip(classes, proba[i])}
                 if proba is not None else dict.fromkeys(map(str, classes)))
        label = labels[i].item() if hasattr(labels[i], "item") else labels[i]
        rows.append({"file": str(f), "label": label, "probabilities": probs, "error": None})
    return rows


def _write(rows: list[dict[str, Any]], fmt: str) -> None:
    """``rows`` to stdout as an aligned table, CSV or JSON."""
    import pandas as pd

    if fmt == "json":
        keep_error = any(r["error"] for r in rows)
        out = [r if keep_error else {k: v for k, v in r.items() if k != "error"} for r in rows]
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    frame = pd.DataFrame([{"file": r["file"], "label": r["label"], **r["probabilities"],
                           **({"error": r["error"]} if any(x["error"] for x in rows) else {})}
                          for r in rows])
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False, float_format="%.6f")
        return
    print(frame.to_string(index=False, na_rep="-",
                          float_format=lambda v: f"{v:.3f}"))


def _set_run_options(model: Any, *, n_jobs: int | None, verbose: bool) -> None:
    """This run's ``n_jobs`` and progress bars on the model's feature transformers."""
    from ..features._base import BaseAudioTransformer

    for value in [model, *model.get_params(deep=True).values()] if hasattr(
            model, "get_params") else [model]:
        if isinstance(value, BaseAudioTransformer):
            value.set_params(n_jobs=n_jobs, verbose=verbose)


def _predict(model: Any, X: list[str], speakers: Any) -> tuple[Any, Any]:
    """Labels and probabilities (None without predict_proba), features computed once."""
    import numpy as np
    from sklearn import config_context
    from sklearn.pipeline import Pipeline

    fix = ("pass --speaker NAME (every file from one speaker) or --speaker-pattern REGEX; "
           "a speaker's statistics are stable from about 10 files on.")
    with config_context(enable_metadata_routing=True):
        final, Xt = model, X
        if isinstance(model, Pipeline) and len(model) > 1:
            head, final = model[:-1], model[-1]
            Xt = head.transform(X, **speakers_for(head, "transform", speakers, fix=fix))
        labels = np.asarray(final.predict(Xt, **speakers_for(final, "predict", speakers,
                                                             fix=fix)))
        proba = None
        if hasattr(final, "predict_proba"):
            proba = np.asarray(final.predict_proba(
                Xt, **speakers_for(final, "predict_proba", speakers, fix=fix)))
    return labels, proba


def run_predict(args: argparse.Namespace) -> int:
    """Run ``skser predict``; return the exit status."""
    import numpy as np

    from ..exceptions import AudioInputError, ModelFileError
    from ..io import load, read_manifest

    if not args.model.is_file():
        what = "is a folder" if args.model.is_dir() else "does not exist"
        raise FileNotFoundError(f"MODEL {args.model} {what}; give a .skser file written "
                                "by `skser train`.")
    manifest = read_manifest(args.model)  # refuses non-model files before any audio work
    files = expand_audio_paths(args.files)
    model = load(args.model)
    if not hasattr(model, "predict"):
        raise ModelFileError(f"{args.model} holds a {type(model).__name__}, which does not "
                             "predict labels; give a model written by `skser train`.")
    if not args.quiet:
        info(f"Model: {args.model} ({manifest['final_estimator'].rsplit('.', 1)[-1]}, "
             f"classes {manifest['classes']}, skser {manifest['versions'].get('skser')}); "
             f"{len(files)} file(s)")
    errors = _readable(files) if args.skip_bad else {}
    for row, why in errors.items():
        info(f"skser predict: skipped {files[row]}: {why}")
    keep = [f for row, f in enumerate(files) if row not in errors]
    speakers = _speakers(args, files)
    if speakers is not None:
        speakers = np.asarray([s for row, s in enumerate(speakers) if row not in errors],
                              dtype=object)
    classes = [str(c) for c in (manifest["classes"] or getattr(model, "classes_", []))]
    labels, proba = np.array([], dtype=object), None
    if keep:
        _set_run_options(model, n_jobs=args.n_jobs, verbose=not args.quiet)
        try:
            labels, proba = _predict(model, [str(f) for f in keep], speakers)
        except AudioInputError as exc:
            raise AudioInputError(f"{exc} (Pass --skip-bad to predict the other files "
                                  "and report the unreadable ones.)") from exc
    _write(_rows(files, labels, proba, classes, errors), args.format)
    if errors and not args.quiet:
        info(f"skser predict: {len(errors)} of {len(files)} file(s) could not be read "
             "(listed above and in the error column).")
    return 0
