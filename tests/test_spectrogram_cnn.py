"""Tests of SpectrogramImage and SpectrogramCNN (tiny random backbones, no hub access)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from scipy.stats import loguniform, randint
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, RandomizedSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback

from skser.exceptions import DownloadError, InputError, ParameterError
from skser.features import SpectrogramImage
from skser.features._spectrogram_image import IMAGENET_MEAN, IMAGENET_STD
from skser.metrics import get_scorers, roc_auc_ovr_scorer
from skser.models import CNN2D, SpectrogramCNN
from skser.models._spectrogram_cnn import (
    BACKBONES,
    _FineTuning,
    _round_filters,
    backbone_config,
    build_backbone,
)

transformers = pytest.importorskip("transformers")


# ----------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test may reach the hub: HF_HUB_OFFLINE on, and the probe says unreachable."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr("skser.models._spectrogram_cnn._hub_reachable", lambda timeout=3.0: False)


def _tiny_efficientnet_config():
    width = 0.25
    return transformers.EfficientNetConfig(
        width_coefficient=width,
        depth_coefficient=0.34,  # one block per stage
        hidden_dim=_round_filters(width, 1280),
    )


def _tiny_resnet_config():
    return transformers.ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16, 16, 32], depths=[1, 1, 1, 1], layer_type="basic"
    )


@pytest.fixture(scope="module")
def backbone_dirs(tmp_path_factory):
    """Tiny random EfficientNet and ResNet checkpoints written with save_pretrained."""
    root = tmp_path_factory.mktemp("backbones")
    torch.manual_seed(0)
    paths = {}
    for name, model in (
        ("efficientnet", transformers.EfficientNetModel(_tiny_efficientnet_config())),
        ("resnet", transformers.ResNetForImageClassification(_tiny_resnet_config())),
    ):
        paths[name] = str(root / name)
        model.save_pretrained(paths[name])
    return paths


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    y = np.array(["anger", "neutral", "sadness"] * 8, dtype=object)
    X = rng.standard_normal((24, 3, 32, 32)).astype(np.float32)
    X += (np.searchsorted(np.unique(y), y)[:, None, None, None] - 1.0).astype(np.float32)
    groups = np.repeat(np.arange(4), 6)
    return X, y, groups


def _fast(**kw):
    params = dict(hidden=16, max_epochs=1, batch_size=8, random_state=0, device="cpu")
    params.update(kw)
    return SpectrogramCNN(**params)


# ----------------------------------------------------------- SpectrogramImage
@pytest.fixture(scope="module")
def logmel():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 60, 20)).astype(np.float32)
    X[1, 40:] = np.nan
    X[2, 7:] = np.nan
    return X


@pytest.mark.parametrize("channels, n_channels", [("single", 1), ("repeat", 3), ("deltas", 3)])
@pytest.mark.parametrize("time_mode", ["resize", "crop_pad"])
def test_image_shape_dtype_and_padding_is_ignored(logmel, channels, n_channels, time_mode):
    image = SpectrogramImage(size=(16, 24), channels=channels, time_mode=time_mode)
    out = image.fit_transform(logmel)
    assert out.shape == (3, n_channels, 16, 24) and out.dtype == np.float32
    assert np.isfinite(out).all()
    # A padded utterance gives the image of its real frames alone.
    alone = image.transform(logmel[1:2, :40])
    np.testing.assert_allclose(out[1], alone[0], rtol=1e-5, atol=1e-5)


def test_resize_is_antialiased_bilinear(logmel):
    out = SpectrogramImage(size=(12, 25), channels="single", normalize=None).fit_transform(logmel)
    frames = torch.from_numpy(logmel[0].T.copy())[None, None]  # (1, 1, F, T)
    ref = torch.nn.functional.interpolate(
        frames, size=(12, 25), mode="bilinear", antialias=True, align_corners=False
    )[0, 0].flip(0)  # row 0 is the highest band
    np.testing.assert_allclose(out[0, 0], ref.numpy(), rtol=1e-5, atol=1e-5)


def test_crop_pad_keeps_the_time_scale(logmel):
    image = SpectrogramImage(size=(None, 20), time_mode="crop_pad", channels="single", normalize=None)
    out = image.fit_transform(logmel)[:, 0]
    # Row 0 (60 frames) is centre-cropped: frames 20..39; bands flipped upside down.
    np.testing.assert_allclose(out[0], logmel[0, 20:40].T[::-1], rtol=1e-6)
    # Row 2 (7 frames) is centre-padded with its own minimum (6 columns before).
    np.testing.assert_allclose(out[2][:, 6:13], logmel[2, :7].T[::-1], rtol=1e-6)
    assert (out[2][:, :6] == np.nanmin(logmel[2])).all()


def test_normalisations(logmel):
    per_image = SpectrogramImage(size=(16, 16), normalize="per_image").fit_transform(logmel)
    np.testing.assert_allclose(per_image.mean(axis=(2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(per_image.std(axis=(2, 3)), 1, atol=1e-4)
    imagenet = SpectrogramImage(size=(16, 16), normalize="imagenet").fit_transform(logmel)
    unit = imagenet * IMAGENET_STD[None, :, None, None] + IMAGENET_MEAN[None, :, None, None]
    np.testing.assert_allclose(unit.min(axis=(2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(unit.max(axis=(2, 3)), 1, atol=1e-5)
    deltas = SpectrogramImage(size=(16, 16), channels="deltas", normalize=None).fit_transform(logmel)
    single = SpectrogramImage(size=(16, 16), channels="single", normalize=None).fit_transform(logmel)
    np.testing.assert_allclose(deltas[:, 0], single[:, 0], rtol=1e-5)
    assert not np.allclose(deltas[:, 1], deltas[:, 0])


def test_centre_fit_signals_and_frames():
    """The one centre crop/pad of skser.features._base, for waveforms and for image frames."""
    from skser.features._base import centre_fit

    np.testing.assert_array_equal(centre_fit(np.arange(1.0, 4.0), 6), [0, 1, 2, 3, 0, 0])
    np.testing.assert_array_equal(centre_fit(np.arange(7.0), 4), [1, 2, 3, 4])
    frames = np.arange(6, dtype=np.float32).reshape(3, 2)
    padded = centre_fit(frames, 6, fill=-1.0)
    assert padded.dtype == np.float32 and padded.shape == (6, 2)
    np.testing.assert_array_equal(padded[:, 0], [-1, 0, 2, 4, -1, -1])
    np.testing.assert_array_equal(centre_fit(frames, 1), frames[1:2])


@pytest.mark.parametrize("estimator", [SpectrogramImage(), CNN2D(max_epochs=1)],
                         ids=["SpectrogramImage", "CNN2D"])
def test_frame_layout_errors_are_the_shared_ones(estimator):
    """skser.features._base.check_frame_array: one layout check for transformers and models."""
    name = type(estimator).__name__
    with pytest.raises(InputError, match=rf"{name} expects frame-level features .*got 4-D"):
        estimator.fit(np.zeros((2, 3, 4, 5), dtype=np.float32), [0, 1])
    with pytest.raises(InputError, match=rf"{name}: X of shape \(2, 0, 4\) has no frames"):
        estimator.fit(np.zeros((2, 0, 4)), [0, 1])


def test_image_bad_input(logmel):
    bad = logmel.copy()
    bad[0, 3, 2] = np.nan
    with pytest.raises(InputError, match="row 0, frame 3"):
        SpectrogramImage().fit(bad)
    with pytest.raises(ParameterError, match="size="):
        SpectrogramImage(size=(16, 0)).fit(logmel)
    image = SpectrogramImage().fit(logmel)
    with pytest.raises(ValueError, match="expecting 20 features"):
        image.transform(logmel[:, :, :10])
    empty = logmel.copy()
    empty[2] = np.nan
    # The frame-layout check of skser.features._base.padding_lengths, shared with the models.
    with pytest.raises(InputError, match="row 2 has no real frame"):
        image.transform(empty)
    gap = logmel.copy()
    gap[1, :2] = np.nan
    with pytest.raises(InputError, match="row 1 has NaN frames before real ones"):
        image.transform(gap)


_COLUMNS_ARE_FRAMES = (
    "2-D input is one feature per frame (n_samples, n_frames), as for Functionals: its "
    "columns are frames, so n_features_in_ is 1 and the frame count may change between "
    "fit and transform"
)
IMAGE_EXPECTED_FAILURES = {
    "check_n_features_in": _COLUMNS_ARE_FRAMES,
    "check_n_features_in_after_fitting": _COLUMNS_ARE_FRAMES,
    "check_transformer_general": _COLUMNS_ARE_FRAMES,
}


@parametrize_with_checks(
    [SpectrogramImage(size=(8, 8))], expected_failed_checks=lambda est: IMAGE_EXPECTED_FAILURES
)
def test_spectrogram_image_estimator_checks(estimator, check):
    check(estimator)


# ----------------------------------------------------------- backbones
def test_named_configs_need_no_hub():
    # Channel widths of the paper's B0..B7 heads and the ResNet stage widths.
    heads = {f"efficientnet-b{i}": c for i, c in enumerate([1280, 1280, 1408, 1536, 1792, 2048, 2304, 2560])}
    for name in BACKBONES:
        config = backbone_config(name)
        if name in heads:
            assert config.hidden_dim == heads[name]
    assert backbone_config("resnet-50").hidden_sizes[-1] == 2048
    assert backbone_config("resnet-18").layer_type == "basic"
    # torchvision's backbones (classifier removed) have these parameter counts.
    b0 = build_backbone("efficientnet-b0", pretrained=False, n_channels=3)
    assert sum(p.numel() for p in b0.parameters()) == 4_007_548
    with pytest.raises(ParameterError, match="not a named architecture"):
        backbone_config("efficientnet-b9")


def test_pretrained_unavailable_fails_fast_with_advice(images):
    X, y, _ = images
    with pytest.raises(DownloadError, match="save_pretrained"):
        _fast(backbone="efficientnet-b0", pretrained=True).fit(X, y)
    with pytest.raises(ParameterError, match="neither a named architecture"):
        _fast(backbone="no/such-model", pretrained=False).fit(X, y)


@pytest.mark.parametrize("kind", ["efficientnet", "resnet"])
def test_loads_local_weights_and_frozen_backbone_is_untouched(backbone_dirs, images, kind):
    X, y, _ = images
    saved = transformers.AutoModel.from_pretrained(backbone_dirs[kind]).state_dict()
    clf = _fast(backbone=backbone_dirs[kind], pretrained=True, freeze="backbone",
                n_frozen_epochs=None, max_epochs=2).fit(X, y)
    trained = clf.module_.backbone.state_dict()
    assert set(trained) == set(saved)
    for name, value in saved.items():  # weights and BN statistics: loaded, then frozen
        torch.testing.assert_close(trained[name], value, msg=name)
    assert clf.predict_proba(X).shape == (24, 3)
    assert set(clf.predict(X)) <= set(y)


class _Recorder(Callback):
    """Which parameters got gradients, and which BN layers trained, per epoch."""

    def initialize(self):
        self.grads, self.bn_training = [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.grads.append(set())
        self.bn_training.append(set())

    def on_grad_computed(self, net, named_parameters, **kwargs):
        for name, p in named_parameters:
            if p.grad is not None:
                self.grads[-1].add(name)
        for name, m in net.module_.named_modules():
            if isinstance(m, torch.nn.BatchNorm2d) and m.training:
                self.bn_training[-1].add(name)


def test_freeze_then_unfreeze_last_stage(backbone_dirs, images):
    X, y, _ = images
    clf = _fast(
        backbone=backbone_dirs["resnet"], pretrained=True, freeze="backbone", n_frozen_epochs=1,
        unfreeze=1, max_epochs=2, callbacks=[("rec", _Recorder())],
    ).fit(X, y)
    rec = clf.net_.callbacks_[[n for n, _ in clf.net_.callbacks_].index("rec")][1]
    frozen, unfrozen = rec.grads
    assert frozen and all(n.startswith("head.") for n in frozen)
    assert not rec.bn_training[0]  # every backbone BN in eval mode while frozen
    last = "backbone.encoder.stages.3."
    assert {n for n in unfrozen if not n.startswith("head.")} == {
        n for n, _ in clf.module_.named_parameters() if n.startswith(last)
    }
    assert rec.bn_training[1] and all(n.startswith(last) for n in rec.bn_training[1])
    # The whole backbone trains after the frozen epochs with unfreeze="all".
    clf_all = clone(clf).set_params(unfreeze="all").fit(X, y)
    rec = dict(clf_all.net_.callbacks_)["rec"]
    assert any(n.startswith("backbone.embedder") for n in rec.grads[1])


def test_backbone_learning_rate_group(backbone_dirs, images):
    X, y, _ = images
    clf = _fast(backbone=backbone_dirs["efficientnet"], pretrained=True, lr=1e-3, backbone_lr=1e-5)
    clf.fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    assert sorted(g["lr"] for g in groups) == [1e-5, 1e-3]
    backbone_group = next(g for g in groups if g["lr"] == 1e-5)
    assert len(backbone_group["params"]) == len(list(clf.module_.backbone.parameters()))


def test_balanced_class_weight_is_the_report_weighting(images):
    X, y, _ = images
    y = np.array(["anger"] * 12 + ["neutral"] * 8 + ["sadness"] * 4, dtype=object)
    n, counts = len(y), {"anger": 12, "neutral": 8, "sadness": 4}
    clf = _fast(backbone=_tiny_resnet_config(), pretrained=False, freeze=None).fit(X, y)
    weight = clf.net_.criterion_.weight.numpy()
    report = np.array([n / counts[c] for c in clf.classes_])  # W_j = N / n_j
    np.testing.assert_allclose(weight * len(counts), report, rtol=1e-6)
    # The weighted-mean loss does not see the constant factor.
    logits, target = torch.randn(10, 3), torch.randint(0, 3, (10,))
    as_report = torch.nn.functional.cross_entropy(logits, target, weight=torch.tensor(report).float())
    torch.testing.assert_close(clf.net_.criterion_(logits, target), as_report)


def test_random_backbone_from_named_architecture_and_bad_shapes(images):
    X, y, _ = images
    clf = _fast(backbone="resnet-18", pretrained=False, freeze=None).fit(X[:, :1], y)
    assert clf.image_shape_ == (1, 32, 32)
    assert clf.module_.backbone.config.num_channels == 1
    with pytest.raises(ValueError, match=r"fitted on images of shape \(C, H, W\) = \(1, 32, 32\)"):
        clf.predict(X)
    with pytest.raises(ValueError, match="too small"):
        _fast(backbone=_tiny_efficientnet_config(), pretrained=False).fit(X[:, :, :2, :2], y)
    with pytest.raises(ParameterError, match="unfreeze=9"):
        _fast(backbone=_tiny_resnet_config(), pretrained=False, unfreeze=9).fit(X, y)


def test_spec_augment_masks_training_images_only():
    module = SpectrogramCNN(backbone=_tiny_resnet_config(), pretrained=False)
    module.image_shape_ = (3, 16, 16)
    module.set_params(freq_mask_param=4, time_mask_param=4)
    torch.manual_seed(0)
    net = module._build_module(0, 0, 2)
    x = torch.ones(8, 3, 16, 16)
    masked = net._mask(x)
    assert (masked == 0).any() and (masked == 1).any()
    # The same cells are masked in every channel.
    torch.testing.assert_close(masked[:, 0], masked[:, 2])
    net.eval()
    torch.testing.assert_close(net(x), net(x))


def test_pickle_and_batched_equals_one_by_one(backbone_dirs, images):
    X, y, _ = images
    clf = _fast(backbone=backbone_dirs["efficientnet"], pretrained=True, freq_mask_param=4,
                max_epochs=2, n_frozen_epochs=1).fit(X, y)
    proba = clf.predict_proba(X)
    one_by_one = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(proba, one_by_one, rtol=1e-4, atol=1e-6)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-6)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_randomized_search_with_group_folds_and_roc_auc(images):
    X, y, groups = images
    search = RandomizedSearchCV(
        _fast(backbone=_tiny_resnet_config(), pretrained=False, freeze="backbone"),
        {"lr": loguniform(1e-4, 1e-2), "n_frozen_epochs": randint(0, 2)},
        n_iter=2,
        cv=GroupKFold(n_splits=2),
        scoring={"uar": get_scorers()["uar"], "roc_auc": roc_auc_ovr_scorer},
        refit="roc_auc",
        random_state=0,
    )
    search.fit(X, y, groups=groups)
    aucs = search.cv_results_["mean_test_roc_auc"]
    assert aucs.shape == (2,) and np.isfinite(aucs).all() and ((aucs >= 0) & (aucs <= 1)).all()
    assert set(search.best_params_) == {"lr", "n_frozen_epochs"}
    assert search.predict(X).shape == (24,)


def test_fine_tuning_callback_is_only_added_when_freezing():
    names = [n for n, _ in SpectrogramCNN(freeze=None)._callbacks(False)]
    assert "fine_tuning" not in names
    cbs = dict(SpectrogramCNN(n_frozen_epochs=3, unfreeze=2)._callbacks(False))
    assert isinstance(cbs["fine_tuning"], _FineTuning)
    assert (cbs["fine_tuning"].n_frozen_epochs, cbs["fine_tuning"].unfreeze) == (3, 2)


def test_unpickling_needs_neither_hub_nor_weights_folder(backbone_dirs, images, tmp_path):
    import shutil

    X, y, _ = images
    folder = tmp_path / "copy"
    shutil.copytree(backbone_dirs["resnet"], folder)
    clf = _fast(backbone=str(folder), pretrained=True).fit(X, y)
    blob = pickle.dumps(clf)
    shutil.rmtree(folder)
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    assert restored.backbone_config_["model_type"] == "resnet"


def test_stages_of_efficientnet_and_convnext(images):
    X, y, _ = images
    eff = _fast(backbone=_tiny_efficientnet_config(), pretrained=False, n_frozen_epochs=0,
                unfreeze=1).fit(X, y)
    stages = eff.module_.stages
    assert len(stages) == 8 and stages[0] == ["embeddings"]
    assert stages[-1][-2:] == ["encoder.top_conv", "encoder.top_bn"]
    n_blocks = len(eff.module_.backbone.encoder.blocks)
    assert sum(len(s) for s in stages[1:]) - 2 == n_blocks
    convnext = transformers.ConvNextConfig(hidden_sizes=[8, 16, 16, 32], depths=[1, 1, 1, 1])
    clf = _fast(backbone=convnext, pretrained=False, n_frozen_epochs=0, unfreeze=1).fit(X, y)
    trainable = {n for n, p in clf.module_.named_parameters() if p.requires_grad}
    assert trainable == {
        n for n, _ in clf.module_.named_parameters()
        if n.startswith(("head.", "backbone.encoder.stages.3.", "backbone.layernorm."))
    }


def test_pipeline_from_waveforms():
    from sklearn.pipeline import make_pipeline

    from skser.features import LogMel

    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    waves = [np.sin(2 * np.pi * f * t).astype(np.float32) + 0.01 * rng.standard_normal(8000).astype(np.float32)
             for f in (200, 200, 200, 2000, 2000, 2000)]
    y = np.array(["low"] * 3 + ["high"] * 3, dtype=object)
    pipe = make_pipeline(
        LogMel(n_mels=32),
        SpectrogramImage(size=(32, 32), channels="single"),
        _fast(backbone=_tiny_resnet_config(), pretrained=False, freeze=None, max_epochs=2),
    )
    pipe.fit(waves, y)
    assert pipe[-1].image_shape_ == (1, 32, 32)
    assert pipe.predict_proba(waves).shape == (6, 2)
