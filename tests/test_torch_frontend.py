"""The batched torch MFCC front end equals the numpy MFCC transformer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skser.exceptions import AudioInputError, ParameterError
from skser.features import MFCC, LogMel, MFCCModule
from skser.features._torch_frontend import _delta_operator

# Tolerances (absolute): float32 rounding of a different FFT. Light-SERNet's
# coefficients are clipped to +-10 and its log has a 1e-6 offset; TIM-Net's
# dB-scale coefficients reach several hundred (c0), hence its larger bound.
ATOL = {"light_sernet": 1e-4, "timnet": 5e-3}


def _signals(sr: int, durations, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for d in durations:
        n = int(round(d * sr))
        t = np.arange(n) / sr
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * t)
        y = envelope * (0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(n))
        out.append(y.astype(np.float32))
    return out


PRESETS = {
    "light_sernet": lambda: MFCC.light_sernet(duration=3.0),
    "timnet": lambda: MFCC.timnet(duration=96000 / 22050),
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_match_numpy_on_mixed_lengths(preset):
    mfcc = PRESETS[preset]()
    # Shorter (padded, percentile over real samples only), exact and longer (cropped).
    X = _signals(mfcc.sr, [1.2, mfcc.duration, 5.0, 0.3])
    expected = mfcc.fit_transform(X)
    got = MFCCModule.from_transformer(mfcc).transform(X, batch_size=3)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL[preset])


def test_forward_is_batched_and_row_independent():
    mfcc = MFCC.light_sernet(duration=1.0)
    module = MFCCModule.from_transformer(mfcc)
    X = np.stack(_signals(16000, [1.0, 1.0, 1.0], seed=3))
    with torch.no_grad():
        batch = module(torch.from_numpy(X))
        single = module(torch.from_numpy(X[1:2]))
    assert batch.shape == (3, 59, 40)
    torch.testing.assert_close(batch[1:2], single, rtol=0, atol=1e-5)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_onnx_style_stft_path_matches_fft_path(preset):
    mfcc = PRESETS[preset]().set_params(duration=1.0)
    module = MFCCModule.from_transformer(mfcc)
    x = torch.from_numpy(np.stack(_signals(mfcc.sr, [1.0, 1.0], seed=4)))
    with torch.no_grad():
        fft = module(x)
        module.use_fft = False
        dft = module(x)
    torch.testing.assert_close(dft, fft, rtol=0, atol=5e-4 if preset == "light_sernet" else 5e-3)


@pytest.mark.filterwarnings("ignore::skser.exceptions.AudioInputWarning")
@pytest.mark.parametrize(
    "overrides",
    [
        dict(deltas=2, cmvn=True, n_mfcc=13, n_frames=40, duration=None),
        dict(deltas=1, preemphasis=0.97, amplitude_norm="peak", pad_mode="reflect"),
        dict(power=1.5, log=None, clip=50.0, mel_scale="htk", window="hamming", win_length=400),
    ],
)
def test_other_supported_settings_match_numpy(overrides):
    params = dict(n_mfcc=20, sr=16000, duration=1.0, n_fft=512, hop_length=160)
    params.update(overrides)
    mfcc = MFCC(**params)
    X = _signals(16000, [0.7, 1.0, 1.6], seed=1)
    expected = mfcc.fit_transform(X)
    got = MFCCModule.from_transformer(mfcc).transform(X)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * scale + 1e-4)


def test_pickle_and_deepcopy_after_use():
    import copy
    import pickle

    module = MFCCModule.from_transformer(MFCC.light_sernet(duration=0.5))
    x = torch.from_numpy(np.stack(_signals(16000, [0.5] * 5, seed=2)))
    with torch.no_grad():
        expected = module(x)  # builds the sparse filterbank cache
        for clone in (pickle.loads(pickle.dumps(module)), copy.deepcopy(module)):
            torch.testing.assert_close(clone(x), expected, rtol=0, atol=0)


def test_delta_operator_is_librosa_delta():
    import librosa

    feats = np.random.default_rng(0).standard_normal((5, 20))
    ops = _delta_operator(20, 2, 9)
    np.testing.assert_allclose(feats @ ops[0], librosa.feature.delta(feats, axis=1), atol=1e-10)
    np.testing.assert_allclose(
        feats @ ops[1], librosa.feature.delta(feats, order=2, axis=1), atol=1e-10
    )


def test_unsupported_transformers_raise_parameter_error():
    with pytest.raises(ParameterError, match="duration"):
        MFCCModule.from_transformer(MFCC.timnet())
    with pytest.raises(ParameterError, match="pad_mode='symmetric'"):
        MFCCModule.from_transformer(MFCC(duration=1.0, pad_mode="symmetric"))
    with pytest.raises(ParameterError, match="LogMel"):
        MFCCModule.from_transformer(LogMel(duration=1.0))
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCCModule.from_transformer(MFCC(n_mfcc=200, duration=1.0))


def test_transform_of_no_waveforms_raises_audio_input_error():
    module = MFCCModule.from_transformer(MFCC.light_sernet(duration=0.5))
    with pytest.raises(AudioInputError, match="got 0 rows; pass at least one waveform"):
        module.transform([])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    mfcc = MFCC.timnet(duration=2.0)
    X = _signals(22050, [2.0, 1.0])
    cpu = MFCCModule.from_transformer(mfcc).transform(X)
    gpu = MFCCModule.from_transformer(mfcc).to("cuda").transform(X)
    np.testing.assert_allclose(gpu, cpu, rtol=0, atol=ATOL["timnet"])


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_speech_matches_numpy(emodb_4class_files, emodb_2s_files):
    from skser import load_audio

    for files, preset in [(emodb_4class_files, "light_sernet"), (emodb_2s_files, "timnet")]:
        mfcc = PRESETS[preset]()
        X = [load_audio(str(f), sr=mfcc.sr) for f in files[:6]]
        expected = mfcc.fit_transform(X)
        got = MFCCModule.from_transformer(mfcc).transform(X)
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL[preset])


# -- the CPU fast path: chunks, work buffers, blocks, two-stage top-k ---------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_forward_without_lengths_matches_numpy_for_any_chunking(preset):
    mfcc = PRESETS[preset]()
    X = np.stack(_signals(mfcc.sr, [mfcc.duration] * 5, seed=5))
    expected = mfcc.fit_transform(list(X))
    module = MFCCModule.from_transformer(mfcc)
    with torch.no_grad():
        for rows in (None, 1, 2, 100):
            module.cpu_rows_per_chunk = rows
            got = module(torch.from_numpy(X)).numpy()
            np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL[preset])


def test_largest_abs_is_topk_of_abs_values():
    from skser.features._torch_frontend import _largest_abs

    rng = np.random.default_rng(0)
    for n, k in [(48000, 49), (1000, 3), (16001, 17), (300, 299), (7, 1), (640, 10), (66150, 67)]:
        for values in (rng.standard_normal((3, n)), np.round(rng.standard_normal((3, n)) * 3),
                       np.concatenate([np.zeros((2, n - n // 3)), -rng.random((2, n // 3))], 1)):
            v = torch.from_numpy(values.astype(np.float32))
            assert torch.equal(_largest_abs(v, k), torch.topk(v.abs(), k, dim=1).values), (n, k)


def test_mel_blocks_are_the_dense_product():
    mfcc = MFCC(duration=1.0, n_fft=512, hop_length=160, mel_scale="htk", n_mels=40, fmin=300.0)
    for m in (mfcc, MFCC.light_sernet(duration=1.0), MFCC.timnet(duration=1.0)):
        module = MFCCModule.from_transformer(m)
        lo, hi = module._bins
        dense = module.mel_basis.numpy()
        assert not dense[:lo].any() and not dense[hi:].any()
        spec = torch.rand(2, 7, hi - lo)
        blocks = torch.cat([spec[..., a:b] @ module.mel_basis[lo + a : lo + b, s:e]
                            for s, e, a, b in module._mel_blocks], dim=-1)
        torch.testing.assert_close(blocks, spec @ module.mel_basis[lo:hi], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_autograd_path_equals_buffered_path_and_backpropagates(preset):
    # Gradients need fresh tensors (no shared work buffers, no out=): the
    # functional path must compute the same numbers.
    mfcc = PRESETS[preset]()
    module = MFCCModule.from_transformer(mfcc)
    x = torch.from_numpy(np.stack(_signals(mfcc.sr, [mfcc.duration] * 3, seed=6)))
    with torch.no_grad():
        expected = module(x)
    leaf = x.clone().requires_grad_(True)
    got = module(leaf)
    torch.testing.assert_close(got.detach(), expected, rtol=0, atol=1e-5)
    got.sum().backward()
    assert leaf.grad is not None and torch.isfinite(leaf.grad).all()
    assert leaf.grad.abs().sum() > 0


def test_inference_mode_no_grad_and_threads_give_the_same_features():
    from concurrent.futures import ThreadPoolExecutor

    module = MFCCModule.from_transformer(MFCC.light_sernet(duration=1.0))
    inputs = [torch.from_numpy(np.stack(_signals(16000, [1.0] * 6, seed=s))) for s in range(4)]
    with torch.no_grad():
        expected = [module(x) for x in inputs]
    with torch.inference_mode():
        assert all(torch.equal(module(x), e) for x, e in zip(inputs, expected))
    with torch.no_grad():  # buffers made in inference mode must not leak out of it
        assert all(torch.equal(module(x), e) for x, e in zip(inputs, expected))

    def run(i: int) -> bool:
        with torch.no_grad():
            return all(torch.equal(module(inputs[i % 4]), expected[i % 4]) for _ in range(5))

    with ThreadPoolExecutor(max_workers=4) as pool:  # one work buffer per thread
        assert all(pool.map(run, range(8)))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_accelerator_code_path_shapes_on_the_meta_device(preset):
    # The non-CPU branch (one dense mel product, plain top-k, no work buffers)
    # cannot run without a GPU; the meta device checks its shapes and dtypes.
    module = MFCCModule.from_transformer(PRESETS[preset]()).to("meta")
    x = torch.empty(3, module.n_samples, device="meta")
    out = module(x)
    assert out.shape == (3, module.n_frames, module.dct_basis.shape[1])
    assert out.dtype == torch.float32


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_row_groups_of_the_amplitude_scale_are_invisible(preset, monkeypatch):
    import skser.features._torch_frontend as frontend

    mfcc = PRESETS[preset]()
    X = _signals(mfcc.sr, [1.2, mfcc.duration, 5.0, 0.3], seed=7)
    module = MFCCModule.from_transformer(mfcc)
    expected = module.transform(X)
    monkeypatch.setattr(frontend, "_CPU_CHUNK_SAMPLES", 1000)  # one row per group and chunk
    np.testing.assert_allclose(module.transform(X), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(expected, mfcc.fit_transform(X), rtol=0, atol=ATOL[preset])


@pytest.mark.parametrize("overrides", [{}, dict(n_fft=1024, hop_length=300)])
@pytest.mark.parametrize("batch", [1, 3, 5])
def test_centred_frames_without_a_padded_copy_equal_the_padded_frames(overrides, batch):
    # TIM-Net's centring: interior frames from the rows, edge frames zero-padded.
    mfcc = MFCC.timnet(duration=1.0, **overrides)
    module = MFCCModule.from_transformer(mfcc)
    y = torch.from_numpy(np.stack(_signals(mfcc.sr, [1.0] * batch, seed=batch)))
    assert y.shape[1] == module.n_samples
    half = module.n_fft // 2
    expected = torch.nn.functional.pad(y, (half, half)).unfold(
        1, module.n_fft, module.hop_length) * module.window
    got = module._centred_frames_into({}, y)
    assert got.shape == expected.shape == (batch, module.n_frames, module.n_fft)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_rows_too_short_for_the_centred_frame_split_fall_back():
    mfcc = MFCC(sr=16000, n_fft=2048, hop_length=512, duration=0.1, n_mfcc=13)
    module = MFCCModule.from_transformer(mfcc)
    X = _signals(16000, [0.1, 0.1, 0.1], seed=8)
    assert module._centred_frames_into({}, torch.from_numpy(np.stack(X))) is None
    np.testing.assert_allclose(module.transform(np.stack(X)), mfcc.fit_transform(X),
                               rtol=0, atol=1e-3)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_transform_of_a_float32_array_equals_transform_of_its_rows(preset):
    # An array of the analysed length goes to torch without a stacked copy.
    mfcc = PRESETS[preset]()
    module = MFCCModule.from_transformer(mfcc)
    X = np.stack(_signals(mfcc.sr, [mfcc.duration] * 5, seed=9))
    assert X.dtype == np.float32 and X.shape[1] == module.n_samples
    for batch_size in (1, 2, 64):
        np.testing.assert_array_equal(module.transform(X, batch_size=batch_size),
                                      module.transform(list(X), batch_size=batch_size))
    np.testing.assert_array_equal(module.transform(X[:1]), module.transform(list(X[:1])))
    np.testing.assert_allclose(module.transform(X), mfcc.fit_transform(list(X)),
                               rtol=0, atol=ATOL[preset])


def test_cached_filterbank_blocks_follow_the_filterbank():
    mfcc = MFCC.light_sernet(duration=0.5)
    module = MFCCModule.from_transformer(mfcc)
    x = torch.from_numpy(np.stack(_signals(16000, [0.5] * 3, seed=10)))
    with torch.no_grad():
        expected = module(x)
        state = {k: v.clone() for k, v in module.state_dict().items()}
        module.mel_basis.mul_(2.0)  # in place: the cached blocks must be rebuilt
        doubled = module(x)
        assert not torch.allclose(doubled, expected)
        module.load_state_dict(state)
        torch.testing.assert_close(module(x), expected, rtol=0, atol=0)
        module.to(torch.float64).to(torch.float32)  # replaced buffers
        torch.testing.assert_close(module(x), expected, rtol=0, atol=0)
