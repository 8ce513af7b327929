"""Frame-level features (e.g. log-mel) as fixed-size, normalised images for ImageNet CNNs."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InputError
from ._base import centre_fit, check_frame_array, padding_lengths
from ._logmel import add_deltas

__all__ = ["SpectrogramImage", "IMAGENET_MEAN", "IMAGENET_STD"]

#: Per-channel (R, G, B) mean and standard deviation of ImageNet-1k images in [0, 1],
#: the input statistics of the torchvision / ``transformers`` ImageNet backbones.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@lru_cache(maxsize=64)
def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Linear-interpolation matrix ``R`` (n_out, n_in) with ``y = R @ x``, read-only.

    Pixel centres are aligned (``align_corners=False``, the PIL / torchvision
    convention). Upsampling is plain linear interpolation with edge clamping;
    downsampling widens the triangle kernel by the scale factor (antialiased,
    as PIL's bilinear filter and ``torch.nn.functional.interpolate(...,
    antialias=True)``), so no frame is skipped when many frames are squeezed
    into few columns.
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    src = np.arange(n_in)
    weights = np.maximum(0.0, 1.0 - np.abs(src[None, :] - centres[:, None]) / support)
    empty = weights.sum(axis=1) == 0  # only possible beyond the edges when upsampling
    if empty.any():
        nearest = np.clip(np.rint(centres[empty]), 0, n_in - 1).astype(int)
        weights[np.flatnonzero(empty), nearest] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    weights.setflags(write=False)
    return weights


class SpectrogramImage(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Turn frame-level features into fixed-size normalised images ``(n, C, H, W)``.

    The bridge between a frame transformer (typically :class:`LogMel`) and an
    ImageNet CNN such as :class:`~skser.models.SpectrogramCNN`: each
    utterance's **real** frames (NaN padding is dropped first) become one
    image whose rows are the feature bins (frequency, highest mel band at the
    top, row 0, as a spectrogram is drawn) and whose columns are time.

    Parameters
    ----------
    size : tuple of (int or None, int), default=(128, 128)
        Image ``(height, width)`` in pixels. The height is the feature axis,
        linearly resized to ``height`` bins (None keeps the number of
        features); the width is the time axis, handled by ``time_mode``.
    time_mode : {"resize", "crop_pad"}, default="resize"
        ``"resize"``: the real frames of each utterance are linearly
        resampled (antialiased when shrinking) to ``width`` columns, so every
        utterance fills the image whatever its duration. ``"crop_pad"``: one
        frame per column, keeping the time scale: utterances longer than
        ``width`` frames are centre-cropped, shorter ones centre-padded with
        the utterance's smallest value (silence in a log spectrogram), the
        convention of :func:`skser.features._base.centre_fit`.
    channels : {"single", "repeat", "deltas"}, default="repeat"
        ``"single"``: one channel. ``"repeat"``: the image three times (the
        RGB input of ImageNet backbones). ``"deltas"``: value, delta and
        delta-delta over time (:func:`librosa.feature.delta`, width
        ``delta_width``, computed on the real frames before resizing).
    delta_width : int, default=9
        Odd window of the delta regression (``channels="deltas"`` only).
    normalize : {"imagenet", "per_image"} or None, default="imagenet"
        ``"imagenet"``: each channel of each image is min-max scaled to
        [0, 1] (a grey-scale picture of the spectrogram), then standardised
        with the ImageNet channel mean and std (:data:`IMAGENET_MEAN`,
        :data:`IMAGENET_STD`; a single channel uses their averages 0.449 and
        0.226), what pretrained backbones expect. ``"per_image"``: each
        channel of each image to zero mean and unit variance (a constant
        channel is only centred). None: the values as they are.

    Attributes
    ----------
    n_features_in_ : int
        Features per frame seen in :meth:`fit` (mel bands).

    See Also
    --------
    skser.features.LogMel : The usual input.
    skser.models.SpectrogramCNN : ImageNet CNN backbones fine-tuned on these images.

    Notes
    -----
    Input is the skser frame-level layout ``(n_samples, n_frames,
    n_features)``, NaN-padded at the end of shorter utterances (2-D input
    ``(n_samples, n_frames)`` is one feature per frame); every utterance needs
    at least one real frame. The transformer is stateless: ``fit`` only
    records ``n_features_in_``. Augmentation (frequency / time masking) is not
    done here: it belongs to training only, in the network
    (``SpectrogramCNN(freq_mask_param=...)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import SpectrogramImage
    >>> X = np.random.default_rng(0).standard_normal((2, 50, 40)).astype(np.float32)
    >>> X[1, 30:] = np.nan                      # second utterance: 30 frames
    >>> SpectrogramImage(size=(32, 64)).fit_transform(X).shape
    (2, 3, 32, 64)
    """

    _parameter_constraints: dict = {
        "size": [tuple, list],
        "time_mode": [StrOptions({"resize", "crop_pad"})],
        "channels": [StrOptions({"single", "repeat", "deltas"})],
        "delta_width": [Interval(Integral, 3, None, closed="left")],
        "normalize": [StrOptions({"imagenet", "per_image"}), None],
    }

    def __init__(
        self,
        size: tuple[int | None, int] = (128, 128),
        *,
        time_mode: str = "resize",
        channels: str = "repeat",
        delta_width: int = 9,
        normalize: str | None = "imagenet",
    ):
        self.size = size
        self.time_mode = time_mode
        self.channels = channels
        self.delta_width = delta_width
        self.normalize = normalize

    # -- validation ----------------------------------------------------------
    def _check_size(self) -> tuple[int | None, int]:
        from ..exceptions import ParameterError

        size = tuple(self.size)
        ok = len(size) == 2 and all(
            (s is None and i == 0) or (isinstance(s, Integral) and not isinstance(s, bool) and s >= 1)
            for i, s in enumerate(size)
        )
        if not ok:
            raise ParameterError(
                f"SpectrogramImage: size={self.size!r} must be (height, width) with positive "
                "integers (height may be None to keep the number of features), e.g. (128, 128)."
            )
        if self.delta_width % 2 == 0:
            raise ParameterError(
                f"SpectrogramImage: delta_width={self.delta_width} must be odd (e.g. 9)."
            )
        return size  # type: ignore[return-value]

    @staticmethod
    def _check_X(X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Checked float32 3-D input and the real frame count of each utterance."""
        X = check_frame_array(X, "SpectrogramImage")
        lengths = padding_lengths(X)
        if lengths is None:  # no padding at all
            lengths = np.full(X.shape[0], X.shape[1], dtype=np.int64)
        return X, lengths

    # -- sklearn API ---------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> SpectrogramImage:
        """Check the parameters and record the number of features per frame.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_frames)
            NaN-padded frame-level features.
        y : Ignored

        Returns
        -------
        self
        """
        self._check_size()
        self.n_features_in_ = self._check_X(X)[0].shape[2]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Images of the utterances of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_frames, n_features) or (n_samples, n_frames)
            NaN-padded frame-level features.

        Returns
        -------
        images : np.ndarray of shape (n_samples, n_channels, height, width), float32
            ``n_channels`` is 1 for ``channels="single"``, else 3.
        """
        check_is_fitted(self, "n_features_in_")
        height, width = self._check_size()
        X, lengths = self._check_X(X)
        n_samples, _, n_features = X.shape
        if n_features != self.n_features_in_:
            raise InputError(
                f"X has {n_features} features, but SpectrogramImage is expecting "
                f"{self.n_features_in_} features as input (features per frame, the last axis)."
            )
        height = n_features if height is None else height
        n_channels = 1 if self.channels == "single" else 3
        out = np.empty((n_samples, n_channels, height, width), dtype=np.float32)
        freq = _resize_matrix(n_features, height)[::-1]  # row 0 = highest band
        for i in range(n_samples):
            out[i] = self._image(X[i, : lengths[i]], freq, width)
        return self._normalise(out)

    def _image(self, frames: np.ndarray, freq: np.ndarray, width: int) -> np.ndarray:
        """Image (C, H, W) of one utterance's real frames (T, F), before normalisation."""
        feats = frames.T.astype(np.float64)  # (F, T)
        if self.channels == "deltas":
            planes = add_deltas(feats, 2, self.delta_width).reshape(3, *feats.shape)
        else:
            planes = feats[None]
        out = []
        for plane in planes:
            if self.time_mode == "resize":
                time = _resize_matrix(plane.shape[1], width)
                out.append(freq @ plane @ time.T)
            else:
                fitted = centre_fit(plane.T, width, fill=float(plane.min())).T
                out.append(freq @ fitted)
        image = np.stack(out)
        if self.channels == "repeat":
            image = np.repeat(image, 3, axis=0)
        return image

    def _normalise(self, images: np.ndarray) -> np.ndarray:
        if self.normalize is None:
            return images
        axes = (2, 3)
        if self.normalize == "per_image":
            mean = images.mean(axis=axes, keepdims=True)
            std = images.std(axis=axes, keepdims=True)
            std[std < 1e-8] = 1.0
            return ((images - mean) / std).astype(np.float32, copy=False)
        lo = images.min(axis=axes, keepdims=True)
        span = images.max(axis=axes, keepdims=True) - lo
        span[span == 0] = 1.0
        unit = (images - lo) / span
        if images.shape[1] == 3:
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        else:
            mean, std = IMAGENET_MEAN.mean(keepdims=True), IMAGENET_STD.mean(keepdims=True)
        return ((unit - mean[None, :, None, None]) / std[None, :, None, None]).astype(
            np.float32, copy=False
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is accepted only as end-of-utterance padding (whole frames), not as
        # missing values, so allow_nan stays False.
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
