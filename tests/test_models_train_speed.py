"""The training speed-ups keep the numbers: fused Adam, channels-first TIM-Net, the retained heap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skser.models import LightSERNet, TIMNet, _base, _heap


def _data(n=24, n_frames=20, n_features=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_frames, n_features)).astype(np.float32)
    X[::3, 14:] = np.nan  # padded rows: the masked batch-norm paths run too
    y = np.array(["a", "b", "c"] * (n // 3))
    return X, y


def _proba(model, X, y):
    return model.fit(X, y).predict_proba(X)


# Light-SERNet is covered by the step test below only: its first-layer convolutions have
# biases right before batch norm, whose gradients are rounding noise that Adam's normalised
# step turns into lr-sized moves, so any change of float rounding (fused or not) moves its
# eval-mode running means by about 1e-3 after a few steps.
@pytest.mark.parametrize(
    "make",
    [lambda: TIMNet(n_blocks=3, max_epochs=2, batch_size=8, random_state=0, device="cpu")],
    ids=["timnet"],
)
def test_fused_adam_trains_like_the_per_tensor_loop(make, monkeypatch):
    X, y = _data()
    fused = make()
    p_fused = _proba(fused, X, y)
    assert fused.net_.optimizer_.defaults["fused"] is True
    monkeypatch.setattr(_base, "FUSED_CPU_ADAM", False)
    loop = make()
    p_loop = _proba(loop, X, y)
    assert not loop.net_.optimizer_.defaults.get("fused")
    np.testing.assert_allclose(p_fused, p_loop, rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        fused.history_[:, "train_loss"], loop.history_[:, "train_loss"], rtol=1e-4
    )


def test_fused_adam_step_equals_the_loop_on_the_same_gradients():
    model = LightSERNet()  # two parameter groups (L2 on the LFLB kernels)
    torch.manual_seed(0)
    params = [torch.randn(5, 3, requires_grad=True), torch.randn(7, requires_grad=True)]
    copies = [p.detach().clone().requires_grad_() for p in params]
    kw = {k.split("__")[1]: v for k, v in model._optimizer_kwargs("cpu").items()}
    kw.pop("param_groups")
    fused = torch.optim.Adam(params, lr=1e-3, **kw)
    kw.pop("fused")
    loop = torch.optim.Adam(copies, lr=1e-3, **kw)
    for _ in range(5):
        for p, q in zip(params, copies):
            g = torch.randn_like(p)
            p.grad, q.grad = g.clone(), g.clone()
        fused.step()
        loop.step()
    for p, q in zip(params, copies):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_fused_adam_only_for_adam_on_cpu():
    model = TIMNet(optimizer="sgd")
    assert "optimizer__fused" not in model._optimizer_kwargs("cpu")
    model = TIMNet()
    assert model._optimizer_kwargs("cpu")["optimizer__fused"] is True
    assert "optimizer__fused" not in model._optimizer_kwargs("cuda:0")


def _timnet_grads(module, x, lengths, y, seed):
    torch.manual_seed(seed)  # the same dropout draws on every path
    out = module(x, lengths)
    loss = torch.nn.functional.cross_entropy(out, y, label_smoothing=0.1)
    names = [n for n, _ in module.named_parameters()]
    grads = torch.autograd.grad(loss, list(module.parameters()))
    return out.detach(), dict(zip(names, grads))


@pytest.mark.parametrize("padded", [False, True])
def test_timnet_channels_first_training_matches_time_major(padded, monkeypatch):
    from skser.models import _timnet

    torch.manual_seed(0)
    module = _timnet.TIMNetModule(6, 3, n_blocks=4, dropout=0.2).train()
    x = torch.randn(5, 40, 6)
    lengths = torch.tensor([40, 31, 40, 12, 25]) if padded else None
    if padded:
        x[torch.arange(40)[None, :] >= lengths[:, None]] = 0.0
    y = torch.tensor([0, 1, 2, 1, 0])
    reference = _timnet.TIMNetModule(6, 3, n_blocks=4, dropout=0.2).double().train()
    reference.load_state_dict(module.state_dict())

    initial = {k: v.clone() for k, v in module.state_dict().items()}
    out_cf, grads_cf = _timnet_grads(module, x, lengths, y, seed=1)
    stats_cf = {k: v.clone() for k, v in module.state_dict().items() if "running" in k}
    monkeypatch.setattr(_timnet, "_CHANNELS_FIRST_TRAINING", False)
    module.load_state_dict(initial)  # running statistics and batch counts as before the cf pass
    out_tm, grads_tm = _timnet_grads(module, x, lengths, y, seed=1)
    stats_tm = {k: v.clone() for k, v in module.state_dict().items() if "running" in k}
    out_64, grads_64 = _timnet_grads(reference, x.double(), lengths, y, seed=1)

    torch.testing.assert_close(out_cf, out_tm, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out_cf.double(), out_64, rtol=1e-5, atol=1e-6)
    for k in stats_cf:  # the batch-norm running statistics move the same way
        torch.testing.assert_close(stats_cf[k], stats_tm[k], rtol=1e-5, atol=1e-7)
    for name, g64 in grads_64.items():
        if name.endswith(("conv1.bias", "conv2.bias")):
            continue  # followed by batch norm: the true gradient is 0, both paths give rounding noise
        scale = g64.abs().max().item() + 1e-12
        err_cf = (grads_cf[name].double() - g64).abs().max().item() / scale
        err_tm = (grads_tm[name].double() - g64).abs().max().item() / scale
        assert err_cf < 1e-3, (name, err_cf)
        assert err_cf <= max(err_tm, 1e-5), (name, err_cf, err_tm)


def test_timnet_fit_with_channels_first_training_matches_time_major(monkeypatch):
    from skser.models import _timnet

    X, y = _data()

    def make():
        return TIMNet(n_blocks=3, max_epochs=2, batch_size=8, random_state=0, device="cpu")

    p_cf = _proba(make(), X, y)
    monkeypatch.setattr(_timnet, "_CHANNELS_FIRST_TRAINING", False)
    p_tm = _proba(make(), X, y)
    np.testing.assert_allclose(p_cf, p_tm, rtol=0, atol=1e-5)


class _FakeLibc:
    """Records the mallopt / malloc_trim calls :func:`retained_heap` makes."""

    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


_SET = [
    ("mallopt", _heap._M_MMAP_THRESHOLD, 32 * 1024 * 1024),
    ("mallopt", _heap._M_TRIM_THRESHOLD, 2**31 - 1),
]
_RELEASE = [("mallopt", _heap._M_TRIM_THRESHOLD, 64 * 1024 * 1024), ("malloc_trim", 0)]


@pytest.fixture
def fake_libc(monkeypatch):
    fake = _FakeLibc()
    monkeypatch.setattr(_heap, "_LIBC", fake)
    for name in (_heap.ENV_VAR, "LD_PRELOAD", "GLIBC_TUNABLES", *_heap._USER_MALLOC_ENV):
        monkeypatch.delenv(name, raising=False)
    return fake


def test_retained_heap_sets_and_releases(fake_libc):
    with _heap.retained_heap():
        assert fake_libc.calls == _SET
    assert fake_libc.calls == _SET + _RELEASE


def test_retained_heap_nested_releases_once_at_the_outermost_exit(fake_libc):
    with _heap.retained_heap():
        with _heap.retained_heap():
            pass
        assert fake_libc.calls == _SET  # the outer block is still training
    assert fake_libc.calls == _SET + _RELEASE


@pytest.mark.parametrize(
    "name, value",
    [
        (_heap.ENV_VAR, "0"),
        (_heap.ENV_VAR, "off"),
        ("MALLOC_TRIM_THRESHOLD_", "1000000"),
        ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536"),
        ("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"),
    ],
)
def test_retained_heap_leaves_user_settings_alone(fake_libc, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert not _heap.heap_tuning_active()
    with _heap.retained_heap():
        pass
    assert fake_libc.calls == []


def test_fit_releases_the_heap_when_training_raises(fake_libc, monkeypatch):
    class Boom(RuntimeError):
        pass

    def explode(*args, **kwargs):
        raise Boom

    X, y = _data()
    model = TIMNet(n_blocks=2, max_epochs=1, batch_size=8, random_state=0, device="cpu")
    monkeypatch.setattr(torch.optim.Adam, "step", explode)
    with pytest.raises(Boom):
        model.fit(X, y)
    assert fake_libc.calls == _SET + _RELEASE
    assert not hasattr(model, "net_")


def test_retained_heap_does_not_change_training(monkeypatch):
    if _heap._LIBC is None:
        pytest.skip("not glibc: retained_heap does nothing here")
    for name in ("LD_PRELOAD", "GLIBC_TUNABLES", *_heap._USER_MALLOC_ENV):
        monkeypatch.delenv(name, raising=False)
    X, y = _data()

    def make():
        return TIMNet(n_blocks=2, max_epochs=2, batch_size=8, random_state=0, device="cpu")

    monkeypatch.setenv(_heap.ENV_VAR, "1")
    assert _heap.heap_tuning_active()
    p_on = _proba(make(), X, y)
    monkeypatch.setenv(_heap.ENV_VAR, "0")
    p_off = _proba(make(), X, y)
    np.testing.assert_array_equal(p_on, p_off)
