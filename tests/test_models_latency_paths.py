"""Inference fast paths of the networks and the ``n_threads`` parameter."""

# SPDX-License-Identifier: BSD-3-Clause

import inspect
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skser import models
from skser.models import _lightsernet
from skser.models._lightsernet import LightSERNetModule, _ConvBN

NEURAL_CLASSIFIERS = [
    models.SERNet,
    models.FusionNet,
    models.SpeechEncoderClassifier,
    models.SpectrogramCNN,
    models.LightSERNet,
    models.TIMNet,
    models.CNN1D,
    models.CNN2D,
]


def _module(n_classes: int = 4) -> LightSERNetModule:
    """A Light-SERNet module with non-trivial batch-norm statistics, in eval mode."""
    torch.manual_seed(0)
    module = LightSERNetModule(n_classes)
    with torch.no_grad():
        for block in module._blocks():
            bn = block.bn
            bn.running_mean.normal_(0.0, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.1)
    return module.eval()


def _unfused_logits(module, x, lengths=None):
    """Eval logits with conv -> batch norm -> ReLU as separate operations (no folding)."""

    def unfused(self, h, mask=None, folded=None):
        return F.relu(self.bn(self.conv(h)))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_ConvBN, "forward", unfused)
        with torch.inference_mode():
            return module(x, lengths)


def _fast_logits(module, x, lengths=None):
    with torch.inference_mode():
        return module(x, lengths)


@pytest.mark.parametrize("batch", [1, 3])
def test_lightsernet_fast_eval_equals_unfused(batch):
    module = _module()
    x = torch.randn(batch, 37, 40)
    lengths = None
    if batch > 1:
        lengths = torch.tensor([37, 20, 9])
        x[1, 20:] = 0
        x[2, 9:] = 0
    expected = _unfused_logits(module, x, lengths)
    got = _fast_logits(module, x, lengths)
    assert module._folded_cache is not None
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_lightsernet_fast_eval_equals_previous_path(monkeypatch):
    module = _module()
    x = torch.randn(2, 50, 40)
    fast = _fast_logits(module, x)
    monkeypatch.setattr(_lightsernet, "_FAST_EVAL", False)
    module.eval()  # drops the cache
    previous = _fast_logits(module, x)
    assert module._folded_cache is None  # the previous path folds on every call
    torch.testing.assert_close(fast, previous, rtol=1e-5, atol=1e-5)


def test_lightsernet_onednn_path_is_taken_for_kxk_layers(monkeypatch):
    if _lightsernet._ONEDNN_CONV is None or not torch.backends.mkldnn.is_available():
        pytest.skip("this torch build has no oneDNN convolution")
    calls = []
    real = _lightsernet._ONEDNN_CONV

    def spy(x, weight, *args):
        calls.append(tuple(weight.shape[2:]))
        return real(x, weight, *args)

    monkeypatch.setattr(_lightsernet, "_ONEDNN_CONV", spy)
    _fast_logits(_module(), torch.randn(1, 40, 40))
    # 3 input paths + 4 LFLB 3x3 layers; the 1x1 layer stays on PyTorch's dispatch
    assert len(calls) == 7
    assert (1, 1) not in calls


def test_lightsernet_without_onednn_falls_back(monkeypatch):
    module = _module()
    x = torch.randn(1, 40, 40)
    expected = _unfused_logits(module, x)
    monkeypatch.setattr(_lightsernet, "_ONEDNN_CONV", None)
    torch.testing.assert_close(_fast_logits(module, x), expected, rtol=1e-5, atol=1e-5)


def test_lightsernet_cache_is_reused_while_parameters_hold():
    module = _module()
    x = torch.randn(1, 40, 40)
    _fast_logits(module, x)
    cached = module._folded_cache[2]
    _fast_logits(module, x)
    assert module._folded_cache[2] is cached


def test_lightsernet_cache_follows_in_place_parameter_updates():
    module = _module()
    x = torch.randn(2, 40, 40)
    before = _fast_logits(module, x)
    with torch.no_grad():
        module.lflb[2].conv.weight.mul_(1.5)
        module.path1.bn.running_var.mul_(2.0)
    after = _fast_logits(module, x)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, _unfused_logits(module, x), rtol=1e-5, atol=1e-5)


def test_lightsernet_cache_follows_an_optimizer_step():
    module = _module()
    x = torch.randn(4, 40, 40)
    before = _fast_logits(module, x)
    module.train()
    assert module._folded_cache is None
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    F.cross_entropy(module(x), torch.tensor([0, 1, 2, 3])).backward()
    optimizer.step()
    module.eval()
    after = _fast_logits(module, x)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, _unfused_logits(module, x), rtol=1e-5, atol=1e-5)


def test_lightsernet_cache_follows_load_state_dict():
    module, other = _module(), _module()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x = torch.randn(1, 40, 40)
    _fast_logits(module, x)
    module.load_state_dict(other.state_dict())
    assert module._folded_cache is None
    torch.testing.assert_close(
        _fast_logits(module, x), _fast_logits(other, x), rtol=1e-5, atol=1e-5
    )


def test_lightsernet_eval_with_autograd_keeps_gradients():
    module = _module()
    x = torch.randn(1, 40, 40, requires_grad=True)
    module(x).sum().backward()
    assert module._folded_cache is None  # no detached cache on the autograd path
    assert x.grad is not None and module.path1.conv.weight.grad is not None


def test_lightsernet_cache_is_not_pickled():
    module = _module()
    x = torch.randn(1, 40, 40)
    expected = _fast_logits(module, x)
    clone = pickle.loads(pickle.dumps(module))
    assert clone._folded_cache is None
    torch.testing.assert_close(_fast_logits(clone, x), expected)


# ------------------------------------------------------------------- n_threads


@pytest.mark.parametrize("cls", NEURAL_CLASSIFIERS, ids=lambda c: c.__name__)
def test_every_neural_classifier_takes_n_threads(cls):
    assert inspect.signature(cls.__init__).parameters["n_threads"].default is None
    assert cls(n_threads=2).get_params()["n_threads"] == 2


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 24, 40)).astype(np.float32)
    y = np.array(["ang", "sad"] * 4)
    return X, y


def test_n_threads_is_applied_and_restored(monkeypatch):
    X, y = _data()
    torch.set_num_threads(2)  # the autouse fixture restores the suite's setting afterwards
    seen = []
    real = torch.set_num_threads

    def spy(n):
        seen.append(n)
        real(n)

    monkeypatch.setattr(torch, "set_num_threads", spy)
    clf = models.LightSERNet(max_epochs=1, random_state=0, n_threads=1)
    clf.fit(X, y)
    assert seen == [1, 2]
    assert torch.get_num_threads() == 2
    clf.predict_proba(X[:2])
    assert seen == [1, 2, 1, 2]
    assert torch.get_num_threads() == 2


def test_n_threads_none_leaves_torch_alone(monkeypatch):
    X, y = _data()
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    models.LightSERNet(max_epochs=1, random_state=0).fit(X, y).predict(X[:1])
    assert calls == []


def test_n_threads_restored_when_fit_fails():
    X, y = _data()
    torch.set_num_threads(2)
    clf = models.LightSERNet(max_epochs=1, n_threads=1)
    with pytest.raises(ValueError):
        clf.fit(X, y[:-1])
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_bad_n_threads_is_rejected(bad):
    X, y = _data()
    with pytest.raises(ValueError, match="n_threads"):
        models.LightSERNet(max_epochs=1, n_threads=bad).fit(X, y)
