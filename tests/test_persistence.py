"""skser.io: save/load round trips for every public estimator, and every refused file."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

import skser
from skser import Functionals, MFCC
from skser.exceptions import ModelFileError, ModelVersionWarning, ParameterError
from skser.io import load, read_manifest, save, trusted_types
from skser.utils import all_estimators

SR = 16000
LABELS = np.array(["angry", "calm", "sad"] * 4)


def _waveforms(n: int = 12, seconds: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    rows = [0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.01 * rng.standard_normal(t.size)
            for i in range(n)]
    return np.asarray(rows, dtype=np.float32)


def _frames(n: int = 12, n_frames: int = 20, n_features: int = 8) -> np.ndarray:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, n_frames, n_features)).astype(np.float32)
    X += (np.arange(n) % 3)[:, None, None]  # learnable from the labels' order
    return X


def _vectors(n: int = 12, n_features: int = 16) -> np.ndarray:
    return np.nanmean(_frames(n, 20, n_features), axis=1)


def _fast(estimator: BaseEstimator) -> BaseEstimator:
    """Smallest settings that still exercise a fit: one epoch, CPU, fixed seed."""
    names = estimator.get_params(deep=False)
    fast = {"max_epochs": 1, "batch_size": 8, "device": "cpu", "random_state": 0}
    return estimator.set_params(**{k: v for k, v in fast.items() if k in names})


SPEAKERS = np.repeat(["s1", "s2", "s3"], 4)


def _tiny_encoder(tmp_path: Path) -> str:
    from _tiny_encoders import make_tiny_encoder  # tests/_tiny_encoders.py

    return str(make_tiny_encoder("wav2vec2", tmp_path))


def _tiny_resnet(tmp_path: Path) -> str:
    """A tiny random ResNet checkpoint folder (as save_pretrained writes it)."""
    import transformers

    config = transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 16, 32],
                                       depths=[1, 1, 1, 1], layer_type="basic")
    folder = tmp_path / "tiny-resnet"
    transformers.ResNetModel(config).save_pretrained(folder)
    return str(folder)


#: Estimators that need more than a default instance and one of the generic inputs:
#: name -> recipe(cls, tmp_path) -> (estimator, X, fit kwargs, predict/transform kwargs).
RECIPES = {
    "FeatureDict": lambda cls, tmp: (
        cls(mfcc=MFCC(n_mfcc=13), logmel=skser.LogMel(n_mels=32)), _waveforms(4), {}, {}),
    "FusionNet": lambda cls, tmp: (
        cls(), {"mfcc": _frames(12, 20, 39), "embedding": _vectors(12, 32)}, {}, {}),
    "SERNet": lambda cls, tmp: (
        cls(size="small", validation_fraction=None), _frames(12, 30, 268), {}, {}),
    "SpectrogramCNN": lambda cls, tmp: (
        cls(backbone=_tiny_resnet(tmp), hidden=16),
        np.random.default_rng(0).standard_normal((12, 3, 32, 32)).astype(np.float32), {}, {}),
    "SpeakerNormalizer": lambda cls, tmp: (
        cls(min_utterances=2), _vectors(), {"groups": SPEAKERS}, {"groups": SPEAKERS}),
    "SpeechEncoder": lambda cls, tmp: (cls(_tiny_encoder(tmp), device="cpu"), _waveforms(4), {}, {}),
    "SpeechEncoderClassifier": lambda cls, tmp: (
        cls(_tiny_encoder(tmp), n_trainable_layers=1), _waveforms(12), {}, {}),
    "Wav2Vec2Embedder": lambda cls, tmp: (
        cls(_tiny_encoder(tmp), device="cpu"), _waveforms(4), {}, {}),
    "Prosody": lambda cls, tmp: (cls(), _waveforms(4, seconds=0.5), {}, {}),
}


def _candidate_inputs(cls: type) -> list[np.ndarray]:
    from skser.models import BaseNeuralClassifier

    if issubclass(cls, BaseNeuralClassifier):
        kind = getattr(cls, "_input_kind", "sequence")
        return [_vectors()] if kind == "vector" else [_frames(), _vectors()]
    return [_waveforms(), _vectors(), _frames()]


def _fit_example(name: str, cls: type, tmp_path: Path):
    """Fit ``cls`` on its recipe or the first generic tiny input it accepts.

    Returns (estimator, X, call kwargs, outputs before saving).
    """
    if name in RECIPES:
        estimator, X, fit_kwargs, call_kwargs = RECIPES[name](cls, tmp_path)
        candidates = [(_fast(estimator), X, fit_kwargs, call_kwargs)]
    else:
        candidates = [(_fast(cls()), X, {}, {}) for X in _candidate_inputs(cls)]
    errors = []
    for estimator, X, fit_kwargs, call_kwargs in candidates:
        y = LABELS[: len(X["mfcc"] if isinstance(X, dict) else X)]
        try:
            if hasattr(estimator, "fit_resample"):
                out = estimator.fit_resample(X, y, **fit_kwargs)
                return estimator, X, call_kwargs, out
            estimator.fit(X, y, **fit_kwargs)
            return estimator, X, call_kwargs, _outputs(estimator, X, call_kwargs)
        except Exception as exc:  # try the next kind of input
            errors.append(f"{type(X).__name__}: {type(exc).__name__}: {exc}")
    pytest.fail(f"no tiny input fits {name}; add a recipe to RECIPES in "
                f"tests/test_persistence.py. Tried: {errors}")


def _outputs(estimator: BaseEstimator, X, call_kwargs: dict) -> dict:
    out = {}
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(estimator, method):
            out[method] = getattr(estimator, method)(X, **call_kwargs)
    return out


def _assert_same(actual, expected, what: str) -> None:
    if hasattr(expected, "keys"):  # a FeatureBundle: one array per name
        assert list(actual.keys()) == list(expected.keys()), what
        for key in expected.keys():
            _assert_same(actual[key], expected[key], f"{what}[{key!r}]")
    elif isinstance(expected, np.ndarray) and expected.dtype == object:  # ragged waveforms
        assert len(actual) == len(expected), what
        for a, e in zip(actual, expected):
            np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


@pytest.mark.parametrize("name, cls", all_estimators(), ids=[n for n, _ in all_estimators()])
def test_round_trip_of_every_public_estimator(name, cls, tmp_path):
    estimator, X, call_kwargs, before = _fit_example(name, cls, tmp_path)
    path = save(estimator, tmp_path / f"{name}.skser")
    loaded = load(path)

    assert type(loaded) is cls
    assert loaded.get_params().keys() == estimator.get_params().keys()
    if hasattr(estimator, "fit_resample"):
        # A sampler acts in fit only: its fitted record must come back as it was.
        np.testing.assert_array_equal(loaded.sample_indices_, estimator.sample_indices_)
        assert loaded.augmentations_.equals(estimator.augmentations_)
        return
    after = _outputs(loaded, X, call_kwargs)
    assert after.keys() == before.keys()
    for method in before:
        _assert_same(after[method], before[method], method)
    for method, output in _outputs(estimator, X, call_kwargs).items():  # saving changed nothing
        _assert_same(output, before[method], f"{method} of the saved estimator")
    if hasattr(estimator, "classes_"):
        assert read_manifest(path)["classes"] == estimator.classes_.tolist()


def test_whole_pipeline_with_features_round_trips_with_a_manifest(tmp_path):
    X = _waveforms()
    model = make_pipeline(MFCC(deltas=2), Functionals(), StandardScaler(),
                          SVC(class_weight="balanced")).fit(X, LABELS)
    path = save(model, tmp_path / "model.skser")
    loaded = load(path)

    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    manifest = read_manifest(path)
    assert manifest["estimator"] == "sklearn.pipeline.Pipeline"
    assert manifest["final_estimator"] == "sklearn.svm._classes.SVC"
    assert manifest["classes"] == ["angry", "calm", "sad"]
    assert manifest["versions"]["skser"] == skser.__version__
    with zipfile.ZipFile(path) as archive:
        payload = archive.read("model.skops")
    assert manifest["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skser"]  # no temp file left


@pytest.mark.parametrize("method, ensemble", [("sigmoid", False), ("sigmoid", True),
                                              ("isotonic", False)])
def test_calibrated_svm_round_trips_without_trusted(method, ensemble, tmp_path):
    """CalibratedClassifierCV(SVC()): scikit-learn's replacement for SVC(probability=True)."""
    from sklearn.calibration import CalibratedClassifierCV

    rng = np.random.default_rng(0)
    y = np.repeat(["angry", "calm", "sad"], 10)
    X = rng.standard_normal((30, 4)) + np.repeat(np.eye(3, 4) * 3, 10, axis=0)
    model = make_pipeline(StandardScaler(), CalibratedClassifierCV(
        SVC(class_weight="balanced"), method=method, ensemble=ensemble)).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no untrusted-type or version warning
        loaded = load(save(model, tmp_path / "svm.skser"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_grid_search_and_its_best_estimator_round_trip(tmp_path):
    X = Functionals().fit_transform(_frames())
    groups = np.repeat([0, 1, 2], 4)
    search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()),
                          {"logisticregression__C": [0.1, 1.0]}, cv=GroupKFold(3))
    search.fit(X, LABELS, groups=groups)

    best = load(save(search.best_estimator_, tmp_path / "best.skser"))
    np.testing.assert_array_equal(best.predict_proba(X), search.predict_proba(X))
    whole = load(save(search, tmp_path / "search.skser"))
    np.testing.assert_array_equal(whole.predict(X), search.predict(X))
    assert whole.best_params_ == search.best_params_


def test_a_model_trained_on_cuda_loads_on_the_cpu(tmp_path):
    torch = pytest.importorskip("torch")
    from skser.models import LightSERNet

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the CPU fallback is not taken here")
    model = _fast(LightSERNet()).fit(_frames(), LABELS)
    expected = model.predict_proba(_frames())
    model.device_ = "cuda"  # what a fit on a GPU leaves; the weights are saved as numpy
    loaded = load(save(model, tmp_path / "gpu.skser"))

    assert loaded.device_ == "cpu"
    assert str(loaded.net_.device) == "cpu"
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(_frames()), expected, rtol=1e-6, atol=1e-7)


# -- refused files ---------------------------------------------------------------


@pytest.fixture
def saved(tmp_path) -> Path:
    model = make_pipeline(Functionals(), LogisticRegression()).fit(_frames(), LABELS)
    return save(model, tmp_path / "model.skser")


def _rewrite(path: Path, *, manifest: dict | None = None, payload: bytes | None = None) -> None:
    with zipfile.ZipFile(path) as archive:
        old_manifest = json.loads(archive.read("manifest.json"))
        old_payload = archive.read("model.skops")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest or old_manifest))
        archive.writestr("model.skops", old_payload if payload is None else payload)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "noise.skser"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(ModelFileError, match="not a ZIP archive"):
        load(path)


class _TouchOnUnpickle:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_is_refused_without_being_unpickled(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_TouchOnUnpickle(marker)))
    with pytest.raises(ModelFileError, match="pickle"):
        load(path)
    assert not marker.exists()


def test_a_plain_skops_file_is_refused(tmp_path):
    path = tmp_path / "plain.skops"
    sio.dump(LogisticRegression(), path)
    with pytest.raises(ModelFileError, match="no manifest.json.*plain skops file"):
        load(path)


class _MyScaler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2


def _forge(path: Path, obj) -> None:
    """A file as an attacker would write it: a valid manifest and hash for any payload."""
    payload = sio.dumps(obj)
    manifest = {"format": "skser-model", "format_version": 1,
                "estimator": f"{type(obj).__module__}.{type(obj).__qualname__}",
                "classes": None, "versions": {"skser": skser.__version__},
                "payload_sha256": hashlib.sha256(payload).hexdigest()}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("model.skops", payload)


def test_a_file_with_an_untrusted_function_is_refused(tmp_path):
    path = tmp_path / "evil.skser"
    _forge(path, make_pipeline(FunctionTransformer(func=os.system), SVC()))
    with pytest.raises(ModelFileError, match=r"not trusted: \['(posix|nt)\.system'\]"):
        load(path)


def test_own_types_need_trusted_on_save_and_load(tmp_path):
    model = make_pipeline(_MyScaler(), LogisticRegression()).fit(_vectors(), LABELS)
    name = f"{_MyScaler.__module__}._MyScaler"
    path = tmp_path / "own.skser"
    with pytest.raises(ModelFileError, match=f"does not trust by default: \\['{name}'\\]"):
        save(model, path)
    assert not path.exists()

    save(model, path, trusted=[name])
    with pytest.raises(ModelFileError, match=f"not trusted: \\['{name}'\\]"):
        load(path)
    loaded = load(path, trusted=[name])
    np.testing.assert_array_equal(loaded.predict(_vectors()), model.predict(_vectors()))


@pytest.mark.parametrize("trusted", [True, "everything", [object]])
def test_trusted_must_be_a_list_of_names(saved, trusted):
    with pytest.raises(ParameterError, match="list of fully qualified type names"):
        load(saved, trusted=trusted)


def test_a_modified_payload_is_refused(saved):
    with zipfile.ZipFile(saved) as archive:
        payload = bytearray(archive.read("model.skops"))
    payload[len(payload) // 2] ^= 0xFF
    _rewrite(saved, payload=bytes(payload))
    with pytest.raises(ModelFileError, match="modified after saving: the SHA-256"):
        load(saved)


def test_a_manifest_that_lies_about_the_classes_is_refused(saved):
    manifest = read_manifest(saved)
    manifest["classes"] = ["happy", "sad"]
    _rewrite(saved, manifest=manifest)
    with pytest.raises(ModelFileError, match="manifest lists the classes"):
        load(saved)


def test_a_truncated_file_is_refused(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged or truncated"):
        load(saved)


def test_a_newer_format_asks_for_an_upgrade(saved):
    manifest = read_manifest(saved)
    manifest["format_version"] = 99
    _rewrite(saved, manifest=manifest)
    with pytest.raises(ModelFileError, match="format version 99.*upgrade skser"):
        load(saved)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.skser")


def test_other_versions_warn_with_both_versions(saved):
    manifest = read_manifest(saved)
    manifest["versions"].update({"skser": "0.0.1", "scikit-learn": "1.0.2"})
    _rewrite(saved, manifest=manifest)
    with pytest.warns(ModelVersionWarning) as record:
        load(saved)
    messages = [str(w.message) for w in record if issubclass(w.category, ModelVersionWarning)]
    assert any(f"skser 0.0.1 and is loaded with skser {skser.__version__}" in m for m in messages)
    assert any("scikit-learn 1.0.2" in m for m in messages)


def test_same_versions_do_not_warn(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelVersionWarning)
        load(saved)


def test_a_cache_folder_is_not_restored(tmp_path):
    model = make_pipeline(MFCC(memory=str(tmp_path / "cache")), Functionals(), SVC())
    model.fit(_waveforms(), LABELS)
    with pytest.warns(UserWarning, match=r"caching turned off.*\.memory"):
        loaded = load(save(model, tmp_path / "m.skser"))
    assert loaded[0].memory is None


def test_a_cache_folder_is_not_restored_inside_a_fitted_search(tmp_path):
    pipe = make_pipeline(StandardScaler(), LogisticRegression(), memory=str(tmp_path / "c"))
    search = GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=2)
    search.fit(_vectors(), LABELS)
    with pytest.warns(UserWarning, match="caching turned off"):
        loaded = load(save(search, tmp_path / "search.skser"))
    assert loaded.estimator.memory is None
    assert loaded.best_estimator_.memory is None


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(saved, monkeypatch):
    before = saved.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    model = make_pipeline(Functionals(), SVC()).fit(_frames(), LABELS)
    with pytest.raises(OSError, match="No space left"):
        save(model, saved)
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]


def test_trusted_types_exclude_code_and_cover_the_public_estimators():
    names = set(trusted_types())
    for _, cls in all_estimators():
        assert f"{cls.__module__}.{cls.__qualname__}" in names
    assert {"sklearn.svm._classes.SVC", "sklearn.pipeline.Pipeline",
            "imblearn.pipeline.Pipeline", "sklearn.model_selection._split.GroupKFold"} <= names
    assert {"sklearn.calibration.CalibratedClassifierCV",
            "sklearn.calibration._CalibratedClassifier",
            "sklearn.calibration._SigmoidCalibration"} <= names
    assert not names & {"builtins.eval", "builtins.exec", "builtins.open", "os.system",
                        "posix.system", "numpy.memmap", "sklearn.tree._tree.Tree"}


# -- discovery -------------------------------------------------------------------


def test_all_estimators_lists_the_exported_estimators():
    names = dict(all_estimators())
    assert {"MFCC", "LogMel", "LowLevel", "LoadAudio", "Functionals", "LightSERNet",
            "TIMNet", "CNN1D", "CNN2D", "WaveformAugmenter"} <= names.keys()
    assert "BaseNeuralClassifier" not in names
    assert [n for n, _ in all_estimators("sampler")] == ["WaveformAugmenter"]
    classifiers = {n for n, _ in all_estimators(["classifier"])}
    assert {"LightSERNet", "CNN1D"} <= classifiers and "MFCC" not in classifiers


def test_all_estimators_rejects_an_unknown_filter():
    with pytest.raises(ParameterError, match="type_filter"):
        all_estimators("clusterer")


def test_loading_needs_no_clone_of_the_source(saved):
    # A loaded estimator is a normal one: clone and refit work.
    refit = clone(load(saved)).fit(_frames(), LABELS)
    assert refit.predict(_frames()).shape == (12,)


# -- the documented examples run as written ----------------------------------------


@pytest.mark.parametrize("doc, section", [("docs/persistence.md", "## Save and load"),
                                          ("README.md", "## Saving a model")])
def test_the_documented_save_load_example_runs(doc, section, tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[1]
    text = (root / doc).read_text(encoding="utf-8")
    section_text = text.split(section, 1)[1]
    code = section_text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{doc} ({section})", "exec"), {})
    assert (tmp_path / "model.skser").is_file()


def test_integer_labels_are_listed_in_the_manifest(tmp_path):
    y = np.array([3, 1, 2] * 4)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(_vectors(), y)
    path = save(model, tmp_path / "ints.skser")
    assert read_manifest(path)["classes"] == [1, 2, 3]
    np.testing.assert_array_equal(load(path).predict(_vectors()), model.predict(_vectors()))


def test_an_attribute_skops_cannot_store_fails_before_writing(tmp_path):
    model = LogisticRegression().fit(_vectors(), LABELS)
    model.extra_ = (i for i in range(3))  # a generator: no format can store it
    path = tmp_path / "bad.skser"
    with pytest.raises(ModelFileError, match="skops cannot represent.*Nothing was written"):
        save(model, path)
    assert list(tmp_path.iterdir()) == []
