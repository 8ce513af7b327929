"""Save and load fitted models as one file that is safe to load from a stranger.

A saved model is a ZIP archive with two members:

``manifest.json``
    What the file holds and what made it: the skser, scikit-learn, numpy,
    scipy, skops, torch and Python versions, the estimator's class (and the
    final step's, for a pipeline), its class labels (``classes_``) and the
    SHA-256 of the payload.
``model.skops``
    The estimator in the :mod:`skops.io` format: a description of the object
    graph and numpy arrays, never a pickle.

:func:`load` reads the manifest, checks the payload's SHA-256, lists every
type the payload would create, and refuses the file unless each of them is on
skser's allow-list (:func:`trusted_types`: the public estimators of skser,
scikit-learn and imbalanced-learn, scikit-learn's splitters, and the builtin,
numpy and scipy data types that skops trusts itself) or was named by the caller in
``trusted``. Only then is any object built, so loading a file never imports a
module or calls a function that the file chooses.

The neural classifiers save the weights of their torch module as numpy
arrays (see ``BaseNeuralClassifier.__getstate__``) and rebuild the module
when loaded, on the CPU when the machine has no CUDA.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import platform
import warnings
import zipfile
from collections.abc import Iterable
from functools import lru_cache
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ._atomic import atomic_path
from .exceptions import ModelFileError, ModelVersionWarning

__all__ = ["save", "load", "read_manifest", "trusted_types"]

FORMAT_NAME = "skser-model"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PAYLOAD_NAME = "model.skops"
#: A manifest larger than this is not one skser wrote (it is a few kB).
_MAX_MANIFEST_BYTES = 1 << 20

#: Packages whose versions the manifest records (distribution names).
_VERSIONED_PACKAGES = ("skser", "scikit-learn", "numpy", "scipy", "skops", "torch")
#: Packages whose version difference between saving and loading is warned about.
_WARN_ON_MISMATCH = ("skser", "scikit-learn")

#: imbalanced-learn modules whose public estimators are trusted (scikit-learn's
#: come from sklearn.utils.all_estimators, skser's from skser.utils.all_estimators).
_IMBLEARN_MODULES = (
    "imblearn",
    "imblearn.combine",
    "imblearn.ensemble",
    "imblearn.over_sampling",
    "imblearn.pipeline",
    "imblearn.under_sampling",
)
#: Further types that hold only data (skops already trusts the builtin
#: containers and scalars, numpy arrays, dtypes, random generators and ufuncs,
#: scipy sparse matrices and ufuncs).
_DATA_TYPES = (
    "builtins.frozenset",
    # memory=FeatureCache(folder): a folder path (load sets memory to None anyway).
    "skser._cache.FeatureCache",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    # GridSearchCV(scoring=None).scorer_: calls the estimator's own score method.
    "sklearn.metrics._scorer._PassthroughScorer",
    # The fitted parts of CalibratedClassifierCV (scikit-learn's replacement for
    # SVC(probability=True)): a (classifier, calibrators, classes) record and the
    # Platt sigmoid's two floats a_ and b_. skops rebuilds them by setting
    # attributes; neither defines __setstate__/__reduce__, so loading one runs no
    # code, and their methods only do arithmetic on those attributes. (The
    # isotonic calibrator is the public IsotonicRegression, trusted already.)
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
)


def _installed_version(package: str) -> str | None:
    if package == "skser":
        from . import __version__

        return __version__
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_estimators(module_name: str) -> Iterable[type]:
    from sklearn.base import BaseEstimator

    module = import_module(module_name)
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name, None)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            yield obj


def _sklearn_splitters() -> Iterable[type]:
    import sklearn.model_selection as ms

    for name in ms.__all__:
        obj = getattr(ms, name)
        if inspect.isclass(obj) and hasattr(obj, "split") and hasattr(obj, "get_n_splits"):
            yield obj


@lru_cache(maxsize=1)
def _trusted_types() -> tuple[str, ...]:
    from sklearn.utils import all_estimators as sklearn_estimators

    from .utils import all_estimators

    classes: set[type] = {cls for _, cls in all_estimators()}
    classes |= {cls for _, cls in sklearn_estimators()}
    classes |= set(_sklearn_splitters())
    for module_name in _IMBLEARN_MODULES:
        classes |= set(_public_estimators(module_name))
    names = {_type_name(cls) for cls in classes} | set(_DATA_TYPES)
    return tuple(sorted(names))


def trusted_types() -> list[str]:
    """The types that :func:`load` builds from a file without being told to.

    These are the public estimator classes of skser (see
    :func:`skser.utils.all_estimators`), scikit-learn and imbalanced-learn,
    scikit-learn's cross-validation splitters, ``frozenset``, the scorer
    that ``GridSearchCV`` uses by default and the fitted calibrators inside
    ``CalibratedClassifierCV`` (sigmoid or isotonic). skops trusts, in addition, the
    builtin containers and scalars, numpy arrays, dtypes, random generators and
    ufuncs, and scipy sparse matrices and ufuncs. No other function or class is
    trusted: a file that needs one fails to load unless the caller names it in
    ``trusted``.

    Returns
    -------
    names : list of str
        Fully qualified type names, sorted (``"module.QualName"``).

    Examples
    --------
    >>> from skser.io import trusted_types
    >>> "skser.features._mfcc.MFCC" in trusted_types()
    True
    >>> "builtins.eval" in trusted_types()
    False
    """
    return list(_trusted_types())


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data (numpy arrays and scalars as lists and Python scalars)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return [str(v) for v in value] if isinstance(value, list) else str(value)
    return value


def _final_estimator(estimator: Any) -> Any:
    for attr in ("best_estimator_", "_final_estimator"):
        inner = getattr(estimator, attr, None)
        if inner is not None and inner is not estimator:
            return _final_estimator(inner)
    return estimator


def _manifest(estimator: Any, payload: bytes) -> dict:
    try:
        classes = getattr(estimator, "classes_", None)
    except Exception:  # an unfitted pipeline's property may raise anything
        classes = None
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "estimator": _type_name(type(estimator)),
        "final_estimator": _type_name(type(_final_estimator(estimator))),
        "classes": None if classes is None else _jsonable(classes),
        "versions": {
            **{pkg: _installed_version(pkg) for pkg in _VERSIONED_PACKAGES},
            "python": platform.python_version(),
        },
        "payload": PAYLOAD_NAME,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }


def _untrusted(payload: bytes, trusted: list[str]) -> list[str]:
    import skops.io as sio

    allowed = set(_trusted_types()) | set(trusted)
    return sorted(set(sio.get_untrusted_types(data=payload)) - allowed)


def _check_trusted_arg(trusted: Any) -> list[str]:
    if trusted is None:
        return []
    if isinstance(trusted, str) or not isinstance(trusted, (list, tuple, set, frozenset)) or not all(
        isinstance(t, str) for t in trusted
    ):
        from .exceptions import ParameterError

        raise ParameterError(
            "trusted must be None or a list of fully qualified type names "
            f"(e.g. ['mypackage.MyTransformer']); got {trusted!r}. There is no "
            "'trust everything' setting."
        )
    return sorted(trusted)


def _reset_memory(obj: Any) -> list[str]:
    """Set every non-None ``memory`` parameter in the object graph to None.

    Walks estimators (also fitted ones held in attributes, such as
    ``best_estimator_`` or a pipeline's steps) and the lists, tuples and dicts
    they hold. Returns where a parameter was reset (``Class.memory`` paths).
    """
    from sklearn.base import BaseEstimator

    reset: list[str] = []
    seen: set[int] = set()

    def visit(node: Any, where: str) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, BaseEstimator):
            if "memory" in node.get_params(deep=False) and node.memory is not None:
                node.set_params(memory=None)
                reset.append(f"{where}.memory")
            for key, value in vars(node).items():
                visit(value, f"{where}.{key}")
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                visit(value, f"{where}[{i}]")
        elif isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{where}[{key!r}]")

    visit(obj, type(obj).__name__)
    return reset


def save(estimator: Any, path: str | os.PathLike, *, trusted: list[str] | None = None) -> Path:
    """Save a fitted estimator or pipeline to one file that :func:`load` reads safely.

    The file is written next to ``path`` under a temporary name and renamed
    into place once complete, so ``path`` never holds a partial file (an
    existing file is replaced only by a complete one).

    Parameters
    ----------
    estimator : estimator
        Any skser or scikit-learn estimator, fitted or not: a classifier, a
        transformer, a :class:`~sklearn.pipeline.Pipeline` (feature
        transformers included) or imbalanced-learn pipeline, a fitted
        ``GridSearchCV``'s ``best_estimator_``.
    path : str or path-like
        The file to write (``.skser`` is a good suffix). Its folder must exist.
    trusted : list of str, optional
        Fully qualified names of further types (your own transformers, for
        example) that the model holds. The same list must be given to
        :func:`load`.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ModelFileError
        If the estimator holds a type that :func:`load` would refuse (the
        message names it), or skops cannot represent one of its attributes.
        Nothing is written then.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from skser import MFCC, Functionals
    >>> from skser.io import save, load
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((6, 8000)).astype(np.float32)  # six 0.5 s waveforms
    >>> y = ["calm", "angry"] * 3
    >>> model = make_pipeline(MFCC(), Functionals(), SVC()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skser")
    >>> _ = save(model, path)
    >>> loaded = load(path)
    >>> bool((loaded.predict(X) == model.predict(X)).all())
    True
    """
    import skops.io as sio

    trusted_list = _check_trusted_arg(trusted)
    path = Path(path)
    try:
        payload = sio.dumps(estimator, compression=zipfile.ZIP_DEFLATED)
    except Exception as exc:
        raise ModelFileError(
            f"cannot save {type(estimator).__name__}: skops cannot represent one of its "
            f"attributes ({type(exc).__name__}: {exc}). Nothing was written to {path}."
        ) from exc
    untrusted = _untrusted(payload, trusted_list)
    if untrusted:
        raise ModelFileError(
            f"cannot save {type(estimator).__name__} to {path}: it holds types that "
            f"skser.io.load does not trust by default: {untrusted}. If they are your own "
            "code, pass trusted=[...] with these names to both save and load. Nothing "
            "was written."
        )
    manifest = _manifest(estimator, payload)
    manifest["trusted"] = trusted_list

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True))
        archive.writestr(PAYLOAD_NAME, payload)

    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(buffer.getbuffer())
        out.flush()
        os.fsync(out.fileno())
    return path


def _not_a_model(path: Path, why: str) -> ModelFileError:
    return ModelFileError(f"{path} is not a skser model file: {why}")


def _read(path: Path) -> tuple[dict, bytes]:
    with open(path, "rb") as f:  # FileNotFoundError / IsADirectoryError as they are
        head = f.read(4)
    if head[:2] != b"PK":
        hint = ""
        if head[:1] == b"\x80":
            hint = (" It looks like a pickle (or joblib) file; skser never loads those, "
                    "because loading a pickle can run any code.")
        raise _not_a_model(path, f"it is not a ZIP archive (it starts with {head!r}).{hint}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if MANIFEST_NAME not in names:
                extra = (" It looks like a plain skops file; load it with skops.io.load "
                         "after checking skops.io.get_untrusted_types."
                         if "schema.json" in names else "")
                raise _not_a_model(path, f"it has no {MANIFEST_NAME} (members: "
                                         f"{names[:5]}).{extra}")
            if archive.getinfo(MANIFEST_NAME).file_size > _MAX_MANIFEST_BYTES:
                raise _not_a_model(path, f"its {MANIFEST_NAME} is larger than 1 MiB.")
            raw_manifest = archive.read(MANIFEST_NAME)
            try:
                manifest = json.loads(raw_manifest)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise _not_a_model(path, f"its {MANIFEST_NAME} is not valid JSON ({exc}).") from exc
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
                raise _not_a_model(path, f"its {MANIFEST_NAME} does not say "
                                         f"format={FORMAT_NAME!r}.")
            fmt = manifest.get("format_version")
            if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
                raise ModelFileError(
                    f"{path} has format version {fmt!r}, newer than the {FORMAT_VERSION} this "
                    f"skser {_installed_version('skser')} reads; upgrade skser to load it."
                )
            if PAYLOAD_NAME not in names:
                raise ModelFileError(f"{path} is damaged: its {PAYLOAD_NAME} is missing.")
            payload = archive.read(PAYLOAD_NAME)
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"{path} is damaged or truncated: {exc}.") from exc
    digest = hashlib.sha256(payload).hexdigest()
    if digest != manifest.get("payload_sha256"):
        raise ModelFileError(
            f"{path} is damaged or was modified after saving: the SHA-256 of {PAYLOAD_NAME} "
            f"is {digest}, the manifest says {manifest.get('payload_sha256')!r}."
        )
    return manifest, payload


def read_manifest(path: str | os.PathLike) -> dict:
    """Read a saved model's manifest without building the model.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    manifest : dict
        ``format``, ``format_version``, ``estimator`` and ``final_estimator``
        (fully qualified class names), ``classes`` (the class labels as a
        list, or None), ``versions`` (package name to version string, None
        where the package was not installed), ``payload_sha256`` and
        ``trusted`` (the extra types given to :func:`save`).

    Raises
    ------
    ModelFileError
        If the file is not a skser model file or is damaged.
    """
    return _read(Path(path))[0]


def _warn_versions(path: Path, manifest: dict) -> None:
    saved = manifest.get("versions") or {}
    for package in _WARN_ON_MISMATCH:
        then, now = saved.get(package), _installed_version(package)
        if then != now:
            warnings.warn(
                f"{path} was saved with {package} {then} and is loaded with {package} "
                f"{now}; the model may behave differently or fail. Re-fit and save it "
                "again with this version to be sure.",
                ModelVersionWarning,
                stacklevel=3,
            )


def load(path: str | os.PathLike, *, trusted: list[str] | None = None) -> Any:
    """Load a model written by :func:`save`, refusing any file that could run code.

    Steps, each failing with :class:`~skser.exceptions.ModelFileError` and a
    message that says what is wrong: the file must be a ZIP archive with a
    skser manifest; the payload's SHA-256 must match the manifest; every type
    the payload would create must be in :func:`trusted_types` or ``trusted``.
    Only then is the model built. A file saved with another skser or
    scikit-learn version loads with a
    :class:`~skser.exceptions.ModelVersionWarning` naming both versions.

    Loading never restores a joblib cache folder: ``memory`` parameters (of
    skser transformers and pipelines) come back as ``None``, with a warning,
    because a cache folder holds pickles. Set them again with ``set_params``
    for folders you trust.

    The SHA-256 catches damaged or edited files; it is not a signature (whoever
    edits the payload can update it). Safety comes from the type allow-list.
    A hostile file can still hold wrong weights or huge shapes; it cannot make
    ``load`` import a module or call a function of its choosing.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    trusted : list of str, optional
        Fully qualified names of further types to build (your own estimators,
        as given to :func:`save`). Name only types whose code you trust.

    Returns
    -------
    estimator : estimator
        The saved estimator, ready to ``predict``/``transform``. A neural
        classifier trained on CUDA is put on the CPU when CUDA is absent.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a skser model file, is damaged or was modified,
        or holds a type that is not trusted.
    """
    import skops.io as sio

    trusted_list = _check_trusted_arg(trusted)
    path = Path(path)
    manifest, payload = _read(path)
    try:
        untrusted = _untrusted(payload, trusted_list)
    except Exception as exc:
        raise ModelFileError(f"{path} is damaged: its {PAYLOAD_NAME} cannot be read "
                             f"({type(exc).__name__}: {exc}).") from exc
    if untrusted:
        raise ModelFileError(
            f"{path} was not loaded: it would create types that are not trusted: "
            f"{untrusted}. A skser model holds only skser, scikit-learn and "
            "imbalanced-learn estimators and plain data. If you wrote these types and "
            "trust this file, pass trusted=[...] with their names."
        )
    _warn_versions(path, manifest)
    try:
        estimator = sio.loads(payload, trusted=list(_trusted_types()) + trusted_list)
    except Exception as exc:
        raise ModelFileError(
            f"{path} could not be loaded ({type(exc).__name__}: {exc}). It may be damaged, "
            "or saved by an incompatible version (it was saved with "
            f"{manifest.get('versions')})."
        ) from exc
    expected = manifest.get("estimator")
    if _type_name(type(estimator)) != expected:
        raise ModelFileError(
            f"{path} is inconsistent: the manifest says {expected!r}, the payload holds "
            f"{_type_name(type(estimator))!r}."
        )
    saved_classes = manifest.get("classes")
    loaded_classes = json.loads(json.dumps(_manifest(estimator, b"")["classes"]))
    if saved_classes != loaded_classes:
        raise ModelFileError(
            f"{path} is inconsistent: the manifest lists the classes {saved_classes!r}, "
            f"the model has {loaded_classes!r}."
        )
    reset = _reset_memory(estimator)
    if reset:
        warnings.warn(
            f"{path}: caching turned off for {reset} (set to None). A cache folder is a "
            "path of the saving machine, and a joblib one holds pickles, which can run "
            "code when read; set memory again with set_params only for a folder you trust.",
            UserWarning,
            stacklevel=2,
        )
    return estimator
