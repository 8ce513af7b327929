"""SERNet: architecture counts, masking, training options, ablation switches, attention plot."""

from __future__ import annotations

import pickle

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, GroupKFold  # noqa: E402

from skser.exceptions import InputError, ParameterError  # noqa: E402
from skser.models import (  # noqa: E402
    SERNet,
    SERNetCodeModule,
    SERNetModule,
    count_parameters,
    plot_attention,
)
from skser.models._schedules import WarmupCosineSteps  # noqa: E402
from skser.models._sernet import CODE_SIZES, REPORT_SIZES  # noqa: E402

N_FEATURES = 268  # 120 MFCC + deltas, 128 log-mel, 20 prosodic columns


def _trainable(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _ragged(n=24, n_frames=40, n_features=N_FEATURES, seed=0):
    """Random frames with a class signal in the mel block, NaN-padded to ragged lengths."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_frames, n_features)).astype(np.float32)
    y = np.array(["ang", "sad"] * (n // 2))
    X[y == "ang", :, 130:150] += 1.5
    lengths = rng.integers(6, n_frames + 1, n)
    lengths[0] = n_frames
    for i, length in enumerate(lengths):
        X[i, length:] = np.nan
    return X, y, lengths


def _small(**kw):
    params = {"size": "small", "max_epochs": 2, "batch_size": 8, "validation_fraction": None,
              "schedule_kwargs": {"warmup_steps": 2}, "device": "cpu", "random_state": 0}
    params.update(kw)
    return SERNet(**params)


# ------------------------------------------------------------ architecture
@pytest.mark.parametrize(
    "module_cls, sizes, size, expected",
    [
        # trainable parameters for 268 input columns and 8 classes (docs/sernet.md)
        (SERNetModule, REPORT_SIZES, "base", 573_001),
        (SERNetModule, REPORT_SIZES, "large", 2_057_801),
        (SERNetCodeModule, CODE_SIZES, "base", 686_752),
        (SERNetCodeModule, CODE_SIZES, "large", 2_263_712),
    ],
)
def test_parameter_counts(module_cls, sizes, size, expected):
    module = module_cls(N_FEATURES, 8, **sizes[size])
    assert _trainable(module) == expected
    assert count_parameters(module) > expected  # + batch-norm running statistics


def test_report_network_widths():
    m = SERNetModule(N_FEATURES, 8)
    # 120 MFCC + 40 projected mel + 20 prosodic = the report's 180 inputs
    assert m.columns.n_out == 180
    assert [c.dilation[0] for c in m.multiscale.branches] == [1, 2, 4]
    assert sum(c.out_channels for c in m.multiscale.branches) == 192
    assert [b.conv2.out_channels for b in m.res_blocks] == [128, 128, 128]
    assert m.res_blocks[0].proj is not None and m.res_blocks[1].proj is None
    assert m.mhsa.num_heads == 4 and m.dense.out_features == 256
    assert SERNetModule(N_FEATURES, 8, use_prosody=False).columns.n_out == 160


def test_code_network_fixes_channel_bug():
    m = SERNetCodeModule(N_FEATURES, 8)
    widths = [sum(c.out_channels for c in b.conv.branches) for b in m.blocks]
    assert widths == [64, 128, 256]  # the code's filters // 3 gave 63 / 126 / 255
    assert [b.residual for b in m.blocks] == [True, False, False]
    assert m.attention_pool.attention.num_heads == 8


def test_ablation_switches_change_the_network():
    base = SERNetModule(N_FEATURES, 4)
    plain = SERNetModule(N_FEATURES, 4, multiscale=False)
    assert len(plain.multiscale.branches) == 1 and plain.multiscale.branches[0].out_channels == 192
    assert SERNetModule(N_FEATURES, 4, pooling="mean").attention_pool is None
    assert plain.multiscale.branches[0].dilation == (1,)
    assert _trainable(plain) == _trainable(base)  # same width: the ablation keeps the size


# --------------------------------------------------------------- masking
@pytest.mark.parametrize("variant", ["report", "code"])
def test_batched_predictions_equal_one_by_one_on_ragged_input(variant):
    X, y, lengths = _ragged()
    clf = _small(variant=variant).fit(X, y)
    batched = clf.predict_proba(X)
    single = np.concatenate([clf.predict_proba(X[i : i + 1, :n]) for i, n in enumerate(lengths)])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    more_padding = np.concatenate([X, np.full((len(X), 7, N_FEATURES), np.nan, np.float32)], axis=1)
    np.testing.assert_allclose(clf.predict_proba(more_padding), batched, atol=1e-5)


@pytest.mark.parametrize("variant", ["report", "code"])
def test_padding_never_enters_batch_norm_statistics(variant):
    X, y, lengths = _ragged()
    Xp = X.copy()
    # different garbage in the padding (as zeros after validation, then as large values)
    module = _small(variant=variant).fit(X, y).module_
    torch.manual_seed(0)
    module.train()
    x = torch.from_numpy(np.nan_to_num(Xp))
    x_garbage = x.clone()
    pad = torch.from_numpy(~np.isfinite(Xp).all(axis=2))
    x_garbage[pad] = 1e3
    lengths_t = torch.from_numpy(lengths)
    state = {k: v.clone() for k, v in module.state_dict().items()}
    with torch.no_grad():
        torch.manual_seed(1)
        module(x, lengths_t)
    stats_clean = {k: v.clone() for k, v in module.state_dict().items() if "running" in k}
    module.load_state_dict(state)
    with torch.no_grad():
        torch.manual_seed(1)
        module(x_garbage, lengths_t)
    for k, v in module.state_dict().items():
        if "running" in k:
            torch.testing.assert_close(v, stats_clean[k])


def test_attention_weights_cover_real_frames_and_sum_to_one():
    X, y, lengths = _ragged()
    for kw in ({}, {"variant": "code"}, {"pooling": "mean"}):
        clf = _small(**kw).fit(X, y)
        weights = clf.attention_weights(X)
        assert [w.shape[0] for w in weights] == list(lengths)
        for w in weights:
            assert np.all(w >= 0)
            np.testing.assert_allclose(w.sum(), 1.0, atol=1e-5)
    np.testing.assert_allclose(weights[1], 1.0 / lengths[1], atol=1e-6)  # mean pooling: uniform


def test_plot_attention_returns_axes():
    import matplotlib.pyplot as plt

    X, y, lengths = _ragged()
    clf = _small().fit(X, y)
    ax = plot_attention(clf, X, index=2)
    assert isinstance(ax, matplotlib.axes.Axes)
    line = ax.sernet_weights_ax.get_lines()[0]
    assert len(line.get_xdata()) == lengths[2]
    assert ax.get_images()[0].get_array().shape == (128, lengths[2])
    fig, ax2 = plt.subplots()
    assert plot_attention(clf, X, index=0, logmel=np.zeros((40, 10)), ax=ax2) is ax2
    plt.close("all")
    with pytest.raises(ParameterError, match="needs a fitted SERNet.*got LogisticRegression"):
        plot_attention(LogisticRegression(), X, index=0)


# ------------------------------------------------------------- training
def test_defaults_follow_the_report():
    clf = SERNet()
    p = clf.get_params()
    assert (p["variant"], p["size"], p["optimizer"], p["lr"]) == ("report", "base", "adamw", 1e-3)
    assert (p["weight_decay"], p["loss"], p["focal_gamma"]) == (1e-4, "focal", 2.0)
    assert p["focal_alpha"] == 0.25
    assert (p["label_smoothing"], p["batch_size"], p["max_epochs"]) == (0.1, 64, 100)
    assert (p["patience"], p["validation_fraction"]) == (10, 0.1)
    assert clf.schedule == "warmup_cosine_steps"


def test_scalar_focal_alpha_is_per_class():
    X, y, _ = _ragged()
    clf = _small(max_epochs=1).fit(X, y)
    crit = clf.net_.criterion_
    assert crit.gamma == 2.0 and crit.label_smoothing == 0.1
    torch.testing.assert_close(crit.alpha, torch.full((2,), 0.25))
    ce = _small(max_epochs=1, loss="cross_entropy").fit(X, y).net_.criterion_
    assert ce.gamma == 0.0 and ce.alpha is None


def test_warmup_cosine_steps():
    from skser.models import _sernet

    assert _sernet.WarmupCosineSteps is WarmupCosineSteps  # old import path (and pickles) still work
    sched = WarmupCosineSteps(warmup_steps=10, min_lr=1e-6).initialize()
    sched.total_steps_, sched.warmup_ = 110, 10
    lrs = [sched.factor(s, 1e-3) for s in range(110)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert lrs[10] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(1e-6, rel=0.01)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    # per step in a real fit: 24 samples / batch 8 = 3 steps per epoch, warm-up 2 steps
    X, y, _ = _ragged()
    clf = _small(max_epochs=2, schedule_kwargs={"warmup_steps": 2, "min_lr": 1e-5}).fit(X, y)
    assert clf.history_[0, "event_lr"] == pytest.approx(1e-3)  # step 2: first after the warm-up
    assert clf.history_[-1, "event_lr"] == pytest.approx(1e-5)
    with pytest.raises(ParameterError, match="warmup_steps"):
        _small(schedule_kwargs={"warmup": 5}).fit(X, y)


def test_group_aware_early_stopping():
    X, y, _ = _ragged(n=32)
    groups = np.repeat(np.arange(8), 4)
    clf = _small(max_epochs=3, validation_fraction=0.25, patience=1).fit(X, y, groups=groups)
    assert "valid_uar" in clf.history_[-1]
    assert len(clf.history_) <= 3


def test_spec_augment_masks_mel_bands_only_in_training():
    module = SERNetModule(N_FEATURES, 2, **REPORT_SIZES["small"],
                          augment={"freq_mask_param": 20, "n_freq_masks": 2,
                                   "time_mask_param": 0, "n_time_masks": 1})
    x = torch.ones(16, 30, N_FEATURES - 20)
    module.columns.train()
    torch.manual_seed(0)
    out = module.columns.spec_augment(x, None)
    zero_cols = (out == 0).all(dim=1).any(dim=0).nonzero().flatten()
    assert zero_cols.numel() > 0 and zero_cols.min() >= 120 and zero_cols.max() < 248
    module.columns.eval()
    assert torch.equal(module.columns.spec_augment(x, None), x)


def test_reproducible_and_ablation_parameters_grid_search():
    X, y, _ = _ragged()
    a = _small().fit(X, y).predict_proba(X)
    b = _small().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    grid = GridSearchCV(
        _small(max_epochs=1),
        {"multiscale": [True, False], "pooling": ["attention", "mean"]},
        cv=GroupKFold(2),
        scoring="balanced_accuracy",
    ).fit(X, y, groups=np.arange(len(y)) // 6)
    assert len(grid.cv_results_["params"]) == 4


def test_clone_pickle_round_trip():
    X, y, _ = _ragged()
    clf = _small(variant="code").fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert clone(clf).get_params() == clf.get_params()


def test_n_params_attribute_and_prosody_ablation():
    X, y, _ = _ragged()
    with_p = _small().fit(X, y)
    without = _small(use_prosody=False).fit(X, y)
    assert with_p.n_params_ == count_parameters(with_p.module_)
    assert without.n_params_ < with_p.n_params_
    # the prosodic columns have no effect at all without prosody
    X2 = X.copy()
    X2[..., 248:] = np.where(np.isnan(X2[..., 248:]), np.nan, 5.0)
    np.testing.assert_allclose(without.predict_proba(X2), without.predict_proba(X), atol=1e-6)


def test_bad_layout_and_parameters():
    X, y, _ = _ragged(n_features=200)
    with pytest.raises(InputError, match="n_spectral=120 .* n_mel=128"):
        _small().fit(X, y)
    with pytest.raises(ParameterError, match="no input column"):
        _small(n_spectral=0, n_mel=0, use_prosody=False).fit(X, y)
    with pytest.raises(ValueError, match="variant"):
        _small(variant="paper").fit(X, y)


def test_amp_warns_on_cpu():
    X, y, _ = _ragged()
    with pytest.warns(UserWarning, match="amp"):
        _small(max_epochs=1, amp=True).fit(X, y)


def test_top_level_lazy_export():
    import skser

    assert skser.SERNet is SERNet


def test_pipeline_from_audio_paths(audio_paths):
    features = pytest.importorskip("skser.features")
    if not hasattr(features, "SERNetFeatures"):
        pytest.skip("SERNetFeatures is not in this checkout yet (issue 8, prosody)")
    import matplotlib.pyplot as plt
    from sklearn.pipeline import make_pipeline

    y = np.array(["ang", "sad", "ang", "sad"])
    pipe = make_pipeline(features.SERNetFeatures(), _small(max_epochs=1, batch_size=2))
    pipe.fit(audio_paths, y)
    X = pipe[:-1].transform(audio_paths)
    assert X.shape[2] >= 248 and pipe[-1].n_features_in_ == X.shape[2]
    assert set(pipe.predict(audio_paths)) <= {"ang", "sad"}
    weights = pipe[-1].attention_weights(X)
    assert [w.shape[0] for w in weights] == list(np.isfinite(X).all(axis=2).sum(axis=1))
    assert isinstance(plot_attention(pipe, audio_paths, index=1), matplotlib.axes.Axes)
    plt.close("all")
