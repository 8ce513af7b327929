"""Unit tests of the network building blocks: losses, SpecAugment, schedules, modules."""

from __future__ import annotations

import copy
import itertools
import math
import pickle

import pytest
import torch
import torch.nn.functional as F

from skser.models import (
    CNN1DModule,
    CNN2DModule,
    FocalLoss,
    LightSERNetModule,
    SpecAugment,
    TIMNetModule,
    count_parameters,
    spec_augment,
)
from skser.models._masking import masked_mean_time, reverse_within_lengths
from skser.models._schedules import LightSERNetDecay, WarmupCosine


# ---------------------------------------------------------------- parameter counts
@pytest.mark.parametrize(
    "module, expected",
    [
        (lambda: LightSERNetModule(4), 462_468),
        (lambda: LightSERNetModule(7), 463_431),
        (lambda: TIMNetModule(39, 7, n_blocks=8), 106_992),
        (lambda: TIMNetModule(39, 6, n_blocks=8), 106_952),
        (lambda: TIMNetModule(39, 8, n_blocks=8), 107_032),
        (lambda: TIMNetModule(39, 4, n_blocks=10), 132_770),
        (lambda: CNN1DModule(162, 8), 557_288),
    ],
    ids=["lightsernet-4", "lightsernet-7", "timnet-7", "timnet-6", "timnet-8", "timnet-4-10", "cnn1d"],
)
def test_parameter_counts_match_reference(module, expected):
    # Reference convention: trainable + BN running mean/var (Keras "total params").
    assert count_parameters(module()) == expected


def test_parameter_count_bn_statistics():
    m = LightSERNetModule(4)
    assert count_parameters(m, bn_statistics=False) == 460_740  # trainable only
    assert sum(p.numel() for p in TIMNetModule(39, 7).parameters()) == 106_992 - 2_496


def test_cnn2d_reference_head_parameter_count():
    # §4.2 conv block + Linear(256, 8): 62,632 trainable parameters (+352 BN statistics).
    m = CNN2DModule(128, 8, n_frames=563, pooling="flatten")
    assert count_parameters(m, bn_statistics=False) == 62_632
    assert count_parameters(m) == 62_632 + 352
    assert m.classifier.in_features == 256
    # the mean-pooled head is independent of the number of frames: 64 * (128 / 128) inputs
    assert CNN2DModule(128, 8).classifier.in_features == 64


def test_cnn2d_flatten_rejects_too_short_input():
    with pytest.raises(ValueError, match="pooling='mean'"):
        CNN2DModule(40, 4, n_frames=60, pooling="flatten")


def test_lightsernet_shapes_follow_reference_table():
    m = LightSERNetModule(4).eval()
    shapes = []
    m.lflb[0].register_forward_hook(lambda mod, i, o: shapes.append(tuple(i[0].shape)))
    m.lflb[4].register_forward_hook(lambda mod, i, o: shapes.append(tuple(o.shape)))
    with torch.no_grad():
        out = m(torch.randn(2, 184, 40))
    assert out.shape == (2, 4)
    assert shapes == [(2, 96, 92, 20), (2, 320, 6, 5)]  # 3 s: concat 92x20x96, L5 6x5x320
    shapes.clear()
    with torch.no_grad():
        m(torch.randn(1, 434, 40))
    assert shapes == [(1, 96, 217, 20), (1, 320, 14, 5)]  # 7 s


def _lightsernet_reference(m: LightSERNetModule, x: torch.Tensor) -> torch.Tensor:
    """Eval-mode Light-SERNet written plainly: conv -> BN -> ReLU -> pool, no folding."""

    def conv_bn_relu(block, h):
        return F.relu(block.bn(block.conv(h)))

    xx = x.unsqueeze(1)
    h = torch.cat([conv_bn_relu(p, xx) for p in (m.path1, m.path2, m.path3)], dim=1)
    h = F.avg_pool2d(h, 2, 2, ceil_mode=True)
    for block, pool in zip(m.lflb, m.lflb_pools):
        h = conv_bn_relu(block, h)
        if pool is not None:
            h = F.avg_pool2d(h, pool, pool, ceil_mode=True)
    return m.classifier(h.mean(dim=(2, 3)))


def test_lightsernet_equals_plain_network_in_eval_and_train():
    m = LightSERNetModule(4)
    x = torch.randn(3, 50, 40)
    with torch.no_grad():
        for _ in range(3):
            m(x)  # move the BN running statistics away from their init
        m.eval()
        assert not torch.allclose(m.path1.bn.running_var, torch.ones(32))
        torch.testing.assert_close(m(x), _lightsernet_reference(m, x), atol=1e-5, rtol=1e-4)
        # training path (paths pooled before the concatenation, batch statistics)
        m.train()
        m.dropout.p = 0.0
        ref = _lightsernet_reference(copy.deepcopy(m), x)
        torch.testing.assert_close(m(x), ref, atol=1e-5, rtol=1e-4)


def test_cnn1d_same_pooling_lengths():
    m = CNN1DModule(162, 8)
    assert m.hidden.in_features == 11 * 64  # 162 -> 81 -> 41 -> 21 -> 11
    with torch.no_grad():
        assert m.eval()(torch.randn(3, 162)).shape == (3, 8)


def test_timnet_is_causal_forward():
    m = TIMNetModule(5, 3, n_blocks=3).eval()

    def forward_branch(x):  # time-major (B, T, C)
        h = x @ m.in_fwd.weight[..., 0].T + m.in_fwd.bias
        for tab in m.fwd:
            h = tab(h)
        return h

    x = torch.randn(1, 30, 5)
    x2 = x.clone()
    x2[:, 20:] = 7.0
    with torch.no_grad():
        f1, f2 = forward_branch(x), forward_branch(x2)
    torch.testing.assert_close(f1[:, :20], f2[:, :20])
    assert not torch.allclose(f1[:, 20:], f2[:, 20:])


def test_causal_conv_equals_padded_dilated_conv1d():
    from skser.models._timnet import _CausalConv1d

    for k, d in [(2, 1), (2, 8), (3, 2)]:
        conv = _CausalConv1d(6, k, d)
        x = torch.randn(2, 6, 40)
        ref = F.conv1d(F.pad(x, ((k - 1) * d, 0)), conv.weight, conv.bias, dilation=d)
        with torch.no_grad():
            out = conv(x.transpose(1, 2)).transpose(1, 2)
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- masking helpers
def test_reverse_within_lengths():
    x = torch.arange(10.0).reshape(2, 1, 5)
    out = reverse_within_lengths(x, torch.tensor([5, 3]))
    assert out[0, 0].tolist() == [4, 3, 2, 1, 0]
    assert out[1, 0].tolist() == [7, 6, 5, 8, 9]  # padding (8, 9) stays at the end


def test_masked_mean_time():
    x = torch.tensor([[[1.0, 2.0, 3.0, 100.0]]])
    assert masked_mean_time(x, torch.tensor([3])).item() == pytest.approx(2.0)
    assert masked_mean_time(x, None).item() == pytest.approx(26.5)


# ---------------------------------------------------------------- losses
def test_focal_gamma0_equals_cross_entropy():
    logits = torch.randn(16, 5)
    y = torch.randint(0, 5, (16,))
    w = torch.rand(5) + 0.5
    assert torch.equal(FocalLoss()(logits, y), F.cross_entropy(logits, y))
    torch.testing.assert_close(FocalLoss(weight=w)(logits, y), F.cross_entropy(logits, y, weight=w))
    # the general (focal) code path with gamma=0 gives the same numbers
    alpha1 = torch.ones(5)
    torch.testing.assert_close(
        FocalLoss(gamma=0.0, alpha=alpha1, weight=w)(logits, y), F.cross_entropy(logits, y, weight=w)
    )
    torch.testing.assert_close(
        FocalLoss(gamma=0.0, alpha=alpha1, label_smoothing=0.1)(logits, y),
        F.cross_entropy(logits, y, label_smoothing=0.1),
    )


def test_focal_loss_matches_definition():
    logits = torch.randn(8, 4)
    y = torch.randint(0, 4, (8,))
    p = torch.softmax(logits, 1)[torch.arange(8), y]
    expected = ((1 - p) ** 2 * -torch.log(p)).mean()  # Light-SERNet: gamma 2, no alpha
    torch.testing.assert_close(FocalLoss(gamma=2.0)(logits, y), expected)
    assert FocalLoss(gamma=2.0)(logits, y) < FocalLoss()(logits, y)


def test_class_weights_change_the_loss():
    logits = torch.randn(12, 3)
    y = torch.tensor([0] * 8 + [1] * 3 + [2])
    plain = FocalLoss()(logits, y)
    counts = torch.bincount(y).float()
    balanced = FocalLoss(weight=12 / (3 * counts))(logits, y)
    assert not torch.isclose(plain, balanced)
    per_sample = F.cross_entropy(logits, y, reduction="none")
    class_means = torch.stack([per_sample[y == c].mean() for c in range(3)])
    torch.testing.assert_close(balanced, class_means.mean())  # "balanced" = mean of class means


def test_loss_buffers_follow_the_module():
    loss = FocalLoss(weight=torch.ones(3), alpha=torch.ones(3))
    assert set(dict(loss.named_buffers())) == {"weight", "alpha"}
    loss = loss.to(torch.float64)
    assert loss.weight.dtype == torch.float64


# ---------------------------------------------------------------- SpecAugment
def test_spec_augment_masks_within_lengths():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(64, 50, 20)
    lengths = torch.randint(5, 51, (64,))
    out = spec_augment(x, lengths, time_mask_param=10, n_time_masks=2, generator=g)
    zero_frames = (out == 0).all(dim=2)
    assert zero_frames.any()
    t = torch.arange(50)[None, :]
    assert not (zero_frames & (t >= lengths[:, None])).any()  # masks never land on padding
    assert (zero_frames.sum(1) <= 20).all()
    out = spec_augment(x, None, freq_mask_param=6, n_freq_masks=1, generator=g)
    zero_bins = (out == 0).all(dim=1)
    assert zero_bins.any() and (zero_bins.sum(1) <= 6).all()
    assert torch.equal(x, torch.ones(64, 50, 20))  # input untouched


def test_spec_augment_module_only_in_training():
    aug = SpecAugment(freq_mask_param=8, time_mask_param=8)
    x = torch.ones(8, 40, 16)
    assert (aug.train()(x) == 0).any()
    assert torch.equal(aug.eval()(x), x)
    assert torch.equal(SpecAugment().train()(x), x)


# ---------------------------------------------------------------- schedules
def test_light_sernet_schedule_decays_at_60_80():
    f = LightSERNetDecay()
    factors = [f(e) for e in range(300)]
    assert factors[59] == 1.0
    assert factors[60] == pytest.approx(math.exp(-0.15))
    assert factors[79] == pytest.approx(math.exp(-0.15))
    assert factors[80] == pytest.approx(math.exp(-0.30))
    assert factors[299] == pytest.approx(math.exp(-0.15 * 12))  # 12 decays: 60..280
    assert 1e-4 * factors[299] == pytest.approx(1.65e-5, rel=0.01)


def test_warmup_cosine():
    f = WarmupCosine(total_epochs=20, warmup_epochs=4)
    vals = [f(e) for e in range(21)]
    assert vals[0] < vals[1] < vals[3] < vals[4] == pytest.approx(1.0)
    assert vals[20] == pytest.approx(0.0)
    assert all(a >= b for a, b in itertools.pairwise(vals[4:]))


def _timnet_with_trained_bn() -> TIMNetModule:
    m = TIMNetModule(6, 3, n_blocks=3, dropout=0.0)
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(4, 20, 6))  # move the BN running statistics away from their init
    return m.eval()


def test_timnet_merged_eval_path_equals_per_direction_network():
    m = _timnet_with_trained_bn()
    x = torch.randn(3, 20, 6)
    lengths = torch.tensor([20, 13, 5])
    x[1, 13:] = 0
    x[2, 5:] = 0
    with torch.no_grad():
        for lens in (None, lengths):
            torch.testing.assert_close(
                m(x, lens), m._forward_directions(x, lens), atol=1e-5, rtol=1e-4
            )


def test_timnet_merged_weights_follow_parameter_changes():
    m = _timnet_with_trained_bn()
    x = torch.randn(2, 16, 6)
    with torch.no_grad():
        before = m(x)
        m.bwd[2].bn2.running_mean.add_(0.5)  # in place, in eval mode
        after = m(x)
        assert not torch.allclose(before, after)
        torch.testing.assert_close(after, m._forward_directions(x, None), atol=1e-5, rtol=1e-4)
        other = _timnet_with_trained_bn()
        m.load_state_dict(other.state_dict(), assign=True)
        torch.testing.assert_close(m(x), other(x), atol=1e-6, rtol=1e-5)
    state = m.__getstate__()
    assert state["_merged"] is None and m._merged is not None  # never pickled
    restored = pickle.loads(pickle.dumps(m))
    with torch.no_grad():
        torch.testing.assert_close(restored(x), other(x), atol=1e-6, rtol=1e-5)


def test_timnet_eval_mode_with_autograd_trains_every_weight():
    m = _timnet_with_trained_bn()
    m(torch.randn(2, 16, 6)).sum().backward()  # eval mode, autograd on: per-direction path
    assert m.bwd[0].conv1.weight.grad is not None and m.fwd[2].bn2.weight.grad is not None


def test_lightsernet_inference_in_chunks_equals_one_utterance_at_a_time():
    from skser.models import _lightsernet

    torch.manual_seed(0)
    m = LightSERNetModule(5).eval()
    n = 2 * _lightsernet._EVAL_CHUNK + 3  # two full chunks and a remainder
    x = torch.randn(n, 24, 10)
    lengths = torch.randint(9, 25, (n,))
    x[torch.arange(24)[None, :] >= lengths[:, None]] = 0
    with torch.inference_mode():
        batched = m(x, lengths)
        alone = torch.cat([m(x[i : i + 1], lengths[i : i + 1]) for i in range(n)])
    assert batched.shape == (n, 5)
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "shape, kernel",
    [((3, 4, 8, 6), (2, 2)), ((2, 5, 12, 5), (2, 1)), ((2, 3, 7, 5), (2, 2))],
    ids=["tiles-2x2", "tiles-2x1", "edge-windows"],
)
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_avg_pool2d_same_equals_ceil_mode_pooling_and_its_gradient_bit_for_bit(shape, kernel, layout):
    from skser.models._masking import avg_pool2d_same

    torch.manual_seed(0)
    x = torch.randn(shape).contiguous(memory_format=layout)
    ours, ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, expected = avg_pool2d_same(ours, kernel), F.avg_pool2d(ref, kernel, kernel, ceil_mode=True)
    grad = torch.randn_like(out)
    out.backward(grad)
    expected.backward(grad)
    assert torch.equal(out, expected)
    assert torch.equal(ours.grad, ref.grad)
    assert ours.grad.is_contiguous(memory_format=layout)
