"""Behavioural tests of the neural classifiers as scikit-learn estimators."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest
import torch
from conftest import emodb_labels
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from skser.models import CNN1D, CNN2D, LightSERNet, TIMNet

SEQUENCE_MODELS = [LightSERNet, TIMNet, CNN2D]
LABELS = np.array(["anger", "happiness", "neutral", "sadness"])


def _frames(n=24, n_frames=48, n_features=16, seed=0, variable=False):
    """Separable toy frame-level data with string labels (class shifts the mean)."""
    rng = np.random.default_rng(seed)
    y = LABELS[np.arange(n) % 4]
    X = rng.standard_normal((n, n_frames, n_features)).astype(np.float32)
    X += (np.arange(n) % 4)[:, None, None].astype(np.float32)
    lengths = np.full(n, n_frames)
    if variable:
        lengths = rng.integers(n_frames // 3, n_frames + 1, n)
        lengths[0] = n_frames
        for i, L in enumerate(lengths):
            X[i, L:] = np.nan
    return X, y, lengths


def _small(cls, **kw):
    kw.setdefault("max_epochs", 2)
    kw.setdefault("batch_size", 8)
    kw.setdefault("random_state", 0)
    if cls is not CNN1D:
        kw.setdefault("device", "auto")
    return cls(**kw)


def _data_for(cls, **kw):
    X, y, _ = _frames(**kw)
    if cls is CNN1D:
        return X[:, 0, :], y
    return X, y


# ---------------------------------------------------------------- sklearn semantics
@pytest.mark.parametrize("cls", [LightSERNet, TIMNet, CNN1D, CNN2D])
def test_labels_classes_and_proba_columns(cls):
    X, y = _data_for(cls)
    clf = _small(cls).fit(X, y)
    assert list(clf.classes_) == sorted(set(y))
    pred = clf.predict(X)
    assert set(pred) <= set(y) and pred.dtype == y.dtype
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 4)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)
    assert clf.device_ == "cpu"  # "auto" resolves to CPU on a CUDA-less machine
    assert clf.n_features_in_ == X.shape[-1]
    assert isinstance(clf.module_, torch.nn.Module)


def test_classes_param_fixes_label_set():
    X, y, _ = _frames()
    clf = _small(TIMNet, classes=list(LABELS) + ["boredom"]).fit(X, y)
    assert list(clf.classes_) == sorted(list(LABELS) + ["boredom"])
    assert clf.predict_proba(X).shape[1] == 5
    with pytest.raises(ValueError, match="not in classes"):
        _small(TIMNet, classes=["anger", "sadness"]).fit(X, y)


@pytest.mark.parametrize("cls", [LightSERNet, TIMNet, CNN1D, CNN2D])
def test_clone_set_params_pickle(cls):
    X, y = _data_for(cls)
    clf = _small(cls)
    clf.set_params(lr=3e-3, max_epochs=1)
    twin = clone(clf)
    assert twin.get_params()["lr"] == 3e-3 and not hasattr(twin, "net_")
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert len(restored.history_) == 1


@pytest.mark.parametrize("cls", [LightSERNet, TIMNet, CNN1D, CNN2D])
def test_same_seed_same_predictions(cls):
    X, y = _data_for(cls)
    kw = {"max_epochs": 2}
    if cls is not CNN1D:
        kw.update(freq_mask_param=3, time_mask_param=5)  # augmentation is seeded too
    a = _small(cls, **kw).fit(X, y).predict_proba(X)
    torch.manual_seed(123)  # the caller's global RNG state must not matter
    b = _small(cls, **kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = _small(cls, random_state=1, **kw).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_rng_alone():
    X, y, _ = _frames()
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    _small(TIMNet).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.parametrize("cls", SEQUENCE_MODELS)
def test_batched_equals_one_by_one_on_variable_length(cls):
    X, y, lengths = _frames(n=12, n_frames=150, variable=True)
    clf = _small(cls, batch_size=5, max_epochs=1).fit(X, y)
    batched = clf.predict_proba(X)
    single = np.concatenate(
        [clf.predict_proba(X[i : i + 1, : lengths[i]]) for i in range(len(y))]
    )
    np.testing.assert_allclose(batched, single, atol=1e-5)
    # padding content is irrelevant: more NaN padding changes nothing
    wider = np.concatenate([X, np.full((12, 40, X.shape[2]), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(clf.predict_proba(wider), batched, atol=1e-5)


def test_two_dimensional_input_is_one_feature_sequence():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 30)).astype(np.float32)
    y = np.arange(16) % 2
    clf = _small(TIMNet).fit(X, y)
    assert clf.n_features_in_ == 1
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X[:, :, None]))


# ---------------------------------------------------------------- bad input
def test_bad_input_messages():
    X, y, _ = _frames()
    clf = _small(LightSERNet)
    Xbad = X.copy()
    Xbad[3, 5, 2] = np.nan
    with pytest.raises(ValueError, match="row 3, frame 5"):
        clf.fit(Xbad, y)
    Xbad = X.copy()
    Xbad[2, :10] = np.nan
    with pytest.raises(ValueError, match="row 2 has NaN frames before real ones"):
        clf.fit(Xbad, y)
    Xbad = X.copy()
    Xbad[4, 7, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clf.fit(Xbad, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.full(len(y), "anger"))
    clf.fit(X, y)
    with pytest.raises(ValueError, match="16 features per frame"):
        clf.predict(X[:, :, :10])
    with pytest.raises(ValueError, match="lr"):
        _small(LightSERNet, lr=-1.0).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: device='cuda' is valid")
def test_cuda_device_without_cuda_is_a_parameter_error():
    from skser.exceptions import ParameterError

    X, y, _ = _frames(n=8)
    with pytest.raises(ParameterError, match="CUDA is not available"):
        _small(LightSERNet, device="cuda").fit(X, y)


def test_float32_fast_path_matches_checked_input_and_still_rejects_bad_values():
    X, y, _ = _frames()
    clf = _small(TIMNet, max_epochs=1).fit(X, y)
    proba = clf.predict_proba(X)  # float32 ndarray: no check_array
    np.testing.assert_allclose(clf.predict_proba(X.astype(np.float64)), proba, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X.tolist()), proba, atol=1e-6)
    padded = np.concatenate([X, np.full((len(X), 5, X.shape[2]), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(clf.predict_proba(padded), proba, atol=1e-5)
    Xbad = X.copy()
    Xbad[1, 3, 0] = -np.inf
    with pytest.raises(ValueError, match=r"infinity \(row 1\)"):
        clf.predict(Xbad)
    with pytest.raises(ValueError, match="0 sample"):
        clf.predict(X[:0])


def test_cnn2d_flatten_needs_fitted_length():
    X, y, _ = _frames(n=8, n_frames=128, n_features=128)
    clf = _small(CNN2D, pooling="flatten", max_epochs=1).fit(X, y)
    assert clf.n_frames_ == 128
    with pytest.raises(ValueError, match="fitted on 128 frames"):
        clf.predict(X[:, :100])
    X2, y2, _ = _frames(n=8, n_frames=140, n_features=128)
    assert clf.fit(X2, y2).predict(X2).shape == (8,)  # refitting on another length is fine


def test_amp_is_a_noop_with_warning_on_cpu():
    X, y, _ = _frames()
    with pytest.warns(UserWarning, match="amp=True has no effect on CPU"):
        amp = _small(TIMNet, amp=True, device="cpu").fit(X, y)
    ref = _small(TIMNet, device="cpu").fit(X, y)
    np.testing.assert_array_equal(amp.predict_proba(X), ref.predict_proba(X))


# ---------------------------------------------------------------- training options
def test_history_and_verbose(capsys):
    X, y, _ = _frames()
    clf = _small(LightSERNet, max_epochs=3).fit(X, y)
    assert capsys.readouterr().out == ""
    hist = clf.history_
    assert len(hist) == 3
    assert all(np.isfinite(hist[:, "train_loss"]))
    assert all(0.0 <= v <= 1.0 for v in hist[:, "train_uar"])
    _small(LightSERNet, max_epochs=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "train_uar" in out


def test_validation_fraction_group_aware_and_best_epoch():
    X, y, _ = _frames(n=40)
    groups = np.repeat(np.arange(10), 4)
    clf = _small(TIMNet, max_epochs=6, validation_fraction=0.2, lr=1e-2)
    clf.fit(X, y, groups=groups)
    hist = clf.history_
    valid_uar = hist[:, "valid_uar"]
    assert len(valid_uar) == 6 and "valid_loss" in hist[-1]
    # group-aware: the validation part holds whole speakers (4 utterances each)
    batches = hist[-1]["batches"]
    n_train = sum(b.get("train_batch_size", 0) for b in batches)
    n_valid = sum(b.get("valid_batch_size", 0) for b in batches)
    assert n_train + n_valid == 40 and n_valid % 4 == 0 and n_valid > 0
    tr, va = clf._split(np.arange(40) % 4, groups, seed=0)
    assert not set(groups[tr]) & set(groups[va])


class _RecordEpochPredictions(Callback):
    """Probabilities of the module on a fixed probe set at the end of every epoch."""

    def __init__(self, probe):
        self.probe = probe

    def initialize(self):
        self.records_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        net.module_.eval()
        with torch.no_grad():
            logits = net.module_(torch.from_numpy(self.probe))
        self.records_.append(torch.softmax(logits.double(), dim=1).numpy())


def test_best_epoch_weights_are_restored():
    X, y, _ = _frames(n=40)
    clf = _small(TIMNet, max_epochs=6, validation_fraction=0.25, lr=3e-2,
                 callbacks=[("probe", _RecordEpochPredictions(X))])
    clf.fit(X, y, groups=np.repeat(np.arange(10), 4))
    records = dict(clf.net_.callbacks_)["probe"].records_
    valid_uar = clf.history_[:, "valid_uar"]
    best = int(np.argmax(valid_uar))  # the first epoch with the highest validation UAR
    assert len(records) == 6 and best < 5, "choose a setting whose best epoch is not the last"
    np.testing.assert_allclose(clf.predict_proba(X), records[best], atol=1e-6)
    assert not np.allclose(clf.predict_proba(X), records[-1], atol=1e-4)


def test_patience_stops_early():
    X, y, _ = _frames(n=32)
    clf = _small(TIMNet, max_epochs=30, validation_fraction=0.25, patience=2, lr=1e-5)
    clf.fit(X, y)
    assert len(clf.history_) < 30


def test_lr_schedules_change_the_learning_rate():
    X, y, _ = _frames(n=16)
    clf = _small(
        LightSERNet, max_epochs=4, schedule="light_sernet", schedule_kwargs={"start": 2, "every": 2}
    ).fit(X, y)
    # lr used in each (0-based) epoch: decays at the start of epochs 2 and 4 (scaled-down 60, 80)
    np.testing.assert_allclose(
        clf.history_[:, "event_lr"], [1e-4, 1e-4, 1e-4 * np.exp(-0.15), 1e-4 * np.exp(-0.15)]
    )
    # LFLB kernels carry the Keras L2 as coupled weight decay 2 * 1e-6; nothing else does
    decays = sorted(g["weight_decay"] for g in clf.net_.optimizer_.param_groups)
    assert decays == [0.0, 2e-6] and len(clf.net_.optimizer_.param_groups[0]["params"]) == 5
    clf = _small(TIMNet, max_epochs=3, schedule="warmup_cosine", schedule_kwargs={"warmup_epochs": 1}).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] < 1e-3
    clf = _small(CNN1D, max_epochs=2, schedule="plateau").fit(X[:, 0], y)
    assert "lr_scheduler" in dict(clf.net_.callbacks_)


def test_focal_loss_and_class_weight_reach_the_criterion():
    X, y, _ = _frames(n=20)
    y = np.array(["anger"] * 14 + ["sadness"] * 6)
    clf = _small(LightSERNet, loss="focal", class_weight="balanced", max_epochs=1).fit(X, y)
    crit = clf.net_.criterion_
    assert crit.gamma == 2.0
    np.testing.assert_allclose(crit.weight.numpy(), [20 / (2 * 14), 20 / (2 * 6)])
    clf = _small(TIMNet, class_weight={"sadness": 3.0}, focal_alpha=None, max_epochs=1).fit(X, y)
    np.testing.assert_allclose(clf.net_.criterion_.weight.numpy(), [1.0, 3.0])
    assert clf.net_.criterion_.label_smoothing == pytest.approx(0.1)  # TIM-Net default
    with pytest.raises(ValueError, match="not one of the classes"):
        _small(TIMNet, class_weight={"boredom": 2.0}).fit(X, y)


def test_spec_augment_applied_in_training_only(monkeypatch):
    import skser.models._net as base

    calls = {"n": 0}
    real = base.spec_augment

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(base, "spec_augment", counting)
    X, y, _ = _frames(n=16)
    clf = _small(CNN2D, freq_mask_param=4, time_mask_param=6, max_epochs=2, batch_size=8)
    clf.fit(X, y)
    assert calls["n"] == 4  # 2 epochs x 2 training batches
    calls["n"] = 0
    p1 = clf.predict_proba(X)
    p2 = clf.predict_proba(X)
    assert calls["n"] == 0
    np.testing.assert_array_equal(p1, p2)
    # and it changes training
    plain = _small(CNN2D, max_epochs=2, batch_size=8).fit(X, y).predict_proba(X)
    assert not np.allclose(plain, p1)


def test_cnn2d_l1_l2_penalty_changes_training():
    X, y, _ = _frames(n=16)
    a = _small(CNN2D, max_epochs=2).fit(X, y)
    b = _small(CNN2D, max_epochs=2, l1=1e-2, l2=1e-2).fit(X, y)
    wa = sum(m.weight.abs().sum().item() for m in a.module_.convs)
    wb = sum(m.weight.abs().sum().item() for m in b.module_.convs)
    assert wb < wa
    assert b.history_[-1, "train_loss"] > a.history_[-1, "train_loss"]  # penalty is in the loss


def test_user_callbacks_are_added_and_not_mutated():
    from skorch.callbacks import EpochTimer

    cb = EpochTimer()
    X, y, _ = _frames(n=16)
    clf = _small(TIMNet, callbacks=[("timer2", cb)]).fit(X, y)
    assert "timer2" in dict(clf.net_.callbacks_)
    assert cb.epoch_start_time_ is None  # the net used a copy


# ---------------------------------------------------------------- pipelines, search, CV
def test_pipeline_gridsearch_cross_val_on_arrays():
    X, y, _ = _frames(n=32)
    groups = np.repeat(np.arange(8), 4)
    pipe = make_pipeline(_small(LightSERNet, max_epochs=1))
    search = GridSearchCV(
        pipe, {"lightsernet__lr": [1e-4, 1e-3]}, cv=GroupKFold(2), scoring="balanced_accuracy"
    )
    search.fit(X, y, groups=groups)
    assert search.best_params_["lightsernet__lr"] in (1e-4, 1e-3)
    assert search.predict(X).dtype == y.dtype
    scores = cross_val_score(_small(TIMNet, max_epochs=1), X, y, cv=GroupKFold(2), groups=groups,
                             scoring="balanced_accuracy")
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


@pytest.fixture
def speech_files(audio_dir, tone, tmp_path):
    import soundfile as sf

    paths, labels, speakers = [], [], []
    for i in range(16):
        label = ["low", "high"][i % 2]
        freq = 150.0 + 20 * (i // 2) if label == "low" else 600.0 + 30 * (i // 2)
        path = tmp_path / f"s{i // 4}_{i:02d}.wav"
        sf.write(path, tone(freq, 0.6 + 0.05 * (i % 3), 16000), 16000)
        paths.append(str(path))
        labels.append(label)
        speakers.append(f"s{i // 4}")
    return paths, np.array(labels), np.array(speakers)


def test_mfcc_lightsernet_pipeline_on_file_paths(speech_files):
    from skser.features import MFCC

    paths, y, _ = speech_files
    pipe = make_pipeline(MFCC.light_sernet(duration=0.5), _small(LightSERNet, max_epochs=2))
    pipe.fit(paths, y)
    assert pipe.named_steps["lightsernet"].n_features_in_ == 40
    pred = pipe.predict(paths)
    assert pred.shape == (16,) and set(pred) <= {"low", "high"}
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict_proba(paths), pipe.predict_proba(paths))


def test_mfcc_variable_length_pipeline(speech_files):
    from skser.features import MFCC

    paths, y, _ = speech_files
    pipe = make_pipeline(MFCC(n_mfcc=13), _small(TIMNet, max_epochs=2))
    pipe.fit(paths, y)  # no duration: NaN-padded variable-length frames
    batched = pipe.predict_proba(paths)
    single = np.concatenate([pipe.predict_proba([p]) for p in paths])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_gridsearch_over_net_and_mfcc_params_grouped(speech_files):
    from skser.features import MFCC

    paths, y, speakers = speech_files
    pipe = make_pipeline(MFCC.light_sernet(duration=0.5), _small(LightSERNet, max_epochs=1))
    search = GridSearchCV(
        pipe,
        {"lightsernet__lr": [1e-4, 1e-3], "mfcc__n_mfcc": [20, 40]},
        cv=GroupKFold(n_splits=2),
        scoring="balanced_accuracy",
    )
    search.fit(np.array(paths, dtype=object), y, groups=speakers)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.named_steps["lightsernet"].n_features_in_ == search.best_params_["mfcc__n_mfcc"]


# ---------------------------------------------------------------- real speech
@pytest.mark.slow
@pytest.mark.shared_data
def test_real_learning_emodb_4class_held_out_speakers(emodb_4class_files):
    """Light-SERNet on the Light-SERNet MFCC, 2 held-out speakers, well above chance (UAR 0.25)."""
    from sklearn.metrics import balanced_accuracy_score

    from skser.features import MFCC

    y, speakers = emodb_labels(emodb_4class_files)
    test_speakers = {"03", "16"}
    test = np.isin(speakers, list(test_speakers))
    feats = MFCC.light_sernet(duration=3.0).fit_transform([str(f) for f in emodb_4class_files])
    # 12 epochs on one thread (the suite-wide setting): long enough to learn, short enough
    # not to dominate the suite; measured UAR 0.645 with these settings (chance 0.25).
    clf = LightSERNet(max_epochs=12, lr=1e-3, random_state=0, device="cpu")
    start = time.perf_counter()
    clf.fit(feats[~test], y[~test])
    elapsed = time.perf_counter() - start
    uar = balanced_accuracy_score(y[test], clf.predict(feats[test]))
    print(f"\nEMO-DB 4-class, held-out speakers {sorted(test_speakers)}: UAR {uar:.3f}, "
          f"{elapsed / 12:.2f} s/epoch on {int((~test).sum())} clips")
    assert uar > 0.55  # chance is 0.25
