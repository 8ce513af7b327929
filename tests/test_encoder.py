"""SpeechEncoder on tiny random wav2vec2 / HuBERT / WavLM / data2vec / Whisper models loaded by path, offline."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from joblib import Memory
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

pytest.importorskip("transformers")

from _tiny_encoders import make_tiny_encoder  # noqa: E402

from skser.exceptions import EncoderUnavailableError, ParameterError  # noqa: E402
from skser.features import SpeechEncoder, Wav2Vec2Embedder, frame_lengths  # noqa: E402
from skser.features._encoder import load_encoder  # noqa: E402

#: Batched vs one-by-one results, absolute (measured: at most 2e-6 on these models).
BATCH_ATOL = 1e-4


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "tiny_encoders"

    def get(kind: str) -> str:
        return str(make_tiny_encoder(kind, folder))

    return get


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _speech(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    y = np.sin(2 * np.pi * np.cumsum(f0) / 16000) * (0.5 + 0.5 * np.sin(2 * np.pi * 2.3 * t) ** 2)
    return (0.3 * y + 0.02 * rng.standard_normal(n)).astype(np.float32)


WAVES = [_speech(n, i) for i, n in enumerate((16000, 12000, 16000, 7000, 300))]
#: Valid frames of each wave for a 320-sample stride, 400-sample receptive field
#: (the tiny wav2vec2-family front end; 300 samples are padded to 400).
W2V_FRAMES = [49, 37, 49, 21, 1]

KINDS = ["wav2vec2", "hubert", "wavlm", "data2vec", "whisper"]


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_batched_equals_one_by_one(tiny, kind):
    enc = SpeechEncoder(tiny(kind), batch_size=4, device="cpu")
    batched = enc.fit_transform(WAVES)
    single = clone(enc).set_params(batch_size=1).fit_transform(WAVES)
    assert batched.shape == (5, 32) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, atol=BATCH_ATOL)
    # a different order gives the same rows
    reordered = enc.transform(WAVES[::-1])[::-1]
    np.testing.assert_allclose(reordered, batched, atol=BATCH_ATOL)

    frames = clone(enc).set_params(output="frames", layer="all").fit_transform(WAVES)
    assert frames.ndim == 4 and frames.shape[2:] == (3, 32)
    lengths = frame_lengths(frames[:, :, -1])
    expected = [50, 38, 50, 22, 2] if kind == "whisper" else W2V_FRAMES
    assert lengths.tolist() == expected
    assert np.isnan(frames[4, expected[4]:]).all()
    # the mean embedding is the mean over the valid frames of the last layer
    np.testing.assert_allclose(np.nanmean(frames[:, :, -1], axis=1), batched, atol=1e-5)


def test_pad_batching_detected(tiny):
    """Padding changes group-norm front ends and data2vec's positional convs: equal lengths only there."""
    assert not load_encoder(tiny("wav2vec2")).pad_batching
    assert not load_encoder(tiny("data2vec")).pad_batching
    assert load_encoder(tiny("wavlm")).pad_batching
    assert load_encoder(tiny("whisper")).pad_batching


def test_layers_pooling(tiny):
    path = tiny("wavlm")
    waves = WAVES[:3]
    all_layers = SpeechEncoder(path, layer="all", device="cpu").fit_transform(waves)
    assert all_layers.shape == (3, 3, 32)
    last = SpeechEncoder(path, device="cpu").fit_transform(waves)
    np.testing.assert_allclose(all_layers[:, -1], last, atol=1e-6)
    np.testing.assert_allclose(SpeechEncoder(path, layer=-1, device="cpu").fit_transform(waves), last, atol=1e-6)
    np.testing.assert_allclose(
        SpeechEncoder(path, layer=0, device="cpu").fit_transform(waves), all_layers[:, 0], atol=1e-6
    )
    averaged = SpeechEncoder(path, layer=[0, 2], device="cpu").fit_transform(waves)
    np.testing.assert_allclose(averaged, all_layers[:, [0, 2]].mean(axis=1), atol=1e-5)

    stats = SpeechEncoder(path, pooling="mean+std", device="cpu").fit_transform(waves)
    frames = SpeechEncoder(path, output="frames", device="cpu").fit_transform(waves)
    assert stats.shape == (3, 64)
    np.testing.assert_allclose(stats[:, :32], last, atol=1e-5)
    np.testing.assert_allclose(stats[:, 32:], np.nanstd(frames, axis=1), atol=1e-4)
    all_stats = SpeechEncoder(path, pooling="mean+std", layer="all", device="cpu").fit_transform(waves)
    assert all_stats.shape == (3, 3, 64)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"layer": 3}, "out of range"),
        ({"layer": [0, "x"]}, "list of layers"),
        ({"layer": []}, "list of layers"),
        ({"overlap_seconds": 2.0, "chunk_seconds": 1.0}, "less than"),
        ({"sr": 22050}, "16000 Hz"),
        ({"device": "nonsense"}, "not a torch device"),
    ],
)
def test_bad_parameters(tiny, params, match):
    enc = SpeechEncoder(tiny("wav2vec2"), device="cpu").set_params(**params)
    with pytest.raises(ParameterError, match=match):
        enc.fit_transform(WAVES[:1])


def test_bad_audio_names_the_row(tiny):
    bad = [WAVES[0], np.array([0.1, np.nan, 0.2] * 200, dtype=np.float32)]
    with pytest.raises(ValueError, match="row 1"):
        SpeechEncoder(tiny("wav2vec2"), device="cpu").fit_transform(bad)


def test_chunked_equals_unchunked_within_receptive_field(tiny):
    """Layer 0 (front end + 16-frame positional conv) is exactly chunk-invariant with a 1 s overlap.

    Deeper layers attend over the whole input: chunks change the mean
    embedding a little (measured relative difference 7e-4 on this model).
    """
    y = _speech(6 * 16000, seed=3)
    path = tiny("wav2vec2-layernorm")
    chunked = dict(chunk_seconds=2.0, overlap_seconds=1.0, device="cpu")
    full = SpeechEncoder(path, layer=0, output="frames", device="cpu").fit_transform([y])
    parts = SpeechEncoder(path, layer=0, output="frames", **chunked).fit_transform([y])
    assert full.shape == parts.shape == (1, 299, 32)
    np.testing.assert_allclose(parts, full, atol=1e-5)

    e_full = SpeechEncoder(path, device="cpu").fit_transform([y])
    e_parts = SpeechEncoder(path, **chunked).fit_transform([y])
    assert np.abs(e_parts - e_full).max() / np.abs(e_full).max() < 1e-2
    # the chunks of one utterance batch together only when their lengths allow: same result
    e_batched = SpeechEncoder(path, batch_size=1, **chunked).fit_transform([y])
    np.testing.assert_allclose(e_batched, e_parts, atol=BATCH_ATOL)


def test_unavailable_model_fails_fast_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    import transformers  # noqa: F401  (imported before the clock starts: only the call is timed)

    start = time.perf_counter()
    with pytest.raises(EncoderUnavailableError, match="huggingface-cli download skser-tests/absent"):
        SpeechEncoder("skser-tests/absent", device="cpu").fit()
    assert time.perf_counter() - start < 5.0


def test_unavailable_model_fails_fast_with_hub_unreachable(tmp_path, monkeypatch):
    import huggingface_hub.constants as hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    start = time.perf_counter()
    with pytest.raises(EncoderUnavailableError, match="cannot be reached"):
        SpeechEncoder("skser-tests/absent", device="cpu").fit()
    assert time.perf_counter() - start < 5.0


def test_missing_folder(tmp_path):
    with pytest.raises(EncoderUnavailableError, match="no such folder"):
        SpeechEncoder(str(tmp_path / "nowhere" / "model"), device="cpu").fit()
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderUnavailableError, match="does not hold"):
        SpeechEncoder(str(tmp_path / "empty"), device="cpu").fit()


def test_loaded_once_and_pickle_without_weights(tiny):
    path = tiny("wav2vec2")
    assert load_encoder(path) is load_encoder(path)
    enc = SpeechEncoder(path, device="cpu").fit(WAVES)
    blob = pickle.dumps(enc)
    assert len(blob) < 2000  # the parameters only; the model's weights are ~110 kB
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(WAVES[:2]), enc.transform(WAVES[:2]))
    assert clone(enc).get_params() == enc.get_params()


def test_paths_and_memory_cache(tiny, tmp_path):
    paths = []
    for i, y in enumerate(WAVES[:3]):
        paths.append(str(tmp_path / f"{i}.wav"))
        sf.write(paths[-1], y, 16000, subtype="FLOAT")
    path = tiny("hubert")
    plain = SpeechEncoder(path, device="cpu").fit_transform(WAVES[:3])
    np.testing.assert_allclose(SpeechEncoder(path, device="cpu").fit_transform(paths), plain, atol=1e-6)

    memory = Memory(tmp_path / "cache", verbose=0)
    cached = SpeechEncoder(path, device="cpu", memory=memory)
    np.testing.assert_allclose(cached.fit_transform(paths), plain, atol=BATCH_ATOL)
    np.testing.assert_allclose(cached.transform(paths), plain, atol=BATCH_ATOL)  # from the cache
    layer0 = clone(cached).set_params(layer=0).fit_transform(paths)
    assert not np.allclose(layer0, plain)  # the layer is part of the key

    from skser.features import extract_to_disk

    feats = extract_to_disk(SpeechEncoder(path, device="cpu"), paths, tmp_path / "cache")
    assert feats.n_computed == 0  # the entries memory= wrote: one cache
    np.testing.assert_allclose(feats.to_array(), plain, atol=BATCH_ATOL)


def test_wav2vec2_embedder_alias(tiny):
    assert Wav2Vec2Embedder().model == "facebook/wav2vec2-base"
    assert issubclass(Wav2Vec2Embedder, SpeechEncoder)
    out = Wav2Vec2Embedder(tiny("wav2vec2"), device="cpu").fit_transform(WAVES[:2])
    assert out.shape == (2, 32)


def test_import_skser_features_loads_neither_torch_nor_transformers():
    code = (
        "import sys, skser, skser.features; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


_STATELESS_FIT = (
    "fit loads the encoder and checks the kind of X but never decodes it; "
    "transform rejects this input"
)
_N_FEATURES_IN = "audio rows are waveforms of any length: n_features_in_ has no meaning"


def test_sklearn_estimator_checks(tiny):
    # batch_size=1: the subset/order-invariance checks compare at rtol 1e-7-ish, below the
    # float rounding of a batched forward pass (tested above to BATCH_ATOL)
    check_estimator(
        SpeechEncoder(tiny("wav2vec2"), batch_size=1, device="cpu"),
        expected_failed_checks={
            "check_n_features_in": _N_FEATURES_IN,
            "check_n_features_in_after_fitting": _N_FEATURES_IN,
            "check_complex_data": _STATELESS_FIT,
            "check_estimators_empty_data_messages": _STATELESS_FIT,
            "check_estimators_nan_inf": _STATELESS_FIT,
        },
    )


# -- fine-tuning classifier ------------------------------------------------------------------
def _labelled(n=8):
    waves, y = [], []
    for i in range(n):
        label = ["ang", "sad"][i % 2]
        w = _speech(8000 + 1600 * (i % 3), seed=i)
        waves.append(w * (2.0 if label == "ang" else 0.5))
        y.append(label)
    return waves, np.array(y)


@pytest.mark.parametrize("kind", ["wav2vec2", "whisper"])
def test_classifier_trains_upper_layers_only(tiny, kind):
    import torch

    from skser.models import SpeechEncoderClassifier

    waves, y = _labelled()
    before = {k: v.clone() for k, v in load_encoder(tiny(kind)).model.state_dict().items()}
    clf = SpeechEncoderClassifier(
        tiny(kind), n_trainable_layers=1, encoder_lr=1e-2, lr=5e-3, batch_size=4,
        max_epochs=2, device="cpu", random_state=0,
    ).fit(waves, y)
    after = clf.module_.encoder.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    top = "encoder.layers.1." if kind != "whisper" else "layers.1."
    assert changed and all(k.startswith(top) or "layer_norm" in k for k in changed), changed
    assert any(k.startswith(top) for k in changed)
    # the cached, shared encoder was not touched
    shared = load_encoder(tiny(kind)).model.state_dict()
    assert all(torch.equal(before[k], shared[k]) for k in before)
    lr_of = {id(p): g["lr"] for g in clf.net_.optimizer_.param_groups for p in g["params"]}
    assert lr_of[id(clf.module_.trainable[0].fc2.weight if kind == "whisper" else
                     clf.module_.trainable[0].feed_forward.output_dense.weight)] == 1e-2
    assert lr_of[id(clf.module_.output.weight)] == 5e-3
    proba = clf.predict_proba(waves)
    assert proba.shape == (8, 2) and set(clf.predict(waves)) <= {"ang", "sad"}


def test_classifier_head_only_and_pickle(tiny):
    from skser.models import SpeechEncoderClassifier

    waves, y = _labelled()
    clf = SpeechEncoderClassifier(
        tiny("wavlm"), n_trainable_layers=0, pooling="attentive_stats", batch_size=4,
        max_epochs=1, device="cpu", random_state=0,
    ).fit(waves, y)
    assert not any(p.requires_grad for p in clf.module_.encoder.parameters())
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(waves), clf.predict_proba(waves), atol=1e-5)
    with pytest.raises(ParameterError, match="n_trainable_layers=5"):
        clone(clf).set_params(n_trainable_layers=5).fit(waves, y)


def test_top_level_lazy_exports():
    import skser

    assert skser.SpeechEncoder is SpeechEncoder
    from skser.models import FusionNet, SpeechEncoderClassifier

    assert skser.FusionNet is FusionNet and skser.SpeechEncoderClassifier is SpeechEncoderClassifier


_AUDIO_INPUT = "X is audio (paths or waveforms of any length), not a feature matrix"
#: Checks that the fine-tuning classifier fails by design (audio input, not feature columns).
CLASSIFIER_EXPECTED_FAILURES = {
    "check_n_features_in": _AUDIO_INPUT + ": n_features_in_ has no meaning",
    "check_n_features_in_after_fitting": _AUDIO_INPUT + ": n_features_in_ has no meaning",
    "check_classifiers_train": _AUDIO_INPUT + ": a different row length is a longer utterance, not an error",
    "check_complex_data": "the audio contract's own error (complex samples) is raised, worded for audio",
    "check_estimators_empty_data_messages": "the audio contract's own error (empty audio) is raised",
    "check_classifier_data_not_an_array": "a 2-column DataFrame is rejected: audio comes as one column",
    "check_methods_subset_invariance": "batched forward passes differ from smaller batches by float rounding (1e-7)",
    "check_class_weight_classifiers": "2 epochs on 20 noise rows of a tiny random encoder do not reach the check's accuracy",
}


@pytest.mark.slow
def test_classifier_sklearn_checks(tiny):
    """Every check passes except those listed (they fail by design; whether they do varies)."""
    from skser.models import SpeechEncoderClassifier

    est = SpeechEncoderClassifier(tiny("wav2vec2"), max_epochs=2, lr=1e-2, batch_size=16,
                                  device="cpu", random_state=0)
    report = check_estimator(est, on_fail=None)
    failed = {r["check_name"] for r in report if r["status"] == "failed"}
    assert failed <= set(CLASSIFIER_EXPECTED_FAILURES), failed - set(CLASSIFIER_EXPECTED_FAILURES)
