"""The default system against the classical floor, leave-one-speaker-out.

Two parts, on the shared corpora (``$SKSER_DATA`` or ``--data``): EMO-DB (2 s
copy, 535 files, 7 classes), EMO-DB original 4-class subset (339) and RAVDESS
speech (1440, 8 classes).

``--part nested`` (model choice): nested speaker-independent evaluation of a
fixed pool of candidate systems (``POOLS``). In every outer
leave-one-speaker-out fold, each candidate is scored by an inner
``GroupKFold(4)`` over the *training* speakers only (pooled inner UAR); the
best one is refitted on all training speakers and predicts the held-out
speaker. Reported: the pooled outer UAR of this select-then-train procedure
(an honest estimate: no choice ever saw the test speaker) and how often each
candidate was chosen. ``skser.make_default_classifier`` is the candidate
chosen most often.

``--part report`` (the table in README / docs): ``make_default_classifier()``
and the floor ``make_pipeline(MFCC(deltas=2), Functionals(), StandardScaler(),
SVC(class_weight="balanced"))`` (``benchmarks/bench_classical.py``), both
evaluated with :func:`skser.model_selection.evaluate` and
``LeaveOneSpeakerOut`` in the same run. Features are computed once per corpus
(they are stateless) and cached with ``joblib.Memory``; the reported training
time is the mean fit time per fold of the trainable part (speaker
normalisation, scaler, classifier) and the feature extraction time is given
separately.

Usage::

    SKSER_DATA=../shared/data python benchmarks/default_system.py --part report
    SKSER_DATA=../shared/data python benchmarks/default_system.py --part nested
        [--corpus emodb-2s ravdess] [--cache /tmp/skser-cache]
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import skser
from skser.datasets import load_emodb, load_ravdess
from skser.features import MFCC, Functionals, LogMel, LowLevel
from skser.model_selection import LeaveOneSpeakerOut, evaluate
from skser.preprocessing import SpeakerNormalizer

CORPORA = {
    "emodb-2s": ("EMO-DB (2 s copy)", lambda d: load_emodb(d / "emodb-2s")),
    "emodb-4class": ("EMO-DB original, 4-class subset", lambda d: load_emodb(d / "emodb-4class")),
    "ravdess": ("RAVDESS speech", lambda d: load_ravdess(d / "ravdess")),
}

#: 25 ms / 10 ms frames at 16 kHz, as in ``skser demo``.
FRAMING = dict(sr=16000, n_fft=512, win_length=400, hop_length=160)
F5 = ("mean", "std", "min", "max", "slope")
F10 = F5 + ("p10", "p50", "p90", "skew", "kurtosis")


def frame_extractors(cache: str) -> dict:
    return {
        "mfcc40": MFCC(n_mfcc=40, n_mels=64, deltas=1, memory=cache, **FRAMING),
        "lowlevel": LowLevel(memory=cache, **FRAMING),
        "logmel64": LogMel(n_mels=64, memory=cache, **FRAMING),
    }


def _svc(C: float):
    return lambda: SVC(C=C, gamma="scale", class_weight="balanced")


def _logistic(C: float):
    return lambda: LogisticRegression(C=C, class_weight="balanced", max_iter=2000)


#: Candidates: name -> (frame features, functionals, utterance-level speaker
#: normalisation, classifier factory). A frame-feature name ending in "@spk" is
#: standardised per speaker at frame level (3-D SpeakerNormalizer) before the
#: functionals. Fixed before each run; the nested evaluation chooses among them.
#:
#: Pool 1 (first run, 2026-11-29): chose "mfcc+lld F10, speaker, logistic C=0.01"
#: in 9 of 10 outer folds on the EMO-DB 2 s copy (nested UAR 0.747) and in all
#: of the 8 RAVDESS folds it finished before it was stopped; as a fixed recipe that system reached
#: 0.587 UAR on RAVDESS, short of the 0.60 target, so pool 2 (the default
#: ``--pool 2``) adds cheap variants around it; the SVMs never won and are dropped.
POOLS = {
    1: {
        "mfcc F5, global, SVC C=10": (("mfcc40",), F5, None, _svc(10.0)),
        "mfcc F5, speaker, SVC C=10": (("mfcc40",), F5, "mean", _svc(10.0)),
        "mfcc+lld F5, speaker, SVC C=10": (("mfcc40", "lowlevel"), F5, "mean", _svc(10.0)),
        "mfcc+lld F10, speaker, SVC C=10": (("mfcc40", "lowlevel"), F10, "mean", _svc(10.0)),
        "mfcc+lld F10, speaker, SVC C=1": (("mfcc40", "lowlevel"), F10, "mean", _svc(1.0)),
        "mfcc+lld F10, speaker robust, SVC C=10": (
            ("mfcc40", "lowlevel"), F10, "robust", _svc(10.0)),
        "mfcc+lld F10, speaker, logistic C=0.01": (
            ("mfcc40", "lowlevel"), F10, "mean", _logistic(0.01)),
    },
    2: {
        "mfcc+lld F10, speaker, logistic C=0.01": (
            ("mfcc40", "lowlevel"), F10, "mean", _logistic(0.01)),
        "mfcc+lld F10, speaker, logistic C=0.003": (
            ("mfcc40", "lowlevel"), F10, "mean", _logistic(0.003)),
        "mfcc+lld F10, speaker, logistic C=0.03": (
            ("mfcc40", "lowlevel"), F10, "mean", _logistic(0.03)),
        "frame-speaker mfcc+lld F10, speaker, logistic C=0.01": (
            ("mfcc40@spk", "lowlevel@spk"), F10, "mean", _logistic(0.01)),
        "mfcc+lld+logmel F10, speaker, logistic C=0.01": (
            ("mfcc40", "lowlevel", "logmel64"), F10, "mean", _logistic(0.01)),
    },
}


def candidate_features(corpus, cache: str, candidates: dict) -> dict:
    """Utterance-level features of every candidate's (frames, functionals) pair.

    Frame-level speaker normalisation is applied once to the whole corpus: every
    speaker has at least ``min_utterances`` rows, so a speaker's statistics come
    from that speaker's own frames whether it is in a training fold (``fit``) or
    held out (``transform``, transductive). The result is exactly what a
    ``SpeakerNormalizer`` refitted in every fold gives, at a fraction of the cost.
    """
    extractors = frame_extractors(cache)
    needed = {n.split("@")[0] for names, *_ in candidates.values() for n in names}
    frames = {name: extractors[name].transform(list(corpus.data)) for name in sorted(needed)}
    for names, *_ in candidates.values():
        for name in names:
            if name.endswith("@spk") and name not in frames:
                frames[name] = SpeakerNormalizer(min_utterances=5).fit_transform(
                    frames[name.split("@")[0]], groups=np.asarray(corpus.groups))
    out = {}
    for frame_names, functionals, _, _ in candidates.values():
        key = (frame_names, functionals)
        if key not in out:
            out[key] = np.hstack(
                [Functionals(functionals).fit_transform(frames[n]) for n in frame_names]
            )
    return out


def _fit_predict(candidate, X, y, groups, train, test):
    _, _, norm, classifier = candidate
    steps = [StandardScaler(), classifier()]
    if norm is not None:
        steps.insert(0, SpeakerNormalizer(robust=norm == "robust", min_utterances=5))
    model = make_pipeline(*steps)
    if norm is None:
        return model.fit(X[train], y[train]).predict(X[test])
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(X[train], y[train], groups=groups[train])
        return model.predict(X[test], groups=groups[test])


def nested(corpus, cache: str, candidates: dict) -> tuple[float, Counter, dict]:
    """Pooled outer UAR of inner-CV selection, choices, and per-candidate inner UAR."""
    y = np.asarray(corpus.target, dtype=object)
    groups = np.asarray(corpus.groups)
    features = candidate_features(corpus, cache, candidates)
    y_pred = np.empty(len(y), dtype=object)
    chosen: Counter = Counter()
    inner_scores: dict = {name: [] for name in candidates}
    for train, test in LeaveOneGroupOut().split(y, y, groups):
        best, best_score = None, -1.0
        for name, candidate in candidates.items():
            X = features[candidate[:2]]
            inner_pred = np.empty(len(train), dtype=object)
            for itr, ite in GroupKFold(4).split(train, y[train], groups[train]):
                inner_pred[ite] = _fit_predict(
                    candidate, X[train], y[train], groups[train], itr, ite
                )
            score = balanced_accuracy_score(y[train], inner_pred)
            inner_scores[name].append(score)
            if score > best_score:
                best, best_score = name, score
        chosen[best] += 1
        candidate = candidates[best]
        y_pred[test] = _fit_predict(candidate, features[candidate[:2]], y, groups, train, test)
        print(f"  test speaker {groups[test][0]}: chose {best!r} (inner UAR "
              f"{best_score:.3f}), test UAR "
              f"{balanced_accuracy_score(y[test], y_pred[test]):.3f}", flush=True)
    return balanced_accuracy_score(y, y_pred), chosen, inner_scores


def floor_pipeline(cache: str):
    """The plain classical floor of ``benchmarks/bench_classical.py``, split in two."""
    return (
        make_pipeline(MFCC(deltas=2, memory=cache), Functionals()),
        make_pipeline(StandardScaler(), SVC(class_weight="balanced")),
    )


def default_pipeline(cache: str):
    """``make_default_classifier()`` split into its stateless features and the rest."""
    model = skser.make_default_classifier(memory=cache)
    return model[:1], model[1:]


def report(corpus, cache: str) -> dict:
    y, groups = np.asarray(corpus.target, dtype=object), np.asarray(corpus.groups)
    rows = {}
    for system, (features, trainable) in (("floor", floor_pipeline(cache)),
                                          ("default", default_pipeline(cache))):
        start = time.perf_counter()
        X = features.fit_transform(list(corpus.data))
        feature_time = time.perf_counter() - start
        result = evaluate(trainable, X, y, groups=groups, cv=LeaveOneSpeakerOut())
        rows[system] = {"result": result, "feature_time": feature_time,
                        "fit_time": float(result.folds["fit_time"].mean()),
                        "n_features": X.shape[1]}
        print(f"  {system}: {X.shape[1]} features ({feature_time:.1f} s, from the cache "
              f"after the first run), UAR {result.pooled['uar']:.4f}, WA "
              f"{result.pooled['wa']:.4f}, macro-F1 {result.pooled['macro_f1']:.4f}, "
              f"ROC AUC {result.pooled['roc_auc']:.4f}, mean fit "
              f"{rows[system]['fit_time']:.2f} s per fold", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("SKSER_DATA"),
                        help="folder holding emodb-2s/, emodb-4class/, ravdess/ "
                             "(default: $SKSER_DATA)")
    parser.add_argument("--part", choices=["report", "nested"], default="report")
    parser.add_argument("--pool", type=int, choices=sorted(POOLS), default=2,
                        help="candidate pool of --part nested (default: 2)")
    parser.add_argument("--corpus", nargs="+", choices=list(CORPORA), default=list(CORPORA))
    parser.add_argument("--cache", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "skser-default-system-cache"),
        help="joblib.Memory folder for the frame-level features")
    args = parser.parse_args(argv)
    if args.data is None or not Path(args.data).is_dir():
        parser.error("set SKSER_DATA or pass --data")
    data = Path(args.data)
    print(f"skser {skser.__version__} default system | python {platform.python_version()}, "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs | protocol: leave-one-speaker-out | "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    warnings.simplefilter("ignore", UserWarning)
    table = []
    for key in args.corpus:
        title, load = CORPORA[key]
        corpus = load(data)
        print(f"\n== {title}: {len(corpus.data)} utterances, "
              f"{len(np.unique(corpus.groups))} speakers", flush=True)
        start = time.perf_counter()
        if args.part == "nested":
            uar, chosen, inner = nested(corpus, args.cache, POOLS[args.pool])
            print(f"  nested selection: pooled outer UAR {uar:.4f} "
                  f"({time.perf_counter() - start:.0f} s)")
            print("  chosen:", dict(chosen.most_common()))
            for name, scores in inner.items():
                print(f"  inner UAR {np.mean(scores):.4f}  {name}")
            table.append((title, uar, chosen.most_common(1)[0][0]))
        else:
            rows = report(corpus, args.cache)
            table.append((title, rows))
    print()
    if args.part == "nested":
        print("| corpus copy | nested selection UAR (pooled) | chosen most often |")
        print("|---|---|---|")
        for title, uar, best in table:
            print(f"| {title} | {uar:.3f} | {best} |")
    else:
        print("| corpus copy | floor UAR | default UAR | gain | default WA | default macro-F1 "
              "| default ROC AUC | fit per fold (floor / default) |")
        print("|---|---|---|---|---|---|---|---|")
        for title, rows in table:
            f, d = rows["floor"], rows["default"]
            print(f"| {title} | {f['result'].pooled['uar']:.3f} | "
                  f"{d['result'].pooled['uar']:.3f} | "
                  f"{d['result'].pooled['uar'] - f['result'].pooled['uar']:+.3f} | "
                  f"{d['result'].pooled['wa']:.3f} | {d['result'].pooled['macro_f1']:.3f} | "
                  f"{d['result'].pooled['roc_auc']:.3f} | "
                  f"{f['fit_time']:.2f} s / {d['fit_time']:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
