"""MFCC, LogMel and LowLevel: numerical parity, presets, layout, execution options."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import librosa
import numpy as np
import pytest
import scipy.fft
import scipy.signal
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_info, threadpool_limits

from skser import LoadAudio
from skser.exceptions import AudioInputWarning
from skser.features import MFCC, LogMel, LowLevel, frame_lengths
from skser.features._mfcc import dct_matrix
from skser.features._spectral import (
    mel_filterbank,
    stft_magnitude,
    tf_mel_weight_matrix,
)

# -- scikit-learn estimator checks ---------------------------------------------
# The checks feed small 2-D float arrays: under the audio contract each row is a
# waveform, so most checks run as they are. These cannot pass, by design:
_N_FEATURES_IN = (
    "audio rows are waveforms of any length: n_features_in_ has no meaning, "
    "the number of samples per row may change between fit and transform"
)
_FRAME_CHECKS = {
    "check_n_features_in": _N_FEATURES_IN,
    "check_n_features_in_after_fitting": _N_FEATURES_IN,
}
_OBJECT_OUTPUT = (
    "LoadAudio returns a 1-D object array of float32 waveforms (ragged by nature), "
    "which the check's numeric comparisons and dtype assertions cannot handle"
)
EXPECTED_FAILED_CHECKS = {
    "MFCC": _FRAME_CHECKS,
    "LogMel": _FRAME_CHECKS,
    "LowLevel": _FRAME_CHECKS,
    "LoadAudio": {
        **_FRAME_CHECKS,
        **{name: _OBJECT_OUTPUT for name in (
            "check_fit_idempotent",
            "check_pipeline_consistency",
            "check_estimators_pickle",
            "check_transformer_general",
            "check_transformer_preserve_dtypes",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_transformer_data_not_an_array",
        )},
    },
}


@parametrize_with_checks(
    [LoadAudio(), MFCC(), LogMel(), LowLevel()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS[type(est).__name__],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- helpers ----------------------------------------------------------------------
def speechlike(n: int, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """Harmonic tone with a moving pitch, amplitude envelope and noise, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 8))
    y *= 0.5 + 0.5 * np.sin(2 * np.pi * 2.3 * t) ** 2
    y += 0.02 * rng.standard_normal(n)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


# -- Light-SERNet preset vs an independent numpy/scipy implementation ----------
def _ref_tf_mel(n_mels, n_bins, sr, lo, hi):
    """TF linear_to_mel_weight_matrix, written from its documentation (bins x mels)."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    out = np.zeros((n_bins, n_mels))
    edges = np.linspace(mel(lo), mel(hi), n_mels + 2)
    for k in range(1, n_bins):  # DC bin (k = 0) excluded
        m = mel(k * (sr / 2) / (n_bins - 1))
        for j in range(n_mels):
            left, centre, right = edges[j], edges[j + 1], edges[j + 2]
            if left < m <= centre:
                out[k, j] = (m - left) / (centre - left)
            elif centre < m < right:
                out[k, j] = (right - m) / (right - centre)
    return out


def _ref_light_sernet(y: np.ndarray, seconds: float) -> np.ndarray:
    L = int(seconds * 16000)
    if len(y) > L:  # centre crop
        start = (len(y) - L) // 2
        y = y[start : start + L]
    y = y / (np.percentile(np.abs(y), 99.9) + np.finfo(float).eps)
    y = np.clip(y, -1, 1)
    pad = L - len(y)
    y = np.concatenate([np.zeros(pad // 2), y, np.zeros(pad - pad // 2)])
    n_frames = 1 + (L - 1024) // 256
    idx = np.arange(1024)[None, :] + 256 * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)  # periodic Hann
    mag = np.abs(np.fft.rfft(y[idx] * window, n=1024, axis=1))
    mel = mag @ _ref_tf_mel(128, 513, 16000, 80.0, 7600.0)
    coefs = scipy.fft.dct(np.log(mel + 1e-6), type=2, axis=1) / np.sqrt(2 * 128)
    return np.clip(coefs[:, :40], -10, 10)


@pytest.fixture(scope="module")
def _ref_tf_mel_matrix():
    return _ref_tf_mel(128, 513, 16000, 80.0, 7600.0)


def test_tf_mel_weight_matrix_matches_definition(_ref_tf_mel_matrix):
    W = tf_mel_weight_matrix(128, 1024, 16000.0, 80.0, 7600.0)
    assert W.shape == (128, 513) and W.dtype == np.float32
    assert_allclose(W.T, _ref_tf_mel_matrix, atol=1e-6)
    assert np.all(W[:, 0] == 0)  # DC bin
    assert W.max() <= 1.0 and np.all(W.max(axis=1) > 0.3)  # peak-1, no area norm
    assert not W.flags.writeable  # cached: must not be mutated by callers


@pytest.mark.parametrize(
    "seconds, n_in, expected_frames",
    [(3.0, 60000, 184), (3.0, 30000, 184), (7.0, 90000, 434)],
)
def test_light_sernet_matches_reference(seconds, n_in, expected_frames):
    y = speechlike(n_in, seed=n_in)
    got = MFCC.light_sernet(duration=seconds).fit_transform([y])
    ref = _ref_light_sernet(y.astype(np.float64), seconds)
    assert got.shape == (1, expected_frames, 40) == (1,) + ref.shape
    assert got.dtype == np.float32
    assert_allclose(got[0], ref, atol=1e-4)  # measured: 3e-6
    assert np.abs(got).max() <= 10.0


def test_light_sernet_amplitude_normalisation_makes_it_scale_invariant():
    y = speechlike(40000)
    est = MFCC.light_sernet()
    a, b = est.transform([y]), est.transform([y * 0.05])
    assert_allclose(a, b, atol=1e-3)


def test_light_sernet_preset_is_fully_parameterised():
    est = MFCC.light_sernet(duration=7.0, n_jobs=2)
    params = est.get_params()
    expected = dict(
        n_mfcc=40, sr=16000, duration=7.0, n_fft=1024, hop_length=256, center=False,
        power=1.0, n_mels=128, fmin=80.0, fmax=7600.0, mel_scale="tf", mel_norm=None,
        log="natural", log_offset=1e-6, dct_norm="htk", clip=10.0, cmvn=False,
        amplitude_norm="percentile", amplitude_percentile=99.9, deltas=0, n_jobs=2,
    )
    assert {k: params[k] for k in expected} == expected
    assert clone(est).get_params() == params
    with pytest.raises(TypeError):
        MFCC.light_sernet(not_a_param=1)


# -- TIM-Net preset vs librosa ---------------------------------------------------
@pytest.mark.parametrize("n_in", [80000, 96000, 120001])
def test_timnet_matches_librosa(n_in):
    L = 96000  # EMO-DB mean_signal_length of the original
    y = speechlike(n_in, sr=22050, seed=n_in)
    if n_in > L:
        start = (n_in - L) // 2
        fitted = y[start : start + L]
    else:
        pad = L - n_in
        fitted = np.pad(y, (pad // 2, pad - pad // 2))
    ref = librosa.feature.mfcc(y=fitted, sr=22050, n_mfcc=39).T
    got = MFCC.timnet(duration=L / 22050).fit_transform([y])
    assert got.shape == (1, 188, 39) == (1,) + ref.shape
    assert_allclose(got[0], ref, atol=1e-3)


def test_timnet_without_duration_keeps_lengths():
    est = MFCC.timnet()
    assert est.sr == 22050 and est.n_mfcc == 39 and est.duration is None
    X = est.fit_transform([speechlike(22050, 22050), speechlike(11025, 22050)])
    assert_array_equal(frame_lengths(X), [1 + 22050 // 512, 1 + 11025 // 512])


# -- shared analysis blocks -------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        dict(n_fft=1024, hop_length=256, center=False),
        dict(n_fft=2048, hop_length=512, center=True),
        dict(n_fft=512, hop_length=160, win_length=400, window="hamming", pad_mode="reflect"),
        dict(n_fft=400, hop_length=100, window=("kaiser", 4.0), center=False),
        dict(n_fft=256, hop_length=64, window=scipy.signal.windows.blackman, pad_mode="edge"),
    ],
)
def test_stft_magnitude_equals_librosa(kw):
    y = speechlike(9001)
    kw = dict(win_length=None, window="hann", center=True, pad_mode="constant") | kw
    S = stft_magnitude(y, **kw)
    ref = np.abs(librosa.stft(y, **kw))
    assert S.dtype == np.float32 and S.shape == ref.shape and S.flags.c_contiguous
    assert_allclose(S, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_mel_filterbank_is_a_cached_read_only_sparse_matrix():
    kw = dict(sr=22050, n_fft=2048, n_mels=128, fmin=0.0, fmax=None)
    fb = mel_filterbank(**kw, mel_scale="slaney", mel_norm="slaney")
    assert fb is mel_filterbank(**kw, mel_scale="slaney", mel_norm="slaney")
    assert fb.shape == (128, 1025) and fb.dtype == np.float32
    assert fb.nnz <= 2 * fb.shape[1]
    assert_array_equal(fb.toarray(), librosa.filters.mel(sr=22050, n_fft=2048, dtype=np.float32))
    assert not fb.data.flags.writeable
    htk = mel_filterbank(**kw, mel_scale="htk", mel_norm=None).toarray()
    assert_array_equal(htk, librosa.filters.mel(sr=22050, n_fft=2048, htk=True, norm=None,
                                                dtype=np.float32))
    tf = mel_filterbank(sr=16000, n_fft=1024, n_mels=128, fmin=80.0, fmax=7600.0,
                        mel_scale="tf", mel_norm=None)
    assert_array_equal(tf.toarray(), tf_mel_weight_matrix(128, 1024, 16000.0, 80.0, 7600.0))


@pytest.mark.parametrize("norm", ["ortho", None, "htk"])
def test_dct_matrix_equals_scipy_dct(norm):
    x = np.random.default_rng(0).standard_normal((128, 30))
    ref = scipy.fft.dct(x, type=2, axis=0, norm=None if norm is None else "ortho")[:40]
    if norm == "htk":
        ref[0] *= np.sqrt(2)
    D = dct_matrix(40, 128, norm)
    assert D.shape == (40, 128) and D.dtype == np.float32 and not D.flags.writeable
    assert_allclose(D @ x, ref, rtol=1e-5, atol=1e-5)


# -- parity of the defaults with librosa --------------------------------------------
def test_mfcc_and_logmel_defaults_equal_librosa():
    y = speechlike(24000)
    assert_allclose(
        MFCC().fit_transform([y])[0], librosa.feature.mfcc(y=y, sr=16000).T, atol=1e-4
    )
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=16000)).T
    assert_allclose(LogMel().fit_transform([y])[0], ref, atol=1e-4)


def test_mfcc_options_equal_librosa():
    y = speechlike(20000)
    kw = dict(n_fft=512, hop_length=160, win_length=400, n_mels=40, fmin=20.0,
              fmax=7000.0, htk=True, norm=None, center=False, window="hamming")
    S = librosa.feature.melspectrogram(y=y, sr=16000, power=1.0, **kw)
    ref = librosa.feature.mfcc(S=librosa.power_to_db(S, top_db=None), n_mfcc=13,
                               norm=None).T
    est = MFCC(13, n_fft=512, hop_length=160, win_length=400, n_mels=40, fmin=20.0,
               fmax=7000.0, mel_scale="htk", mel_norm=None, center=False,
               window="hamming", power=1.0, top_db=None, dct_norm=None)
    assert_allclose(est.fit_transform([y])[0], ref, rtol=1e-4, atol=1e-3)


def test_mfcc_deltas_are_librosa_deltas_on_the_feature_axis():
    y = speechlike(32000)
    X = MFCC(13, deltas=2).fit_transform([y])[0]
    c = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13)
    assert X.shape == (c.shape[1], 39)
    assert_allclose(X[:, :13], c.T, atol=1e-4)
    assert_allclose(X[:, 13:26], librosa.feature.delta(c).T, atol=1e-4)
    assert_allclose(X[:, 26:], librosa.feature.delta(c, order=2).T, atol=1e-4)


@pytest.mark.filterwarnings("ignore:n_fft=2048 is too large:UserWarning")  # librosa ref
@pytest.mark.parametrize("n_samples", [1, 600, 1100, 2100, 4000])
def test_deltas_on_utterances_shorter_than_the_delta_width(n_samples):
    y = speechlike(n_samples)
    X = MFCC(deltas=2).fit_transform([y])
    n_frames = 1 + n_samples // 512
    assert X.shape == (1, n_frames, 60)
    assert np.all(np.isfinite(X))
    if n_frames >= 3:
        width = n_frames if n_frames % 2 else n_frames - 1
        c = librosa.feature.mfcc(y=y, sr=16000)
        assert_allclose(X[0, :, 20:40], librosa.feature.delta(c, width=width).T, atol=1e-4)


def test_logmel_natural_log_and_tf_scale():
    y = speechlike(16000)
    est = LogMel(64, n_fft=1024, hop_length=256, power=1.0, mel_scale="tf",
                 mel_norm=None, fmin=80.0, fmax=7600.0, log="natural", center=False)
    mag = np.abs(librosa.stft(y, n_fft=1024, hop_length=256, center=False))
    ref = np.log(tf_mel_weight_matrix(64, 1024, 16000.0, 80.0, 7600.0) @ mag + 1e-6).T
    assert_allclose(est.fit_transform([y])[0], ref, atol=1e-4)
    raw = LogMel(32, log=None).fit_transform([y])[0]
    assert raw.min() >= 0  # a power spectrogram without log


def test_preemphasis_and_peak_normalisation():
    y = speechlike(16000)
    emph = np.append(y[0], y[1:] - 0.97 * y[:-1]).astype(np.float32)
    assert_allclose(
        MFCC(preemphasis=0.97).fit_transform([y]), MFCC().fit_transform([emph]), atol=1e-3
    )
    est = MFCC(amplitude_norm="peak", top_db=None)
    assert_allclose(est.fit_transform([y]), est.fit_transform([3.0 * y]), atol=1e-3)
    assert not np.allclose(MFCC().fit_transform([y]), MFCC().fit_transform([3.0 * y]))


def test_cmvn_over_real_frames_and_clip():
    ys = [speechlike(16000, seed=1), speechlike(8000, seed=2)]
    X = MFCC(13, deltas=1, cmvn=True).fit_transform(ys)
    lengths = frame_lengths(X)
    assert_array_equal(lengths, [32, 16])
    for i, n in enumerate(lengths):
        real = X[i, :n]
        assert_allclose(real.mean(axis=0), 0, atol=1e-4)
        assert_allclose(real.std(axis=0), 1, atol=1e-3)
        assert np.isnan(X[i, n:]).all()
    Xc = MFCC(clip=5.0).fit_transform(ys)
    assert np.nanmax(np.abs(Xc)) == pytest.approx(5.0)


def test_htk_dct_norm_is_ortho_with_c0_times_sqrt2():
    y = speechlike(8000)
    ortho = MFCC(dct_norm="ortho").fit_transform([y])[0]
    htk = MFCC(dct_norm="htk").fit_transform([y])[0]
    assert_allclose(htk[:, 0], ortho[:, 0] * np.sqrt(2), rtol=1e-5)
    assert_allclose(htk[:, 1:], ortho[:, 1:], rtol=1e-6)


# -- LowLevel -----------------------------------------------------------------------
def test_lowlevel_equals_librosa_descriptors():
    y = speechlike(24000)
    X = LowLevel().fit_transform([y])[0]
    S = np.abs(librosa.stft(y))
    ref = np.concatenate(
        [
            librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512),
            librosa.feature.rms(y=y, frame_length=2048, hop_length=512),
            librosa.feature.chroma_stft(S=S**2, sr=16000),
            librosa.feature.spectral_centroid(S=S, sr=16000),
            librosa.feature.spectral_rolloff(S=S, sr=16000),
            librosa.feature.spectral_flatness(S=S),
        ]
    ).T
    assert X.shape == ref.shape == (1 + 24000 // 512, 17)
    assert_allclose(X, ref, rtol=1e-4, atol=1e-4)


def test_lowlevel_descriptor_selection_order_and_names():
    y = speechlike(16000)
    full = LowLevel().fit_transform([y])[0]
    names = list(LowLevel().get_feature_names_out())
    sub = LowLevel(("spectral_rolloff", "zcr")).fit_transform([y])[0]
    assert_allclose(sub, full[:, [names.index("spectral_rolloff"), names.index("zcr")]])
    assert names[:3] == ["zcr", "rms", "chroma_C"] and names[13] == "chroma_B"
    assert names[-3:] == ["spectral_centroid", "spectral_rolloff", "spectral_flatness"]
    chroma = LowLevel(("chroma",), power=1.0, tuning=0.0).fit_transform([y])[0]
    ref = librosa.feature.chroma_stft(S=np.abs(librosa.stft(y)), sr=16000, tuning=0.0).T
    assert_allclose(chroma, ref, atol=1e-5)


@pytest.mark.parametrize(
    "descriptors, match",
    [(("zcr", "pitch"), "unknown descriptor"), ((), "empty"), (("rms", "rms"), "twice")],
)
def test_lowlevel_bad_descriptors(descriptors, match):
    with pytest.raises(ValueError, match=match):
        LowLevel(descriptors).fit_transform([np.zeros(100)])


@pytest.mark.parametrize("center", [True, False])
def test_lowlevel_time_and_spectral_descriptors_share_frames(center):
    # zcr / rms (time domain) and the STFT descriptors must yield the same count.
    for n in (2048, 5000, 7777):
        y = speechlike(n)
        zr = LowLevel(("zcr", "rms"), center=center).fit_transform([y])
        spec = LowLevel(("spectral_centroid",), center=center).fit_transform([y])
        expected = 1 + n // 512 if center else 1 + (n - 2048) // 512
        assert zr.shape[1] == spec.shape[1] == expected


def test_lowlevel_silence_is_finite():
    X = LowLevel().fit_transform([np.zeros(8000, dtype=np.float32)])
    assert np.all(np.isfinite(X))


# -- frame layout, short audio, fixed lengths ---------------------------------------
@pytest.mark.parametrize(
    "est", [MFCC(deltas=2), LogMel(), LowLevel(), MFCC.light_sernet(duration=None)],
    ids=["mfcc", "logmel", "lowlevel", "light_sernet_var"],
)
def test_variable_length_nan_padding_and_short_audio(est):
    ys = [speechlike(12000), np.full(3, 0.1, np.float32), speechlike(700, seed=5)]
    X = est.fit_transform(ys)
    assert X.dtype == np.float32 and X.ndim == 3 and X.shape[0] == 3
    assert X.shape[2] == len(est.get_feature_names_out())
    lengths = frame_lengths(X)
    hop, n_fft = est.hop_length, est.n_fft
    if est.center:
        expected = [1 + n // hop for n in (12000, 3, 700)]
    else:
        expected = [1 + (max(n, n_fft) - n_fft) // hop for n in (12000, 3, 700)]
    assert_array_equal(lengths, expected)
    for i, n in enumerate(lengths):
        assert np.all(np.isfinite(X[i, :n]))
        assert np.isnan(X[i, n:]).all()


@pytest.mark.parametrize("cls", [MFCC, LogMel, LowLevel])
def test_fixed_duration_and_n_frames(cls):
    ys = [speechlike(30000), speechlike(5000, seed=3)]
    X = cls(duration=1.0).fit_transform(ys)
    assert X.shape[:2] == (2, 1 + 16000 // 512) and not np.isnan(X).any()
    Y = cls(n_frames=50).fit_transform(ys)
    assert Y.shape[:2] == (2, 50) and not np.isnan(Y).any()
    with pytest.warns(AudioInputWarning, match="1 of 2 recordings are more than twice"):
        Z = cls(n_frames=20, center=False, n_fft=1024, hop_length=256).fit_transform(ys)
    assert Z.shape[:2] == (2, 20)
    with pytest.raises(ValueError, match="at most one of"):
        cls(duration=1.0, n_frames=10).fit_transform(ys)


def test_paths_give_the_same_features_as_decoded_arrays(audio_paths):
    est = MFCC(13, deltas=1)
    from_paths = est.fit_transform(audio_paths)
    from_arrays = est.transform(LoadAudio(sr=16000).transform(audio_paths))
    assert_array_equal(from_paths, from_arrays)


def test_integer_pcm_input_is_scaled():
    y = speechlike(8000)
    pcm = np.round(y * 32767).astype(np.int16)
    assert_allclose(
        LogMel(top_db=None).fit_transform([pcm]),
        LogMel(top_db=None).fit_transform([pcm / 32768.0]),
        atol=1e-3,
    )


# -- parameters ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "est, match",
    [
        (MFCC(deltas=3), InvalidParameterError),
        (MFCC(mel_scale="mel"), InvalidParameterError),
        (MFCC(dct_norm="orthogonal"), InvalidParameterError),
        (LogMel(power=0), InvalidParameterError),
        (LowLevel(roll_percent=1.5), InvalidParameterError),
        (MFCC(fmax=9000.0), "Nyquist"),
        (MFCC(fmin=5000.0, fmax=4000.0), "fmin"),
        (MFCC(n_mfcc=50, n_mels=40), "n_mfcc=50 exceeds n_mels=40"),
        (MFCC(mel_scale="tf"), "mel_norm=None"),
        (MFCC(delta_width=4, deltas=1), "odd"),
        (LogMel(win_length=4096), "win_length"),
    ],
)
def test_invalid_parameters(est, match):
    if isinstance(match, type):
        with pytest.raises(match):
            est.fit_transform([np.zeros(4000)])
    else:
        with pytest.raises(ValueError, match=match):
            est.fit_transform([np.zeros(4000)])


def test_feature_names():
    assert list(MFCC(2, deltas=2).get_feature_names_out()) == [
        "mfcc_0", "mfcc_1", "mfcc_delta_0", "mfcc_delta_1", "mfcc_delta2_0", "mfcc_delta2_1",
    ]
    assert list(LogMel(3, deltas=1).get_feature_names_out()) == [
        "logmel_0", "logmel_1", "logmel_2", "logmel_delta_0", "logmel_delta_1",
        "logmel_delta_2",
    ]


# -- clone / pickle / set_params / n_jobs / memory ------------------------------
@pytest.mark.parametrize(
    "est", [MFCC(13, deltas=2), LogMel(40), LowLevel(("zcr", "chroma")), MFCC.timnet()],
    ids=["mfcc", "logmel", "lowlevel", "timnet"],
)
def test_clone_pickle_set_params(est):
    ys = [speechlike(8000), speechlike(6000, seed=4)]
    expected = est.fit_transform(ys)
    assert_array_equal(clone(est).fit_transform(ys), expected)
    assert_array_equal(pickle.loads(pickle.dumps(est)).transform(ys), expected)
    est2 = clone(est).set_params(hop_length=256)
    assert est2.transform(ys).shape[1] > expected.shape[1]
    assert est.get_params()["hop_length"] == 512  # clone is independent


@pytest.mark.parametrize("cls", [MFCC, LowLevel])
def test_n_jobs_two_gives_identical_output(cls):
    ys = [speechlike(n, seed=n) for n in (4000, 9000, 3000, 12000)]
    parallel = cls(n_jobs=2).fit_transform(ys)
    # joblib workers run BLAS on one thread; so must the reference for bitwise
    # equality (a multi-threaded float32 matmul sums in another order).
    with threadpool_limits(1):
        assert_array_equal(parallel, cls().fit_transform(ys))
    assert_allclose(parallel, cls().fit_transform(ys), rtol=1e-5, atol=1e-4)


def test_blas_runs_on_one_thread_inside_transform(monkeypatch):
    def blas_threads():
        return [m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas"]

    seen = []
    original = MFCC._frames_of_waveform

    def recording(self, y):
        seen.append(blas_threads())
        return original(self, y)

    monkeypatch.setattr(MFCC, "_frames_of_waveform", recording)
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        if not outside or max(outside) < 2:
            pytest.skip("no BLAS here that can run 2 threads")
        MFCC().transform([speechlike(4000)])
        assert blas_threads() == outside  # restored after transform
    assert seen == [[1] * len(outside)]


def test_parameters_are_validated_on_every_transform_call():
    y = speechlike(4000)
    est = MFCC()
    est.transform([y])
    est.set_params(hop_length=512.0)  # equal to the valid value, but not an int
    with pytest.raises(InvalidParameterError, match="hop_length"):
        est.transform([y])
    est.set_params(hop_length=512, n_mfcc=200)
    for _ in range(2):  # failures are not remembered
        with pytest.raises(ValueError, match="n_mfcc=200 exceeds"):
            est.transform([y])
    est.set_params(n_mfcc=20, window=["hann"])  # unhashable: validated without memo
    with pytest.raises(InvalidParameterError, match="window"):
        est.transform([y])
    assert est.set_params(window="hann").transform([y]).shape == (1, 8, 20)


def test_verbose_progress_bar(capsys):
    X = MFCC(verbose=True).fit_transform([speechlike(4000), speechlike(2000)])
    assert X.shape[0] == 2
    assert "MFCC" in capsys.readouterr().err


def test_memory_caches_per_utterance_features(tmp_path, monkeypatch):
    calls = []
    original = MFCC._frames_of_waveform

    def counting(self, y):
        calls.append(len(y))
        return original(self, y)

    monkeypatch.setattr(MFCC, "_frames_of_waveform", counting)
    ys = [speechlike(4000), speechlike(6000, seed=1)]
    paths = []
    for i, y in enumerate(ys):
        paths.append(tmp_path / f"u{i}.wav")
        sf.write(paths[-1], y, 16000, subtype="FLOAT")
    cache = tmp_path / "cache"
    first = MFCC(memory=str(cache)).fit_transform(paths)
    assert len(calls) == 2 and len(list(cache.rglob("*.npz"))) == 2
    again = MFCC(memory=str(cache), verbose=True).fit_transform(paths)
    assert len(calls) == 2  # served from the cache, execution settings ignored
    assert_array_equal(again, first)
    other = MFCC(n_mfcc=13, memory=str(cache)).fit_transform(paths)
    assert len(calls) == 4 and other.shape[2] == 13
    arrays = MFCC(memory=str(cache)).fit_transform(ys)
    arrays_again = MFCC(memory=str(cache)).fit_transform(ys)
    assert len(calls) == 6
    assert_array_equal(arrays, arrays_again)
    sf.write(paths[0], ys[0] * 0.5, 16000, subtype="FLOAT")  # file changes: recompute
    MFCC(memory=str(cache)).fit_transform(paths)
    assert len(calls) == 7


# -- real speech ------------------------------------------------------------------
@pytest.mark.shared_data
def test_real_speech_emodb_and_ravdess(emodb_4class_files, ravdess_files):
    stereo = [f for f in ravdess_files[:60] if sf.info(f).channels == 2]
    assert stereo, "RAVDESS Actor_01 holds stereo files in this copy"
    files = [str(f) for f in emodb_4class_files[:3] + ravdess_files[:2] + stereo[:1]]
    X = MFCC(deltas=2).fit_transform(files)
    lengths = frame_lengths(X)
    for f, n in zip(files, lengths):
        assert n == 1 + int(round(sf.info(f).duration * 16000)) // 512
    for i, n in enumerate(lengths):
        assert np.all(np.isfinite(X[i, :n]))
    Xl = MFCC.light_sernet().fit_transform(files)
    assert Xl.shape == (6, 184, 40) and np.all(np.isfinite(Xl))
    assert np.all(np.isfinite(LowLevel(duration=2.0).fit_transform(files)))


@pytest.mark.shared_data
def test_real_speech_timnet_on_emodb_2s(emodb_2s_files):
    files = [str(f) for f in emodb_2s_files[:3]]
    X = MFCC.timnet(duration=96000 / 22050).fit_transform(files)
    assert X.shape == (3, 188, 39) and np.all(np.isfinite(X))
    y, file_sr = sf.read(files[0], dtype="float32")
    assert file_sr == 22050  # native rate: no resampling on either side
    pad = 96000 - len(y)
    ref = librosa.feature.mfcc(y=np.pad(y, (pad // 2, pad - pad // 2)), sr=22050, n_mfcc=39)
    assert_allclose(X[0], ref.T, atol=1e-3)
