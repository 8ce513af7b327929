"""Export of a fitted waveform-to-emotion pipeline as one ONNX graph.

:func:`to_onnx` writes a graph from waveform (float32, ``(batch, samples)`` at
the front end's sampling rate) to class probabilities, with the MFCC front
end inside it (as Light-SERNet's TFLite export does), so a deployment needs
only an ONNX runtime. Needs the ``export`` extra (``onnx``; ``onnxruntime`` to
run the graph): ``pip install skser[export]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import json
import os
import warnings
from typing import Any

from sklearn.pipeline import Pipeline

from ._atomic import atomic_path
from .exceptions import ParameterError

__all__ = ["to_onnx"]

#: Classifiers whose module maps (batch, n_frames, n_features) MFCC frames to logits.
SUPPORTED_CLASSIFIERS = ("LightSERNet", "TIMNet")

#: ONNX opset of the written graph.
OPSET = 17


def _check_pipeline(pipeline: Any) -> tuple[Any, Any]:
    """The (MFCC, classifier) steps of a supported pipeline, or ParameterError."""
    from .features import MFCC

    if not isinstance(pipeline, Pipeline):
        raise ParameterError(
            f"to_onnx needs a fitted sklearn Pipeline (e.g. make_pipeline("
            f"MFCC.light_sernet(), LightSERNet())); got {type(pipeline).__name__}."
        )
    steps = [(name, est) for name, est in pipeline.steps if est not in (None, "passthrough")]
    if len(steps) != 2:
        raise ParameterError(
            f"to_onnx exports pipelines of exactly two steps, MFCC then one of "
            f"{', '.join(SUPPORTED_CLASSIFIERS)}; got steps {[n for n, _ in steps]}."
        )
    (front_name, front), (clf_name, clf) = steps
    if type(front) is not MFCC:
        raise ParameterError(
            f"to_onnx: step {front_name!r} is a {type(front).__name__}; only an MFCC "
            "front end can be put in the graph."
        )
    if type(clf).__name__ not in SUPPORTED_CLASSIFIERS:
        raise ParameterError(
            f"to_onnx: step {clf_name!r} is a {type(clf).__name__}; supported "
            f"classifiers: {', '.join(SUPPORTED_CLASSIFIERS)}."
        )
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(clf)
    return front, clf


def _graph_module(front: Any, clf: Any):
    """A torch module waveform (batch, samples) -> probabilities (batch, n_classes)."""
    import torch
    from torch import nn

    from .features import MFCCModule

    try:
        frontend = MFCCModule.from_transformer(front)
    except ParameterError as exc:
        raise ParameterError(f"to_onnx: the MFCC step cannot go into the graph: {exc}") from exc
    clf._check_module_input(frontend.dct_basis.shape[1] * (1 + frontend.deltas),
                            frontend.n_frames)

    class WaveformToProba(nn.Module):
        def __init__(self):
            super().__init__()
            self.frontend = frontend
            self.classifier = clf.module_

        def forward(self, waveform: torch.Tensor) -> torch.Tensor:
            logits = self.classifier(self.frontend(waveform))
            return torch.softmax(logits, dim=1)

    module = WaveformToProba().cpu().eval()
    return module, frontend


def to_onnx(pipeline: Any, path: str | os.PathLike) -> str:
    """Write a fitted MFCC + neural classifier pipeline as one ONNX graph.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted ``make_pipeline(MFCC(...), clf)`` where the MFCC has a fixed
        length (``duration`` or ``n_frames``; e.g. ``MFCC.light_sernet()``) and
        ``clf`` is a :class:`~skser.models.LightSERNet` or
        :class:`~skser.models.TIMNet`.
    path : str or os.PathLike
        Output ``.onnx`` file (written whole, or not at all).

    Returns
    -------
    path : str

    Raises
    ------
    ParameterError
        For any other pipeline, naming the step that cannot be exported.

    Notes
    -----
    The graph has one input ``waveform`` (float32, ``(batch, n_samples)``,
    audio at ``metadata["sr"]``, exactly ``metadata["n_samples"]`` samples
    per row: centre-crop or centre-zero-pad clips to that length first; the
    batch axis is dynamic) and one output
    ``probabilities`` (float32, ``(batch, n_classes)``, columns in the order
    of ``metadata["classes"]``, a JSON list). ``metadata_props`` also hold
    ``skser_version`` and ``mfcc_params`` (JSON).
    """
    front, clf = _check_pipeline(pipeline)
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_onnx needs the onnx package: pip install 'skser[export]'."
        ) from exc
    import torch

    from . import __version__

    module, frontend = _graph_module(front, clf)
    dummy = torch.zeros(2, frontend.target_samples)
    path = os.fspath(path)
    with atomic_path(path, suffix=".onnx") as tmp_path:
        tmp = os.fspath(tmp_path)
        with torch.no_grad(), warnings.catch_warnings():
            # Shape arithmetic is traced as constants: the length is fixed by design.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*return_complex=False.*")
            # The TorchScript exporter is deprecated in torch >= 2.9; the
            # torch.export-based one needs onnxscript (not a dependency yet).
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    module=r"torch\.onnx.*|skser\.export")
            torch.onnx.export(
                module, (dummy,), tmp, dynamo=False, opset_version=OPSET,
                input_names=["waveform"], output_names=["probabilities"],
                dynamic_axes={"waveform": {0: "batch"}, "probabilities": {0: "batch"}},
            )
        model = onnx.load(tmp)
        metadata = {
            "classes": json.dumps([_jsonable(c) for c in clf.classes_]),
            "skser_version": __version__,
            "sr": str(frontend.sr),
            "n_samples": str(frontend.target_samples),
            "mfcc_params": json.dumps({k: _jsonable(v) for k, v in front.get_params().items()
                                       if k not in ("n_jobs", "verbose", "memory")}),
        }
        onnx.helper.set_model_props(model, metadata)
        onnx.save(model, tmp)
    return path


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
