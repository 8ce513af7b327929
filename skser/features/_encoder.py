"""Pretrained self-supervised speech encoders (wav2vec2, HuBERT, WavLM, data2vec, Whisper) as transformers.

The encoder is loaded with :mod:`transformers` on first use, once per process,
and kept in a module-level cache keyed by model, device and dtype; the
estimator itself holds only its parameters, so pickling or cloning it never
copies the weights (a process that unpickles it reloads them from the path
or the Hugging Face cache).

torch and transformers are imported only when an encoder is loaded.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import os
import socket
import threading
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any
from urllib.parse import urlparse

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from .._audio import as_audio_items, prepare_waveform
from .._cache import MEMORY_CONSTRAINT, cache_token
from .._parallel import map_rows
from ..exceptions import AudioInputError, EncoderUnavailableError, ParameterError
from ._base import BaseAudioTransformer

__all__ = [
    "SpeechEncoder",
    "Wav2Vec2Embedder",
    "clear_encoder_cache",
    "encoder_inputs",
    "hidden_states",
    "load_encoder",
    "normalize_waveform",
]

#: Items decoded and held in memory at a time by ``transform``.
_BLOCK_SIZE = 256
#: Seconds to wait for the Hugging Face Hub before calling it unreachable.
_PROBE_TIMEOUT = 3.0

_CACHE: dict[tuple, "LoadedEncoder"] = {}
_CACHE_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- loading
@dataclass
class LoadedEncoder:
    """A loaded encoder and what ``SpeechEncoder`` needs to know about it.

    Attributes
    ----------
    model : torch.nn.Module
        The encoder in eval mode (for Whisper, the encoder half of the model).
    feature_extractor : transformers.FeatureExtractionMixin
    kind : {"waveform", "whisper"}
        ``"waveform"``: the model reads normalised samples (``input_values``);
        ``"whisper"``: 30 s log-mel windows (``input_features``).
    pad_batching : bool
        Whether utterances of different lengths can share a batch (padding
        with an attention mask) without changing any result.
    stride : int
        Audio samples per output frame.
    receptive_field : int
        Samples that the first output frame depends on (shortest valid input).
    max_samples : int or None
        Longest input the model takes in one pass (Whisper's window).
    n_hidden_states : int
        Hidden states returned (the input embedding plus one per layer).
    hidden_size : int
    sampling_rate : int
    device, dtype : str, torch.dtype
    fingerprint : tuple
        Identifies the weights (local files' sizes and times, or the Hub commit).
    """

    model: Any
    feature_extractor: Any
    kind: str
    pad_batching: bool
    stride: int
    receptive_field: int
    max_samples: int | None
    n_hidden_states: int
    hidden_size: int
    sampling_rate: int
    device: str
    dtype: Any
    fingerprint: tuple
    conv: tuple = field(default=())

    def output_lengths(self, n_samples: np.ndarray) -> np.ndarray:
        """Output frames of inputs of ``n_samples`` samples (wav2vec2-family conv stack)."""
        lengths = np.asarray(n_samples, dtype=np.int64)
        for kernel, stride in self.conv:
            lengths = (lengths - kernel) // stride + 1
        return lengths


def _offline() -> bool:
    import huggingface_hub.constants as hub

    flags = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return bool(hub.HF_HUB_OFFLINE) or any(
        f is not None and f.strip().upper() in {"1", "ON", "YES", "TRUE"} for f in flags
    )


def _hub_reachable() -> bool:
    """Whether a TCP connection to the Hub endpoint opens within a few seconds."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy: let huggingface_hub try
    import huggingface_hub.constants as hub

    url = urlparse(hub.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=_PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def _unavailable(model: str, why: str) -> EncoderUnavailableError:
    name = model.rstrip("/").split("/")[-1] or "encoder"
    return EncoderUnavailableError(
        f"Cannot load the speech encoder {model!r}: {why}. On a machine with internet "
        f"access run `huggingface-cli download {model} --local-dir {name}` (or "
        f"`hf download {model} --local-dir {name}`), copy the folder here and pass its "
        f"path: SpeechEncoder(model='path/to/{name}'). A folder written by "
        "`model.save_pretrained(dir)` and `feature_extractor.save_pretrained(dir)` works too."
    )


def _looks_like_path(model: str) -> bool:
    return (
        model.startswith((".", "~", os.sep))
        or (os.altsep is not None and os.altsep in model)
        or model.count("/") > 1
        or os.path.splitdrive(model)[0] != ""
    )


def _from_pretrained(model: str) -> tuple[Any, Any]:
    """``(model, feature extractor)`` loaded by path, from the Hugging Face cache or the Hub."""
    from transformers import AutoFeatureExtractor, AutoModel
    from transformers.utils import logging as hf_logging

    def load(**kw):
        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            return AutoModel.from_pretrained(model, **kw), AutoFeatureExtractor.from_pretrained(model, **kw)
        finally:
            if bar:
                hf_logging.enable_progress_bar()

    if os.path.isdir(model):
        try:
            return load()
        except (OSError, ValueError, KeyError) as exc:
            raise _unavailable(
                model, f"the folder exists but does not hold a transformers audio model and "
                f"its feature extractor ({exc})"
            ) from exc
    if _looks_like_path(model):
        raise EncoderUnavailableError(
            f"Cannot load the speech encoder {model!r}: there is no such folder (relative "
            f"paths are taken from {os.getcwd()!r}). Pass the folder written by "
            "`huggingface-cli download <model id> --local-dir <folder>` or by "
            "`save_pretrained`, or a Hugging Face Hub id such as 'facebook/wav2vec2-base'."
        )
    try:
        return load(local_files_only=True)
    except OSError as exc:
        cached_error = exc
    if _offline():
        raise _unavailable(model, "it is not in the Hugging Face cache and HF_HUB_OFFLINE is set")
    if not _hub_reachable():
        raise _unavailable(
            model, "it is not in the Hugging Face cache and the Hub cannot be reached "
            "from this machine"
        ) from cached_error
    try:
        return load()
    except OSError as exc:
        raise _unavailable(model, f"the Hub did not deliver it ({exc})") from exc


def _fingerprint(model: str, config: Any) -> tuple:
    if os.path.isdir(model):
        stamps = []
        for entry in sorted(os.scandir(model), key=lambda e: e.name):
            if entry.is_file():
                st = entry.stat()
                stamps.append((entry.name, st.st_size, st.st_mtime_ns))
        return (os.path.abspath(model), tuple(stamps))
    return (model, getattr(config, "_commit_hash", None))


def load_encoder(model: str | os.PathLike, device: str = "cpu", fp16: bool = False) -> LoadedEncoder:
    """Load (once per process) a speech encoder and its feature extractor.

    Parameters
    ----------
    model : str or os.PathLike
        Hugging Face Hub id (used from the local cache when present) or a
        local folder holding ``config.json``, the weights and
        ``preprocessor_config.json``.
    device : str, default="cpu"
        Torch device, already resolved (no ``"auto"``).
    fp16 : bool, default=False
        Half-precision weights (use on CUDA only).

    Returns
    -------
    encoder : LoadedEncoder

    Raises
    ------
    skser.exceptions.EncoderUnavailableError
        When the model is neither a usable local folder nor cached and the Hub
        is offline or unreachable (raised within a few seconds), with the
        commands to get it.
    """
    import torch

    model = os.fspath(model)
    dtype = torch.float16 if fp16 else torch.float32
    key = (os.path.abspath(model) if os.path.isdir(model) else model, device, str(dtype))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        net, fe = _from_pretrained(model)
        encoder = _describe(model, net, fe, device, dtype)
        _CACHE[key] = encoder
        return encoder


def clear_encoder_cache() -> None:
    """Forget every loaded encoder (the next use loads it again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _describe(model: str, net: Any, fe: Any, device: str, dtype: Any) -> LoadedEncoder:
    config = net.config
    input_name = fe.model_input_names[0]
    if config.model_type == "whisper":
        if hasattr(net, "get_encoder"):
            net = net.get_encoder()
        kind = "whisper"
        stride = int(fe.hop_length) * 2  # log-mel hop, then the stride-2 second convolution
        receptive_field = int(fe.n_fft)
        max_samples = int(fe.n_samples)
        conv: tuple = ()
        pad_batching = True  # every input is padded to the 30 s window anyway
        n_hidden = int(config.encoder_layers) + 1
        hidden = int(config.d_model)
    elif input_name == "input_values" and hasattr(config, "conv_stride"):
        kind = "waveform"
        conv = tuple(zip(config.conv_kernel, config.conv_stride))
        stride = int(np.prod(config.conv_stride))
        receptive_field = 1
        for kernel, s in reversed(conv):
            receptive_field = (receptive_field - 1) * s + kernel
        max_samples = None
        # Group norm in the first convolution normalises over all time steps: padding
        # would change every frame. Layer norm is per frame and masks are honoured.
        pad_batching = getattr(config, "feat_extract_norm", "layer") == "layer" and bool(
            getattr(fe, "return_attention_mask", False)
        )
        n_hidden = int(config.num_hidden_layers) + 1
        hidden = int(config.hidden_size)
    else:
        raise _unavailable(
            model, f"{type(net).__name__} (model_type {config.model_type!r}, input "
            f"{input_name!r}) is not a supported speech encoder; use a wav2vec2, HuBERT, "
            "WavLM, data2vec-audio or Whisper checkpoint"
        )
    net = net.to(device=device, dtype=dtype).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    encoder = LoadedEncoder(
        model=net,
        feature_extractor=fe,
        kind=kind,
        pad_batching=pad_batching,
        stride=stride,
        receptive_field=receptive_field,
        max_samples=max_samples,
        n_hidden_states=n_hidden,
        hidden_size=hidden,
        sampling_rate=int(fe.sampling_rate),
        device=device,
        dtype=dtype,
        fingerprint=_fingerprint(model, config),
        conv=conv,
    )
    if kind == "waveform" and pad_batching:
        encoder.pad_batching = _padding_is_invisible(encoder)
    return encoder


def _padding_is_invisible(encoder: LoadedEncoder) -> bool:
    """Whether a padded, masked batch gives each utterance its unpadded result.

    Checked once at load on two random utterances: some encoders whose front end
    is per frame still leak padding (data2vec-audio's stacked positional
    convolutions see the padded frames).
    """
    import torch

    rng = np.random.default_rng(0)
    n = 16 * encoder.stride
    waves = [rng.standard_normal(n).astype(np.float32), rng.standard_normal(n // 2).astype(np.float32)]
    with torch.inference_mode():
        inputs, n_frames = encoder_inputs(encoder, waves)
        batched = encoder.model(**inputs).last_hidden_state[1, : n_frames[1]].float()
        single_inputs, _ = encoder_inputs(encoder, waves[1:])
        single = encoder.model(**single_inputs).last_hidden_state[0].float()
    tol = 1e-2 if encoder.dtype == torch.float16 else 1e-4
    return bool(torch.allclose(batched, single, atol=tol, rtol=tol))


# ----------------------------------------------------------------------------- forward
def normalize_waveform(encoder: LoadedEncoder, y: np.ndarray) -> np.ndarray:
    """The feature extractor's per-utterance zero-mean unit-variance step (when it has one)."""
    if encoder.kind == "waveform" and getattr(encoder.feature_extractor, "do_normalize", False):
        return ((y - y.mean()) / np.sqrt(y.var() + 1e-7)).astype(np.float32)
    return y


def encoder_inputs(
    encoder: LoadedEncoder, waves: list[np.ndarray], *, normalized: bool = False
) -> tuple[dict, np.ndarray]:
    """Model inputs of a batch and each item's number of valid output frames.

    Waveform models: each waveform is normalised on its own (the feature
    extractor's zero-mean unit-variance step, unless ``normalized``), then
    zero-padded to the longest with an attention mask. Whisper: 30 s log-mel
    windows.

    Parameters
    ----------
    encoder : LoadedEncoder
    waves : list of np.ndarray of shape (n_samples_i,), float32 at ``encoder.sampling_rate``
    normalized : bool, default=False
        The waveforms went through :func:`normalize_waveform` already (as
        whole utterances, before chunking).

    Returns
    -------
    inputs : dict of torch.Tensor
        Keyword arguments of the model's forward.
    n_frames : np.ndarray of shape (len(waves),), int64
    """
    import torch

    fe = encoder.feature_extractor
    sr = encoder.sampling_rate
    if encoder.kind == "whisper":
        feats = fe(
            waves, sampling_rate=sr, padding="max_length", return_attention_mask=True,
            return_tensors="np",
        )
        mel_frames = feats["attention_mask"].sum(axis=1).astype(np.int64)
        x = torch.from_numpy(np.ascontiguousarray(feats["input_features"]))
        return {"input_features": x.to(encoder.device, encoder.dtype)}, (mel_frames + 1) // 2
    lengths = np.array([w.shape[0] for w in waves], dtype=np.int64)
    values = np.zeros((len(waves), int(lengths.max())), dtype=np.float32)
    for i, w in enumerate(waves):
        values[i, : w.shape[0]] = w if normalized else normalize_waveform(encoder, w)
    inputs = {"input_values": torch.from_numpy(values).to(encoder.device, encoder.dtype)}
    if (lengths < values.shape[1]).any():
        mask = np.arange(values.shape[1])[None, :] < lengths[:, None]
        inputs["attention_mask"] = torch.from_numpy(mask.astype(np.int64)).to(encoder.device)
    return inputs, encoder.output_lengths(lengths)


def hidden_states(encoder: LoadedEncoder, inputs: dict, layers: list[int] | None) -> Any:
    """Hidden states ``(batch, n_layers, n_frames, hidden_size)`` of the chosen layers.

    ``layers=None`` returns the last hidden state only, as ``(batch, 1, n_frames, hidden)``.
    Gradients flow when called outside ``torch.no_grad``.
    """
    import torch

    out = encoder.model(**inputs, output_hidden_states=layers is not None)
    if layers is None:
        return out.last_hidden_state[:, None]
    return torch.stack([out.hidden_states[i] for i in layers], dim=1)


# ----------------------------------------------------------------------------- transformer
class _Reducer:
    """Accumulates an utterance's frames chunk by chunk: sums for pooling, or the frames."""

    def __init__(self, keep_frames: bool):
        self.keep_frames = keep_frames
        self.frames: list[np.ndarray] = []
        self.total = 0.0
        self.total_sq = 0.0
        self.count = 0

    def add(self, frames: np.ndarray) -> None:
        """``frames``: (n_frames, n_layers, hidden_size), float32."""
        if self.keep_frames:
            self.frames.append(frames)
            return
        f = frames.astype(np.float64)
        self.total = self.total + f.sum(axis=0)
        self.total_sq = self.total_sq + np.square(f).sum(axis=0)
        self.count += f.shape[0]

    def frames_out(self) -> np.ndarray:
        return np.concatenate(self.frames, axis=0)

    def pooled(self, with_std: bool) -> np.ndarray:
        mean = self.total / self.count
        if not with_std:
            return mean.astype(np.float32)
        var = np.maximum(self.total_sq / self.count - np.square(mean), 0.0)
        return np.concatenate([mean, np.sqrt(var)], axis=-1).astype(np.float32)


class SpeechEncoder(BaseAudioTransformer):
    """Embeddings from a pretrained speech encoder (wav2vec2, HuBERT, WavLM, data2vec, Whisper).

    Any checkpoint that :mod:`transformers` loads with ``AutoModel`` and an
    audio ``AutoFeatureExtractor`` works: wav2vec2, HuBERT, WavLM and
    data2vec-audio (waveform input), and the encoder of Whisper (30 s
    log-mel windows; the padding of the window is excluded from the pooling).
    The model is loaded on first use, once per process (see
    :func:`load_encoder`); set ``HF_HUB_OFFLINE=1`` or pass a local folder to
    stay offline.

    Parameters
    ----------
    model : str or os.PathLike, default="facebook/wav2vec2-base"
        Hugging Face Hub id or a local folder (``save_pretrained`` output of the
        model and its feature extractor).
    layer : "last", int, list of int or "all", default="last"
        Which hidden states: ``"last"``; an index into the model's hidden
        states (0 = the input embedding after the CNN / convolutional front end,
        ``n_layers`` = last, negative from the end); a list, averaged; or
        ``"all"``, stacked on a layer axis for a learned weighted sum downstream
        (the SUPERB recipe).
    pooling : {"mean", "mean+std"}, default="mean"
        Utterance statistics over the valid frames: the mean, or the mean and
        the standard deviation concatenated. (Attentive pooling needs training:
        see :class:`skser.models.SpeechEncoderClassifier`.)
    output : {"embedding", "frames"}, default="embedding"
        ``"embedding"``: pooled vectors; ``"frames"``: the frame sequences,
        NaN-padded at the end like the other frame-level transformers.
    sr : int, default=16000
        Sampling rate in Hz of array input and of decoding; must equal the
        model's (16 kHz for all the supported encoders).
    batch_size : int, default=8
        Utterances per forward pass. Utterances are sorted by length; models
        whose results do not depend on padding (layer-norm feature encoders
        with attention masks, Whisper) batch any lengths, the others (e.g.
        wav2vec2-base, group norm) only utterances of equal length.
    chunk_seconds : float, default=30.0
        Longer audio is encoded in overlapping chunks of this length, so memory
        stays bounded (at most Whisper's 30 s window).
    overlap_seconds : float, default=5.0
        Overlap of consecutive chunks; each output frame is taken from the
        chunk in which it is farthest from an edge. Rounded to an even number
        of frames, at least two.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    fp16 : bool, default=False
        Half-precision inference on CUDA (ignored on CPU).
    verbose : bool or int, default=False
        Progress bar in ``transform``.
    memory : str, os.PathLike, FeatureCache, joblib.Memory or None, default=None
        On-disk cache of per-utterance results (a folder, see
        :class:`~skser.features.FeatureCache`), keyed by the parameters that
        change them (model, layer, pooling, output, chunking, device), the
        model's files and the content of the audio (a file's bytes, not its
        path). Utterances are then encoded one at a time.

    Notes
    -----
    Output shapes (``D`` = hidden size, ``L`` = number of hidden states = layers + 1):

    ===============  =====================  ==================
    output, pooling  single layer or list   ``layer="all"``
    ===============  =====================  ==================
    "mean"           (n, D)                 (n, L, D)
    "mean+std"       (n, 2 D)               (n, L, 2 D)
    "frames"         (n, T, D)              (n, T, L, D)
    ===============  =====================  ==================

    Batched results equal one-by-one results to float rounding (about 1e-5).
    Chunked results equal unchunked ones exactly only for the frames whose
    receptive field fits in a chunk: the transformer layers attend over the
    whole input and group-norm front ends normalise over it, so for those
    models chunking changes the embeddings a little.

    Examples
    --------
    >>> from skser.features import SpeechEncoder
    >>> enc = SpeechEncoder("path/to/wav2vec2-base", layer=[6, 7, 8])  # doctest: +SKIP
    >>> enc.fit_transform(paths).shape  # doctest: +SKIP
    (n_files, 768)
    """

    _parameter_constraints: dict = {
        "model": [str, HasMethods(["__fspath__"])],
        "layer": [StrOptions({"last", "all"}), Integral, list, tuple],
        "pooling": [StrOptions({"mean", "mean+std"})],
        "output": [StrOptions({"embedding", "frames"})],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "chunk_seconds": [Interval(Real, 0, None, closed="neither")],
        "overlap_seconds": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "fp16": ["boolean"],
        "verbose": ["verbose"],
        "memory": MEMORY_CONSTRAINT,
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        kwargs.setdefault("auto_wrap_output_keys", None)
        super().__init_subclass__(**kwargs)

    def __init__(
        self,
        model: str | os.PathLike = "facebook/wav2vec2-base",
        *,
        layer: Any = "last",
        pooling: str = "mean",
        output: str = "embedding",
        sr: int = 16000,
        batch_size: int = 8,
        chunk_seconds: float = 30.0,
        overlap_seconds: float = 5.0,
        device: str = "auto",
        fp16: bool = False,
        verbose: bool | int = False,
        memory: Any = None,
    ):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.output = output
        self.sr = sr
        self.batch_size = batch_size
        self.chunk_seconds = chunk_seconds
        self.overlap_seconds = overlap_seconds
        self.device = device
        self.fp16 = fp16
        self.verbose = verbose
        self.memory = memory

    # -- checks -------------------------------------------------------------------
    def _check_params(self) -> None:
        if isinstance(self.layer, (list, tuple)):
            if not self.layer or not all(
                isinstance(v, Integral) and not isinstance(v, bool) for v in self.layer
            ):
                raise ParameterError(
                    f"layer={self.layer!r}: a list of layers must hold at least one integer "
                    "index, e.g. layer=[6, 7, 8]."
                )
        if isinstance(self.layer, bool):
            raise ParameterError(f"layer={self.layer!r} is not a layer index.")
        if self.overlap_seconds >= self.chunk_seconds:
            raise ParameterError(
                f"overlap_seconds={self.overlap_seconds!r} must be less than "
                f"chunk_seconds={self.chunk_seconds!r}."
            )

    def _validate(self) -> None:
        self._validate_params()
        self._check_params()

    def _encoder(self) -> LoadedEncoder:
        from ..models._validation import resolve_device  # torch-bound: imported on use

        device = resolve_device(self.device)
        encoder = load_encoder(self.model, device, bool(self.fp16) and device.startswith("cuda"))
        if encoder.sampling_rate != self.sr:
            raise ParameterError(
                f"sr={self.sr!r} but the encoder {self.model!r} takes audio at "
                f"{encoder.sampling_rate} Hz; set sr={encoder.sampling_rate}."
            )
        self._layer_indices(encoder)  # raises for an index out of range
        return encoder

    def _layer_indices(self, encoder: LoadedEncoder) -> list[int] | None:
        """Indices into the hidden states, or None for the last hidden state only."""
        n = encoder.n_hidden_states
        if isinstance(self.layer, str):
            return None if self.layer == "last" else list(range(n))
        wanted = [self.layer] if isinstance(self.layer, Integral) else list(self.layer)
        bad = [v for v in wanted if not -n <= v < n]
        if bad:
            raise ParameterError(
                f"layer={self.layer!r}: {bad} out of range; {self.model!r} has {n} hidden "
                f"states (0 = input embedding, {n - 1} = last layer; negative counts from the end)."
            )
        return [v % n for v in wanted]

    # -- sklearn API ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any = None, y: Any = None) -> "SpeechEncoder":
        """Check the parameters, load the encoder (once per process) and check ``X``'s kind.

        Parameters
        ----------
        X : audio input or None
        y : Ignored

        Returns
        -------
        self
        """
        self._check_params()
        self._encoder()
        if X is not None:
            as_audio_items(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Encode every row of ``X``.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, 2-D array or pandas Series
            Audio input (see :mod:`skser._audio`).

        Returns
        -------
        embeddings : np.ndarray, float32
            Shape given in the class notes.
        """
        self._validate()
        items = as_audio_items(X)
        if not items:
            raise AudioInputError(f"{type(self).__name__}.transform got 0 rows of audio.")
        encoder = self._encoder()
        if self.memory is not None:
            func, token = self._row_task(encoder)
            results = map_rows(func, items, memory=self.memory, cache_token=token,
                               verbose=self.verbose, desc="SpeechEncoder")
            return self._assemble(results)
        results: list = []
        progress = _progress(len(items), self.verbose)
        for start in range(0, len(items), _BLOCK_SIZE):
            block = items[start : start + _BLOCK_SIZE]
            waves = [prepare_waveform(item, self.sr, start + i) for i, item in enumerate(block)]
            results.extend(self.encode_waveforms(waves, encoder, progress))
        if progress is not None:
            progress.close()
        return self._assemble(results)

    def _row_task(self, encoder: LoadedEncoder | None = None) -> tuple[Any, str]:
        """The function of ``(item, row)`` encoding one utterance, and its cache token.

        The token covers the parameters (with ``batch_size=1`` and the
        resolved device, which is how rows are encoded one at a time) and the
        model files' fingerprint.
        """
        from ..models._validation import resolve_device  # torch-bound: imported on use

        encoder = self._encoder() if encoder is None else encoder
        worker = clone(self)
        worker.set_params(verbose=0, memory=None, batch_size=1, device=resolve_device(self.device))
        return worker._encode_row, cache_token(worker, extra=encoder.fingerprint)

    @staticmethod
    def _row_features(result: np.ndarray) -> np.ndarray:
        return result

    @staticmethod
    def _row_samples(result: np.ndarray) -> None:
        return None

    def _encode_row(self, item: Any, row: int) -> np.ndarray:
        """One utterance's result."""
        return self.encode_waveforms([prepare_waveform(item, self.sr, row)], self._encoder())[0]

    # -- encoding ---------------------------------------------------------------------
    def encode_waveforms(
        self, waves: list[np.ndarray], encoder: LoadedEncoder | None = None, progress: Any = None
    ) -> list[np.ndarray]:
        """Per-utterance results of decoded waveforms (pooled vectors or frames).

        Parameters
        ----------
        waves : list of np.ndarray of shape (n_samples_i,), float32 at ``sr``
        encoder : LoadedEncoder or None
            Loaded when None.

        Returns
        -------
        results : list of np.ndarray
            One per waveform, shaped as one row of ``transform``'s output.
        """
        import torch

        encoder = self._encoder() if encoder is None else encoder
        layers = self._layer_indices(encoder)
        chunk, overlap = self._chunking(encoder)
        waves = [normalize_waveform(encoder, _at_least(w, encoder.receptive_field)) for w in waves]
        reducers = [_Reducer(self.output == "frames") for _ in waves]
        # (utterance, first kept frame, end of kept frames, samples) for every segment
        segments: list[tuple[int, int, int | None, np.ndarray]] = []
        for i, w in enumerate(waves):
            segments.extend((i, *seg) for seg in _chunks(w, chunk, overlap, encoder.stride))
        order = sorted(range(len(segments)), key=lambda s: (segments[s][3].shape[0], s))
        with torch.inference_mode():
            for batch in _batches(order, segments, self.batch_size, encoder.pad_batching):
                inputs, n_frames = encoder_inputs(
                    encoder, [segments[s][3] for s in batch], normalized=True
                )
                hidden = hidden_states(encoder, inputs, layers)
                if isinstance(self.layer, (list, tuple)):
                    hidden = hidden.mean(dim=1, keepdim=True)
                hidden = hidden.float().transpose(1, 2).cpu().numpy()  # (batch, T, L, D)
                for b, s in enumerate(batch):
                    item, first, end, _ = segments[s]
                    stop = n_frames[b] if end is None else min(end, n_frames[b])
                    reducers[item].add(hidden[b, first:stop])
                if progress is not None:
                    progress.update(sum(segments[s][2] is None for s in batch))
        squeeze = self.layer != "all"
        out = []
        for r in reducers:
            res = r.frames_out() if self.output == "frames" else r.pooled(self.pooling == "mean+std")
            out.append(res[..., 0, :] if squeeze else res)
        return out

    def _chunking(self, encoder: LoadedEncoder) -> tuple[int, int]:
        """Chunk and overlap lengths in samples, multiples of the frame stride."""
        s = encoder.stride
        chunk_seconds = self.chunk_seconds
        if encoder.max_samples is not None:
            chunk_seconds = min(chunk_seconds, encoder.max_samples / self.sr)
        chunk = int(chunk_seconds * self.sr) // s * s
        overlap = 2 * s * max(1, round(self.overlap_seconds * self.sr / (2 * s)))
        overlap = max(overlap, 2 * s * math.ceil(encoder.receptive_field / (2 * s)))
        if chunk - overlap < s:
            raise ParameterError(
                f"chunk_seconds={self.chunk_seconds!r} leaves no room next to "
                f"overlap_seconds={self.overlap_seconds!r} (rounded to {overlap / self.sr:.3f} s "
                f"for this encoder); use longer chunks."
            )
        return chunk, overlap

    def _assemble(self, results: list[np.ndarray]) -> np.ndarray:
        if self.output != "frames":
            return np.stack(results).astype(np.float32, copy=False)
        n_max = max(r.shape[0] for r in results)
        out = np.full((len(results), n_max, *results[0].shape[1:]), np.nan, dtype=np.float32)
        for i, r in enumerate(results):
            out[i, : r.shape[0]] = r
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags


class Wav2Vec2Embedder(SpeechEncoder):
    """:class:`SpeechEncoder` under the name users search for; wav2vec2-base by default.

    The report's embedding (the four-corpus fusion slides): the last hidden
    state of ``facebook/wav2vec2-base`` mean-pooled over time, 768 values per
    utterance. Every :class:`SpeechEncoder` parameter applies; any supported
    encoder can be passed as ``model``.
    """


def _at_least(y: np.ndarray, n: int) -> np.ndarray:
    """Zero-pad ``y`` at its end to ``n`` samples (the encoder's shortest input)."""
    if y.shape[0] >= n:
        return y
    return np.pad(y, (0, n - y.shape[0]))


def _chunks(y: np.ndarray, chunk: int, overlap: int, stride: int):
    """``(first kept frame, end of kept frames or None, samples)`` of each chunk of ``y``.

    Chunks start every ``chunk - overlap`` samples (a multiple of ``stride``), so
    chunk ``k``'s frame ``j`` is the whole signal's frame ``k * hop / stride + j``.
    Each frame is kept from the chunk in which it lies farthest from an edge: the
    boundary between chunks is the middle of their overlap. ``None`` for the last
    chunk (keep to its end). A signal that fits one chunk is one segment.
    """
    n = y.shape[0]
    if n <= chunk:
        yield 0, None, y
        return
    hop = chunk - overlap
    half = overlap // (2 * stride)
    hop_frames = hop // stride
    n_last = math.ceil((n - chunk) / hop)
    for k in range(n_last + 1):
        first = 0 if k == 0 else half
        end = None if k == n_last else half + hop_frames
        yield first, end, y[k * hop : k * hop + chunk]


def _batches(order: list[int], segments: list, batch_size: int, any_length: bool):
    """Groups of segment indices (sorted by length) of at most ``batch_size``; equal lengths unless ``any_length``."""
    batch: list[int] = []
    for s in order:
        if batch and (
            len(batch) == batch_size
            or (not any_length and segments[s][3].shape[0] != segments[batch[0]][3].shape[0])
        ):
            yield batch
            batch = []
        batch.append(s)
    if batch:
        yield batch


def _progress(total: int, verbose: Any):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="SpeechEncoder", unit="file")
