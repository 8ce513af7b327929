"""ONNX export of MFCC + neural classifier pipelines (waveform in, probabilities out)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

import skser
from skser.exceptions import ParameterError
from skser.export import to_onnx
from skser.features import MFCC, LogMel
from skser.models import LightSERNet, TIMNet

onnx = pytest.importorskip("onnx", reason="onnx not installed (pip install skser[export])")
ort = pytest.importorskip(
    "onnxruntime", reason="onnxruntime not installed (pip install skser[export])"
)


def _speechlike(sr: int, seconds: float, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(sr * seconds))) / sr
    return [
        ((0.5 + 0.5 * np.sin(2 * np.pi * (1 + k % 3) * t))
         * (0.2 * (1 + k % 2) * np.sin(2 * np.pi * (150 + 40 * k) * t)
            + 0.03 * rng.standard_normal(t.size))).astype(np.float32)
        for k in range(n)
    ]


def _run(path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"waveform": X})[0]


@pytest.mark.parametrize(
    "make, sr, seconds",
    [
        (lambda: make_pipeline(MFCC.light_sernet(duration=1.0),
                               LightSERNet(max_epochs=1, batch_size=4, random_state=0)),
         16000, 1.0),
        (lambda: make_pipeline(MFCC.timnet(duration=1.0),
                               TIMNet(max_epochs=1, batch_size=4, random_state=0)),
         22050, 1.0),
    ],
    ids=["light_sernet", "timnet"],
)
def test_onnx_graph_matches_pipeline(tmp_path, make, sr, seconds):
    X = _speechlike(sr, seconds, 8)
    y = np.array(["angry", "neutral", "sad", "happy"] * 2)
    pipe = make().fit(X, y)
    path = to_onnx(pipe, tmp_path / "model.onnx")

    got = _run(path, np.stack(X))
    expected = pipe.predict_proba(X)
    assert got.shape == (8, 4)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    # The batch axis is dynamic.
    np.testing.assert_allclose(_run(path, np.stack(X[:1])), expected[:1], rtol=0, atol=1e-4)

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["classes"]) == pipe.classes_.tolist()
    assert meta["skser_version"] == skser.__version__
    assert int(meta["sr"]) == sr
    assert int(meta["n_samples"]) == int(round(sr * seconds))
    assert not (tmp_path / "model.onnx.tmp").exists()


def test_unsupported_pipelines_raise_naming_the_step(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X = _speechlike(16000, 1.0, 4)
    y = np.array(["a", "b"] * 2)
    with pytest.raises(ParameterError, match="'logmel'"):
        to_onnx(make_pipeline(LogMel(duration=1.0), LightSERNet()), tmp_path / "m.onnx")
    with pytest.raises(ParameterError, match="'logisticregression'"):
        to_onnx(make_pipeline(MFCC(duration=1.0), LogisticRegression()), tmp_path / "m.onnx")
    with pytest.raises(ParameterError, match="exactly two steps"):
        to_onnx(make_pipeline(LightSERNet()), tmp_path / "m.onnx")
    with pytest.raises(ParameterError, match="Pipeline"):
        to_onnx(LightSERNet(), tmp_path / "m.onnx")
    pipe = make_pipeline(MFCC.light_sernet(duration=None), LightSERNet(max_epochs=1))
    pipe.fit(X, y)
    with pytest.raises(ParameterError, match="duration"):
        to_onnx(pipe, tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())
