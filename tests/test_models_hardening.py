"""Hardening of the neural base: portable state, transactional fit, RNG, AMP, padding, input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from test_models_estimators import (
    CNN1D,
    CNN2D,
    LightSERNet,
    TIMNet,
    _data_for,
    _frames,
    _small,
)

from skser.models import CNN2DModule, LightSERNetModule, TIMNetModule
from skser.models._masking import MaskedBatchNorm1d

ALL_MODELS = [LightSERNet, TIMNet, CNN1D, CNN2D]

_PLAIN = (bool, int, float, str, type(None))


def _assert_torch_free(obj, path="state"):
    """Every leaf is a numpy array/scalar or a Python builtin; no torch or skorch object."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _assert_torch_free(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _assert_torch_free(v, f"{path}[{i}]")
    else:
        assert isinstance(obj, (np.ndarray, np.generic, *_PLAIN)), (path, type(obj))


# ---------------------------------------------------------------- portable state
@pytest.mark.parametrize("cls", ALL_MODELS)
def test_state_is_torch_free_and_round_trips(cls):
    X, y = _data_for(cls, n=12)
    clf = _small(cls, max_epochs=1, device="cpu").fit(X, y)
    state = clf.__getstate__()
    assert "net_" not in state
    _assert_torch_free({k: v for k, v in state.items() if k not in clf.get_params()})
    saved = state["_skser_net"]
    assert saved["format"] == 1 and set(saved["module_args"]) == {"n_features", "n_frames", "n_classes"}
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.device_ == "cpu"
    assert len(restored.history_) == 1
    assert restored.history_[-1, "train_loss"] == clf.history_[-1, "train_loss"]
    for (k, a), b in zip(clf.module_.state_dict().items(), restored.module_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    assert restored.module_.training is False
    # pickling twice gives the same state
    again = pickle.loads(pickle.dumps(restored))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_unfitted_state_round_trips():
    clf = _small(TIMNet)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.get_params() == clf.get_params() and not hasattr(restored, "net_")


def test_cuda_trained_state_loads_on_cpu(monkeypatch):
    X, y, _ = _frames(n=12)
    clf = _small(TIMNet, max_epochs=1, device="cpu").fit(X, y)
    state = clf.__getstate__()
    state["device_"] = "cuda"  # as saved by a model trained on a GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    twin = TIMNet.__new__(TIMNet)
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    twin.__setstate__(state)
    torch.testing.assert_close(torch.rand(2), expected)  # loading does not move the RNG
    assert twin.device_ == "cpu" and str(twin.net_.device) == "cpu"
    assert next(twin.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))


# ---------------------------------------------------------------- transactional fit
def test_failed_refit_leaves_the_previous_fit_untouched():
    from skser.exceptions import ParameterError

    X, y, _ = _frames(n=12)
    y_ab = np.where(np.arange(12) % 2, "a", "b")
    clf = _small(TIMNet, max_epochs=1).fit(X, y_ab)
    net, proba = clf.net_, clf.predict_proba(X)
    y_xz = np.where(np.arange(12) % 2, "x", "z")
    clf.set_params(class_weight={"q": 2.0})
    with pytest.raises(ParameterError, match="'q'"):
        clf.fit(X, y_xz)
    assert list(clf.classes_) == ["a", "b"] and clf.net_ is net
    assert set(clf.predict(X)) <= {"a", "b"}
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    # a failure during training (a callback raising) leaves it untouched too
    from skorch.callbacks import Callback

    class Boom(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("boom")

    clf.set_params(class_weight=None, callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        clf.fit(X[:, :20, :5], y_xz)
    assert clf.n_features_in_ == X.shape[2] and clf.net_ is net
    # an unfitted estimator stays unfitted
    fresh = _small(TIMNet, class_weight={"q": 2.0})
    with pytest.raises(ParameterError):
        fresh.fit(X, y_xz)
    assert not any(k.endswith("_") and not k.startswith("__") for k in vars(fresh))


def test_refit_drops_attributes_of_the_previous_fit():
    import pandas as pd

    X, y, _ = _frames(n=12)
    Xv = X[:, 0, :]
    clf = _small(CNN1D, max_epochs=1).fit(pd.DataFrame(Xv, columns=[f"f{i}" for i in range(16)]), y)
    assert hasattr(clf, "feature_names_in_")
    clf.fit(Xv, y)
    assert not hasattr(clf, "feature_names_in_")


@pytest.mark.parametrize(
    "labels, shown",
    [
        (["a", "b", None, "a", "b", "a"], "None"),
        ([0.0, 1.0, 1.0, np.nan, 0.0, 1.0], "nan"),
    ],
)
def test_missing_labels_name_the_row(labels, shown):
    from skser.exceptions import ParameterError

    X, _, _ = _frames(n=6)
    y = np.array(labels, dtype=object if None in labels else float)
    row = next(i for i, v in enumerate(labels) if v is None or v != v)
    with pytest.raises(ParameterError, match=rf"missing label \({shown}\) at row {row} .*drop"):
        _small(TIMNet, max_epochs=1).fit(X, y)


def test_nan_in_a_plain_list_of_strings_is_missing_not_the_label_nan():
    from skser.exceptions import ParameterError

    X, _, _ = _frames(n=6)
    with pytest.raises(ParameterError, match=r"missing label \(nan\) at row 3"):
        _small(TIMNet, max_epochs=1).fit(X, ["a", "b", "a", np.nan, "b", "a"])


# ---------------------------------------------------------------- RNG side effects
def test_fit_on_cpu_seeds_no_accelerator_generator(monkeypatch):
    calls = []
    for name in ("manual_seed", "manual_seed_all"):
        monkeypatch.setattr(torch.cuda, name, lambda seed, name=name: calls.append(name))
    monkeypatch.setattr(torch.mps, "manual_seed", lambda seed: calls.append("mps"))
    X, y, _ = _frames(n=8)
    state = torch.get_rng_state()
    _small(TIMNet, max_epochs=1, device="cpu").fit(X, y)
    assert calls == []
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")
def test_fit_on_cuda_leaves_the_callers_cuda_rng_alone():  # pragma: no cover - GPU only
    X, y, _ = _frames(n=8)
    cpu, cuda = torch.get_rng_state(), torch.cuda.get_rng_state()
    a = _small(TIMNet, max_epochs=1, device="cuda").fit(X, y).predict_proba(X)
    assert torch.equal(torch.get_rng_state(), cpu)
    assert torch.equal(torch.cuda.get_rng_state(), cuda)
    torch.cuda.manual_seed(123)
    b = _small(TIMNet, max_epochs=1, device="cuda").fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-6)


# ---------------------------------------------------------------- AMP arithmetic and order
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_masked_pooling_is_finite_and_exact_in_half_precision(dtype):
    from skser.models._masking import masked_avg_pool2d_time, masked_mean_time

    x = torch.randn(2, 3, 9, 4)
    lengths = torch.tensor([9, 2])  # row 1: pooled cells 1..4 are entirely padding
    out, pooled = masked_avg_pool2d_time(x.to(dtype), lengths, (2, 2))
    ref, _ = masked_avg_pool2d_time(x, lengths, (2, 2))
    assert pooled.tolist() == [5, 1]
    assert torch.isfinite(out).all()
    assert (out[1, :, 1:] == 0).all()  # a fully padded cell is 0, not 0/0
    torch.testing.assert_close(out.float(), ref, atol=2e-2, rtol=2e-2)
    # a mean over 300 real frames keeps float32 accuracy of the sum and count
    long = torch.full((1, 2, 400), 1.0, dtype=dtype)
    torch.testing.assert_close(masked_mean_time(long, torch.tensor([301])).float(), torch.ones(1, 2))


@pytest.mark.parametrize("cls", [LightSERNet, TIMNet, CNN2D])
def test_bf16_autocast_batched_equals_one_by_one(cls):
    X, y, lengths = _frames(n=6, n_frames=40, variable=True)
    clf = _small(cls, max_epochs=1, device="cpu").fit(X, y)
    module = clf.module_.eval()
    x = torch.from_numpy(np.nan_to_num(X, nan=0.0))
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        batched = module(x, lengths=torch.from_numpy(lengths)).float()
        single = torch.cat(
            [module(x[i : i + 1, : lengths[i]], lengths=torch.tensor([lengths[i]])).float()
             for i in range(len(X))]
        )
    assert torch.isfinite(batched).all()
    ref = torch.from_numpy(np.log(clf.predict_proba(X)))
    torch.testing.assert_close(batched.log_softmax(1).double(), ref, atol=0.1, rtol=0.1)
    torch.testing.assert_close(batched, single, atol=0.1, rtol=0.05)


class _RecordingScaler:
    """Stand-in GradScaler: scales the loss by 1024 and unscales gradients in ``unscale_``."""

    factor = 1024.0

    def __init__(self, events):
        self.events = events

    def scale(self, loss):
        self.events.append("scale")
        return loss * self.factor

    def unscale_(self, optimizer):
        self.events.append("unscale")
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.div_(self.factor)

    def step(self, optimizer):
        self.events.append("step")
        optimizer.step()

    def update(self):
        self.events.append("update")


def test_on_grad_computed_sees_unscaled_gradients():
    from skser.models._net import _BatchDataset

    X, y, _ = _frames(n=8, n_frames=20)
    clf = _small(TIMNet, max_epochs=1, device="cpu", n_blocks=2, dropout=0.0).fit(X, y)
    net = clf.net_
    batch = _BatchDataset(X, None, clf.classes_.searchsorted(y), trim=False).__getitems__(list(range(8)))
    events, norms = [], []
    notify = net.notify

    def recording_notify(name, **kwargs):
        if name == "on_grad_computed":
            events.append("grad")
            norms.append(sum(p.grad.norm() ** 2 for _, p in kwargs["named_parameters"]) ** 0.5)
        return notify(name, **kwargs)

    net.notify = recording_notify
    state = {k: v.clone() for k, v in net.module_.state_dict().items()}
    net.train_step(batch)  # float32 reference
    net.module_.load_state_dict(state)
    net.amp_, net.amp_dtype_, net.scaler_ = True, torch.bfloat16, _RecordingScaler(events)
    net.train_step(batch)
    assert events == ["grad", "scale", "unscale", "grad", "step", "update"]
    assert float(norms[1]) == pytest.approx(float(norms[0]), rel=0.1)  # not 1024 times larger


# ---------------------------------------------------------------- batch norm never sees padding
def _bn_stats(module):
    return {k: v.clone() for k, v in module.state_dict().items() if "running_" in k}


@pytest.mark.parametrize(
    "make, n_features",
    [
        (lambda: LightSERNetModule(3, dropout=0.0), 16),
        (lambda: TIMNetModule(6, 3, n_blocks=3, dropout=0.0), 6),
        (lambda: CNN2DModule(16, 3, dropout=0.0), 16),
    ],
    ids=["LightSERNet", "TIMNet", "CNN2D"],
)
def test_padding_does_not_change_trained_bn_statistics(make, n_features):
    reference = make()
    padded_model = copy.deepcopy(reference)
    short = torch.randn(4, 24, n_features) + 2.0
    lengths = torch.tensor([24, 24, 17, 9])
    short[2, 17:] = 0.0
    short[3, 9:] = 0.0
    # the same utterances in a batch padded to a long utterance's length (64 frames)
    padded = torch.cat([short, torch.zeros(4, 40, n_features)], dim=1)
    reference.train()(short, lengths)
    padded_model.train()(padded, lengths)
    ref, got = _bn_stats(reference), _bn_stats(padded_model)
    assert ref
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], atol=1e-5, rtol=1e-4, msg=k)


def test_masked_bn_keeps_eval_folding_and_state_dict_keys():
    X, y, _ = _frames(n=8, variable=True)
    clf = _small(LightSERNet, max_epochs=1, device="cpu").fit(X, y)
    keys = set(clf.module_.state_dict())
    assert "path1.bn.running_mean" in keys and "path1.bn.num_batches_tracked" in keys
    plain = torch.nn.BatchNorm2d(32)
    plain.load_state_dict(clf.module_.path1.bn.state_dict())  # same keys as torch BN


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_bn_running_statistics_are_warm_started(masked):
    """Update t moves the statistics by max(momentum, 1/t): the initial 0/1 never linger."""
    torch.manual_seed(0)
    bn = MaskedBatchNorm1d(3, momentum=0.01, eps=1e-3).train()
    batches = [torch.randn(4, 3, 10) * 5 + 7 for _ in range(150)]
    mask = torch.ones(4, 10, dtype=torch.bool)
    if masked:
        mask[1, 6:] = False
    expected_mean = torch.zeros(3)
    for t, x in enumerate(batches, start=1):
        bn(x, mask if masked else None)
        if masked:
            m = mask[:, None, :].expand_as(x)
            batch_mean = torch.stack([x[:, c][m[:, c]].mean() for c in range(3)])
        else:
            batch_mean = x.mean(dim=(0, 2))
        expected_mean = expected_mean + max(0.01, 1.0 / t) * (batch_mean - expected_mean)
        if t == 1:  # the first batch replaces the initial statistics entirely
            torch.testing.assert_close(bn.running_mean, batch_mean, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(bn.running_mean, expected_mean, atol=1e-4, rtol=1e-4)
    assert float(bn.running_mean.min()) > 6.0  # near the data's mean 7, not the initial 0


def test_bn_momentum_none_keeps_the_cumulative_average():
    bn = MaskedBatchNorm1d(2, momentum=None).train()
    xs = [torch.randn(8, 2, 5) + i for i in range(5)]
    for x in xs:
        bn(x)
    torch.testing.assert_close(bn.running_mean, torch.stack([x.mean(dim=(0, 2)) for x in xs]).mean(0))


# ---------------------------------------------------------------- padding memory, read-only input
def _padded_with_outlier(n=64, n_frames=600, n_features=40, seed=0):
    """NaN-padded frames where one long utterance sets the padded length (~6 MiB float32)."""
    rng = np.random.default_rng(seed)
    X = np.full((n, n_frames, n_features), np.nan, dtype=np.float32)
    lengths = rng.integers(20, 60, n)
    lengths[5] = n_frames
    for i, L in enumerate(lengths):
        X[i, :L] = rng.standard_normal((L, n_features)) + (i % 2)
    return X, np.where(np.arange(n) % 2, "b", "a"), lengths


def test_padded_input_is_never_copied_whole():
    import tracemalloc

    X, y, _ = _padded_with_outlier()
    clf = _small(TIMNet, max_epochs=1, batch_size=16, n_blocks=1, device="cpu")
    clf.fit(X[:16, :60], y[:16]).predict_proba(X[:16, :60])  # warm up lazy imports (not copies)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        clf.fit(X, y)
        fit_peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        clf.predict_proba(X)
        predict_peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert np.isnan(X[0, -1]).all()  # the caller's padding is left as it was
    assert fit_peak < 0.5 * X.nbytes, (fit_peak, X.nbytes)
    assert predict_peak < 0.5 * X.nbytes, (predict_peak, X.nbytes)


def test_validate_X_returns_the_callers_array():
    X, y, lengths = _padded_with_outlier(n=8, n_frames=100, n_features=4)
    clf = _small(TIMNet, max_epochs=1, device="cpu").fit(X, y)
    x, got = clf._validate_X(X, reset=False)
    assert np.shares_memory(x, X)
    np.testing.assert_array_equal(got, lengths)
    x, got = clf._validate_X(X[:, :60], reset=False)  # a non-contiguous view: no copy either
    assert np.shares_memory(x, X) and got.max() == 60


@pytest.mark.parametrize("cls", ALL_MODELS)
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_read_only_and_memmap_input_neither_warn_nor_fail(cls, padded, tmp_path):
    import warnings

    import joblib

    if cls is CNN1D and padded:
        pytest.skip("CNN1D takes descriptor vectors, which have no padding")
    X, y = _data_for(cls, n=12, variable=padded)
    path = tmp_path / "X.joblib"
    joblib.dump(X, path)
    memmap = joblib.load(path, mmap_mode="r")  # what GridSearchCV(n_jobs>1) workers get
    assert isinstance(memmap, np.memmap) and not memmap.flags.writeable
    read_only = X.copy()
    read_only.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for data in (memmap, read_only):
            clf = _small(cls, max_epochs=1, device="cpu").fit(data, y)
            np.testing.assert_allclose(clf.predict_proba(data), clf.predict_proba(X), atol=1e-6)


# ---------------------------------------------------------------- focal loss consistency
def test_focal_loss_is_continuous_at_gamma_0_with_weights_and_smoothing():
    import torch.nn.functional as F

    from skser.models import FocalLoss

    logits = torch.randn(32, 4) * 3
    logits[0] = torch.tensor([80.0, -80.0, -80.0, -80.0])  # a saturated p[y] = 1
    y = torch.randint(0, 4, (32,))
    y[0] = 0
    w = torch.tensor([0.5, 2.0, 1.0, 3.0])
    ce = F.cross_entropy(logits, y, weight=w, label_smoothing=0.2)
    ones = torch.ones(4)  # alpha of ones forces the general (focal) code path
    general = FocalLoss(weight=w, gamma=0.0, alpha=ones, label_smoothing=0.2)(logits, y)
    torch.testing.assert_close(general, ce, rtol=1e-6, atol=1e-6)
    assert FocalLoss(weight=w, label_smoothing=0.2)(logits, y).item() == ce.item()
    gaps = []
    for gamma in (1e-3, 1e-6, 1e-9):
        near = FocalLoss(weight=w, gamma=gamma, label_smoothing=0.2)(logits, y)
        gaps.append(abs(near.item() - ce.item()))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6  # tends to the gamma = 0 loss
    # and the focusing term only ever lowers the loss
    assert FocalLoss(weight=w, gamma=2.0, label_smoothing=0.2)(logits, y) < ce


# ---------------------------------------------------------------- hooks: a dict-input subclass
class _BundleModule(torch.nn.Module):
    def __init__(self, n_features, n_embedding, n_classes):
        super().__init__()
        self.frames = torch.nn.Linear(n_features, 8)
        self.embedding = torch.nn.Linear(n_embedding, 8)
        self.out = torch.nn.Linear(16, n_classes)

    def forward(self, x, embedding, lengths=None):
        from skser.models._masking import masked_mean_time

        h = masked_mean_time(self.frames(x).transpose(1, 2), lengths)
        return self.out(torch.cat([h, self.embedding(embedding)], dim=1).relu())


class _Bundle(TIMNet):
    """Frames plus one embedding per utterance, through the base's hooks only (no fit copy)."""

    def _validate_X(self, X, *, reset):
        from sklearn.utils import check_array

        frames, lengths = super()._validate_X(X["mfcc"], reset=reset)
        embedding = check_array(X["embedding"], dtype=np.float32)
        if reset:
            self.n_embedding_ = embedding.shape[1]
        return {"x": frames, "embedding": embedding}, lengths

    def _module_shape(self, x):
        return x["x"].shape[2], x["x"].shape[1]

    def _build_module(self, n_features, n_frames, n_classes):
        return _BundleModule(n_features, self.n_embedding_, n_classes)


def test_dict_input_subclass_uses_the_hooks():
    X, y, lengths = _frames(n=16, n_frames=30, variable=True)
    emb = np.random.default_rng(1).standard_normal((16, 5)).astype(np.float32)
    bundle = {"mfcc": X, "embedding": emb}
    clf = _Bundle(max_epochs=2, batch_size=5, random_state=0, device="cpu", validation_fraction=0.25)
    clf.fit(bundle, y)
    proba = clf.predict_proba(bundle)
    assert proba.shape == (16, 4) and clf.n_embedding_ == 5
    single = np.concatenate(
        [clf.predict_proba({"mfcc": X[i : i + 1, : lengths[i]], "embedding": emb[i : i + 1]})
         for i in range(16)]
    )
    np.testing.assert_allclose(single, proba, atol=1e-5)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(bundle), proba)


def test_trims_padding_hook_replaces_reading_subclass_parameters():
    assert CNN2D(pooling="flatten")._trims_padding() is False
    assert CNN2D()._trims_padding() is True and TIMNet()._trims_padding() is True
    import inspect

    import skser.models._base as base

    assert "getattr(self" not in inspect.getsource(base)  # no subclass parameter read


def test_speakers_reach_fit_through_metadata_routing_without_set_fit_request(monkeypatch):
    import sklearn
    from sklearn.pipeline import make_pipeline

    from skser.preprocessing import SpeakerNormalizer

    seen = {}
    original = CNN1D._split

    def spy(self, y_enc, groups, seed):
        seen["groups"] = groups
        return original(self, y_enc, groups, seed)

    monkeypatch.setattr(CNN1D, "_split", spy)
    X, y, _ = _frames(n=24)
    speakers = np.repeat(np.array(["s1", "s2", "s3", "s4"]), 6)
    pipe = make_pipeline(SpeakerNormalizer(min_utterances=2),
                         _small(CNN1D, max_epochs=1, validation_fraction=0.25))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X[:, 0, :], y, groups=speakers)
    np.testing.assert_array_equal(seen["groups"], speakers)


def test_bn_warm_start_stops_reading_the_step_count_once_warmed_up():
    """After 1/momentum updates the factor is the momentum without a host read of the count."""
    bn = MaskedBatchNorm1d(3, momentum=0.1).train()
    for _ in range(10):
        bn(torch.randn(4, 3, 5))
    assert bn._update_factor() == pytest.approx(0.1)
    with torch.no_grad():
        bn.num_batches_tracked.fill_(1)  # would mean factor 1 if it were still read
    assert bn._update_factor() == pytest.approx(0.1)
    bn.load_state_dict(MaskedBatchNorm1d(3, momentum=0.1).state_dict())  # fresh statistics
    bn(torch.randn(4, 3, 5))
    assert bn._update_factor() == pytest.approx(1.0)  # warm-up starts again: t = 1
    bn.reset_running_stats()
    assert not bn._warmed_up
