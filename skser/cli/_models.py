"""The named models of ``skser train`` and ``skser evaluate``: pipelines from audio to labels."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._common import UsageError

__all__ = ["MODELS", "FEATURES", "build_model", "model_help"]

#: Ten statistics per frame-level track, as the default system pools them.
_TEN = ("mean", "std", "min", "max", "slope", "p10", "p50", "p90", "skew", "kurtosis")


def _mfcc(n_jobs: int | None, verbose: bool) -> Any:
    from sklearn.pipeline import make_pipeline

    from ..features import MFCC, Functionals

    return make_pipeline(MFCC(deltas=2, n_jobs=n_jobs, verbose=verbose), Functionals())


def _logmel(n_jobs: int | None, verbose: bool) -> Any:
    from sklearn.pipeline import make_pipeline

    from ..features import Functionals, LogMel

    return make_pipeline(LogMel(n_mels=64, n_jobs=n_jobs, verbose=verbose), Functionals(_TEN))


def _lowlevel(n_jobs: int | None, verbose: bool) -> Any:
    from sklearn.pipeline import make_pipeline

    from ..features import Functionals, LowLevel

    return make_pipeline(LowLevel(n_jobs=n_jobs, verbose=verbose), Functionals(_TEN))


def _prosody(n_jobs: int | None, verbose: bool) -> Any:
    from ..features import Prosody

    return Prosody("functionals", n_jobs=n_jobs, verbose=verbose)


def _default_features(n_jobs: int | None, verbose: bool) -> Any:
    from .._default import make_default_classifier

    return make_default_classifier(n_jobs=n_jobs, verbose=verbose)[0]


#: ``--features`` of the classical models: utterance-level feature vectors.
FEATURES: dict[str, tuple[str, Callable[[int | None, bool], Any]]] = {
    "mfcc": ("MFCC(20, + deltas, delta-deltas) -> 5 functionals (300 values)", _mfcc),
    "logmel": ("LogMel(64 bands, dB) -> 10 functionals (640 values)", _logmel),
    "lowlevel": ("LowLevel (ZCR, RMS, chroma, spectral shape) -> 10 functionals", _lowlevel),
    "prosody": ("Prosody functionals (F0, energy, voicing, jitter, shimmer, HNR)", _prosody),
    "default": ("the default system's MFCC + LowLevel + LogMel functionals (1610 values)",
                _default_features),
}


@dataclass(frozen=True)
class ModelSpec:
    """One named model: what it is and how it is built."""

    summary: str
    build: Callable[..., Any]
    neural: bool = False
    takes_features: bool = False
    default_features: str | None = None


def _default(*, n_jobs, verbose, features, epochs, duration, random_state) -> Any:
    from .._default import make_default_classifier

    return make_default_classifier(n_jobs=n_jobs, verbose=verbose)


def _features_union(names: list[str], n_jobs: int | None, verbose: bool) -> Any:
    from sklearn.pipeline import FeatureUnion

    if len(names) == 1:
        return FEATURES[names[0]][1](n_jobs, verbose)
    return FeatureUnion([(name, FEATURES[name][1](n_jobs, verbose)) for name in names])


def _svm(*, n_jobs, verbose, features, epochs, duration, random_state) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return Pipeline([
        ("features", _features_union(features, n_jobs, verbose)),
        ("standardscaler", StandardScaler()),
        # Probabilities by Platt scaling on 5-fold out-of-fold SVM decisions, with
        # one SVC fitted on all rows (ensemble=False): what SVC(probability=True)
        # did, the way scikit-learn >= 1.9 asks for. predict is the most probable class.
        ("classifier", CalibratedClassifierCV(SVC(class_weight="balanced"), ensemble=False)),
    ])


def _neural_params(epochs: int | None, random_state: int | None, verbose: bool) -> dict:
    params: dict[str, Any] = {"random_state": random_state, "verbose": int(verbose)}
    if epochs is not None:
        params["max_epochs"] = epochs
    return params


def _lightsernet(*, n_jobs, verbose, features, epochs, duration, random_state) -> Any:
    from sklearn.pipeline import Pipeline

    from ..features import MFCC
    from ..models import LightSERNet

    return Pipeline([
        ("features", MFCC.light_sernet(duration=duration or 3.0, n_jobs=n_jobs,
                                       verbose=verbose)),
        ("classifier", LightSERNet(**_neural_params(epochs, random_state, verbose))),
    ])


def _timnet(*, n_jobs, verbose, features, epochs, duration, random_state) -> Any:
    from sklearn.pipeline import Pipeline

    from ..features import MFCC
    from ..models import TIMNet

    return Pipeline([
        ("features", MFCC.timnet(duration=duration or 3.0, n_jobs=n_jobs, verbose=verbose)),
        ("classifier", TIMNet(**_neural_params(epochs, random_state, verbose))),
    ])


def _sernet(*, n_jobs, verbose, features, epochs, duration, random_state) -> Any:
    from sklearn.pipeline import Pipeline

    from ..features import SERNetFeatures
    from ..models import SERNet

    return Pipeline([
        ("features", SERNetFeatures(duration=duration, n_jobs=n_jobs, verbose=verbose)),
        ("classifier", SERNet(**_neural_params(epochs, random_state, verbose))),
    ])


def _cnn2d(*, n_jobs, verbose, features, epochs, duration, random_state) -> Any:
    from sklearn.pipeline import Pipeline

    from ..features import LogMel
    from ..models import CNN2D

    return Pipeline([
        ("features", LogMel(n_mels=128, sr=16000, duration=duration or 3.0, n_jobs=n_jobs,
                            verbose=verbose)),
        ("classifier", CNN2D(**_neural_params(epochs, random_state, verbose))),
    ])


MODELS: dict[str, ModelSpec] = {
    "default": ModelSpec(
        "skser.make_default_classifier(): MFCC + LowLevel + LogMel functionals -> "
        "per-speaker normalisation -> logistic regression (needs speakers)", _default),
    "svm": ModelSpec(
        "the classical floor: utterance features (--features, default mfcc) -> "
        "StandardScaler -> SVC(rbf, class_weight='balanced'), Platt-calibrated", _svm,
        takes_features=True, default_features="mfcc"),
    "lightsernet": ModelSpec(
        "MFCC.light_sernet(duration 3 s) -> LightSERNet (Aftab et al. 2022)", _lightsernet,
        neural=True),
    "timnet": ModelSpec(
        "MFCC.timnet(duration 3 s, 22.05 kHz) -> TIMNet (Ye et al. 2023)", _timnet,
        neural=True),
    "sernet": ModelSpec(
        "SERNetFeatures (MFCC + deltas, log-mel, prosody per frame) -> SERNet", _sernet,
        neural=True),
    "cnn2d": ModelSpec(
        "LogMel(128 bands, duration 3 s) -> CNN2D (the CREMA-D 2-D CNN)", _cnn2d,
        neural=True),
}


def model_help() -> str:
    """One line per model, for ``--help``."""
    width = max(map(len, MODELS))
    lines = [f"  {name:<{width}}  {spec.summary}" for name, spec in MODELS.items()]
    lines.append("--features (svm only), '+'-joined, e.g. mfcc+prosody:")
    lines += [f"  {name:<{width}}  {text}" for name, (text, _) in FEATURES.items()]
    return "\n".join(lines)


def build_model(
    name: str,
    *,
    features: str | None = None,
    epochs: int | None = None,
    duration: float | None = None,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> Any:
    """The unfitted pipeline of model ``name``, from audio paths to labels.

    Raises
    ------
    UsageError
        If an option does not apply to the model, or names unknown features.
    """
    spec = MODELS[name]
    if features is not None and not spec.takes_features:
        raise UsageError(f"--features applies to the svm model; the {name} model has "
                         f"its own front end ({spec.summary}).")
    if not spec.neural and epochs is not None:
        raise UsageError(f"--epochs applies to the neural models; {name} is not one.")
    if name in ("default", "svm") and duration is not None:
        raise UsageError(f"--duration applies to the neural models; {name} uses each "
                         "utterance whole.")
    feature_names = (features or spec.default_features or "").split("+")
    unknown = [f for f in feature_names if spec.takes_features and f not in FEATURES]
    if unknown:
        raise UsageError(f"--features: unknown {unknown}; choose from {list(FEATURES)}, "
                         "joined with '+' (e.g. mfcc+prosody).")
    return spec.build(n_jobs=n_jobs, verbose=verbose, features=feature_names, epochs=epochs,
                      duration=duration, random_state=random_state)
