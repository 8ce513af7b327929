"""predict_timeline and plot_timeline: streaming, labels over time, VAD, errors."""

# SPDX-License-Identifier: BSD-3-Clause

import tracemalloc
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from skser import MFCC, Functionals
from skser.exceptions import AudioInputError, ParameterError
from skser.timeline import plot_timeline, predict_timeline

matplotlib.use("Agg")

SR = 16000
LOW, HIGH = 300.0, 2000.0


def _tone(freq, seconds, sr=SR, amplitude=0.3):
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def tone_pipeline():
    """MFCC -> Functionals -> LogisticRegression telling a low from a high tone."""
    rng = np.random.default_rng(0)
    X, y = [], []
    for label, freq in (("low", LOW), ("high", HIGH)):
        for _ in range(6):
            clip = _tone(freq * rng.uniform(0.9, 1.1), 2.0, amplitude=rng.uniform(0.1, 0.5))
            X.append(clip + 0.01 * rng.standard_normal(clip.size).astype(np.float32))
            y.append(label)
    return make_pipeline(MFCC(n_mfcc=13), Functionals(), LogisticRegression(max_iter=500)).fit(
        X, y
    )


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """Stereo 22.05 kHz file: 6 s low tone, 4 s silence, 6 s high tone (16 s)."""
    sr = 22050
    silence = np.zeros(4 * sr, np.float32)
    mono = np.concatenate([_tone(LOW, 6.0, sr), silence, _tone(HIGH, 6.0, sr)])
    path = tmp_path_factory.mktemp("timeline") / "scene.wav"
    sf.write(path, np.stack([mono, mono], axis=1), sr, subtype="PCM_16")
    return path


def test_labels_follow_the_tones(tone_pipeline, scene):
    df = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, batch_size=4)
    assert list(df.columns) == ["start", "end", "speech", "rms_db", "label", "high", "low"]
    np.testing.assert_allclose(df["start"], np.arange(15.0))
    np.testing.assert_allclose(df["end"], np.arange(15.0) + 2.0)
    assert df.attrs["sr"] == SR and df.attrs["skipped"] == 0 and df["speech"].all()
    np.testing.assert_allclose(df[["high", "low"]].sum(axis=1), 1.0, atol=1e-6)
    assert (df.loc[df["end"] <= 6.0, "label"] == "low").all()
    assert (df.loc[df["start"] >= 10.0, "label"] == "high").all()
    assert (df.loc[df["end"] <= 6.0, "low"] > 0.9).all()


def test_batch_size_does_not_change_the_result(tone_pipeline, scene):
    one = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.5, batch_size=1)
    many = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.5, batch_size=64)
    pd.testing.assert_frame_equal(one, many)


def test_windows_match_predict_proba_on_the_same_slices(tone_pipeline, tmp_path):
    """Each row is predict_proba of that slice of the file (same rate: no resampling)."""
    rng = np.random.default_rng(1)
    y = np.concatenate([_tone(LOW, 3.0), _tone(HIGH, 2.5)])
    y = y + 0.01 * rng.standard_normal(y.size).astype(np.float32)
    path = tmp_path / "mono16k.flac"
    sf.write(path, y, SR, subtype="PCM_24")
    decoded = sf.read(path, dtype="float32")[0]
    df = predict_timeline(tone_pipeline, path, window=2.0, hop=0.75, batch_size=3)
    starts = np.arange(len(df)) * 0.75
    assert df["end"].iloc[-1] == pytest.approx(5.5)  # the last window is cut at the end
    assert df["end"].iloc[-2] < 5.5
    slices = [decoded[round(s * SR) : min(round(s * SR) + 2 * SR, y.size)] for s in starts]
    expected = tone_pipeline.predict_proba(slices)
    np.testing.assert_allclose(df[["high", "low"]].to_numpy(), expected, rtol=1e-5, atol=1e-7)


def test_hop_longer_than_window_skips_the_gaps(tone_pipeline, scene):
    df = predict_timeline(tone_pipeline, scene, window=1.0, hop=3.0)
    np.testing.assert_allclose(df["start"], [0.0, 3.0, 6.0, 9.0, 12.0, 15.0])
    np.testing.assert_allclose(df["end"], [1.0, 4.0, 7.0, 10.0, 13.0, 16.0])
    assert list(df["label"].iloc[[0, 1, 4, 5]]) == ["low", "low", "high", "high"]


@pytest.mark.parametrize("hop", [1.0, 3.0])
def test_compressed_file_reads_and_seeks_like_wav(tone_pipeline, scene, tmp_path, hop):
    """OGG/Vorbis: sequential reads (hop < window) and seeks (hop > window) work."""
    y, sr = sf.read(scene, dtype="float32")
    path = tmp_path / "scene.ogg"
    sf.write(path, y, sr, format="OGG", subtype="VORBIS")
    wav = predict_timeline(tone_pipeline, scene, window=1.0, hop=hop)
    ogg = predict_timeline(tone_pipeline, path, window=1.0, hop=hop)
    np.testing.assert_allclose(ogg["start"], wav["start"])
    np.testing.assert_allclose(ogg["end"], wav["end"], atol=1e-3)
    tones = wav["rms_db"] > -30.0
    assert tones.sum() >= 4
    assert (ogg.loc[tones, "label"] == wav.loc[tones, "label"]).all()


def test_file_shorter_than_window_is_one_window(tone_pipeline, tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, _tone(HIGH, 0.8), SR)
    df = predict_timeline(tone_pipeline, path, window=3.0, hop=1.0)
    assert len(df) == 1 and df["end"].iloc[0] == pytest.approx(0.8)
    assert df["label"].iloc[0] == "high"


def test_energy_vad_marks_silence_and_counts_it(tone_pipeline, scene):
    df = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad="energy")
    silent = (df["start"] >= 6.0) & (df["end"] <= 10.0)
    assert silent.sum() == 3
    assert (~df.loc[silent, "speech"]).all() and df.loc[~silent, "speech"].all()
    assert df.loc[silent, ["high", "low"]].isna().all().all()
    assert df.loc[silent, "label"].isna().all()
    assert df.attrs["skipped"] == 3 and len(df) == 15  # rows kept, never dropped
    # Only the scored rows are kept in the same state as without VAD.
    full = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0)
    np.testing.assert_allclose(df.loc[~silent, "low"], full.loc[~silent, "low"])
    # A threshold above the tones' level (-13.5 dB) skips everything.
    loud = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad="energy",
                            vad_threshold_db=-10.0)
    assert loud.attrs["skipped"] == 15 and loud["label"].isna().all()


def test_memory_is_bounded_for_a_ten_minute_file(tone_pipeline, tmp_path):
    """Peak Python allocations stay a small fraction of the decoded file."""
    path, file_sr = tmp_path / "ten_minutes.wav", 8000
    with sf.SoundFile(path, "w", samplerate=file_sr, channels=1, subtype="PCM_16") as out:
        for k in range(60):  # written 10 s at a time
            out.write(_tone(LOW if k % 2 else HIGH, 10.0, file_sr))
    decoded_bytes = 600 * SR * 4  # float32 at the pipeline's 16 kHz: 38.4 MB
    tracemalloc.start()
    try:
        df = predict_timeline(tone_pipeline, path, window=3.0, hop=3.0, batch_size=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(df) == 200
    assert peak < decoded_bytes / 10, f"peak {peak / 1e6:.1f} MB"
    # Windows inside one 10 s tone block are labelled by its tone.
    inside = df[(df["start"] % 10 <= 7.0) & (df["start"] % 10 >= 0.0)]
    block = (inside["start"] // 10).astype(int)
    assert (inside["label"] == np.where(block % 2, "low", "high")).mean() > 0.95


def test_plot_timeline_draws_one_line_per_class(tone_pipeline, scene):
    import matplotlib.pyplot as plt

    df = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad="energy")
    ax = plot_timeline(df)
    assert [line.get_label() for line in ax.get_lines()] == ["high", "low"]
    assert len(ax.patches) == 3  # one grey span a skipped window
    assert ax.get_xlabel() == "time (s)"
    _, given = plt.subplots()
    assert plot_timeline(df, ax=given, classes=["low"]) is given
    with pytest.raises(ParameterError, match="angry"):
        plot_timeline(df, classes=["angry"])
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window": 0.0}, "window"),
        ({"window": -1.0}, "window"),
        ({"hop": 0}, "hop"),
        ({"hop": float("nan")}, "hop"),
        ({"vad": "silero"}, "vad"),
        ({"vad_min_speech": 0.0}, "vad_min_speech"),
        ({"batch_size": 0}, "batch_size"),
        ({"sr": 0}, "sr"),
        ({"window": 1e-6}, "at least one sample"),
    ],
)
def test_bad_parameters_raise_parameter_error(tone_pipeline, scene, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        predict_timeline(tone_pipeline, scene, **kwargs)


def test_pipeline_without_predict_proba(scene):
    no_proba = make_pipeline(MFCC(), Functionals(), SVC())
    with pytest.raises(ParameterError, match="predict_proba"):
        predict_timeline(no_proba, scene)


def test_unfitted_pipeline(scene):
    with pytest.raises(NotFittedError):
        predict_timeline(make_pipeline(MFCC(), Functionals(), LogisticRegression()), scene)


def test_sr_must_be_given_when_the_pipeline_has_none(scene):
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit(np.zeros((2, 1)), ["a", "b"])
    with pytest.raises(ParameterError, match="sr=16000"):
        predict_timeline(model, scene)


def test_missing_file_is_named(tone_pipeline, tmp_path):
    missing = tmp_path / "nowhere.wav"
    with pytest.raises(FileNotFoundError, match="nowhere.wav"):
        predict_timeline(tone_pipeline, missing)


def test_nan_samples_name_the_time(tone_pipeline, tmp_path):
    y = _tone(LOW, 4.0)
    y[int(2.5 * SR)] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    with pytest.raises(AudioInputError, match=r"nan.wav.*1\.000-3\.000 s"):
        predict_timeline(tone_pipeline, path, window=2.0, hop=1.0)


def test_neural_pipeline_gets_the_same_windows(tmp_path):
    """Light-SERNet (fixed-length input) scores every window, the short last one too."""
    from skser import LightSERNet

    X = [_tone(freq, 3.0) for freq in (LOW, LOW, HIGH, HIGH)]
    pipe = make_pipeline(MFCC.light_sernet(), LightSERNet(max_epochs=1, batch_size=4))
    pipe.fit(X, ["low", "low", "high", "high"])
    y = np.concatenate([_tone(LOW, 4.0), _tone(HIGH, 3.5)])
    path = tmp_path / "scene16k.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    df = predict_timeline(pipe, path, window=3.0, hop=1.5, batch_size=2)
    assert df["end"].iloc[-1] == pytest.approx(7.5) and len(df) == 4
    slices = [y[round(s * SR) : round(s * SR) + 3 * SR] for s in df["start"]]
    np.testing.assert_allclose(df[["high", "low"]], pipe.predict_proba(slices), atol=1e-5)


# -- callable and TorchScript VAD ----------------------------------------------------------
def _loud(y, sample_rate):
    """A detector that answers with a boolean mask over 10 ms frames."""
    frames = y[: len(y) // 160 * 160].reshape(-1, 160)
    return np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) > 0.01


def test_callable_vad_gets_the_pipeline_input_and_skips_what_it_rejects(tone_pipeline, scene):
    seen = []

    def detector(y, sample_rate):
        seen.append((y.dtype, sample_rate, y.shape))
        return _loud(y, sample_rate)

    df = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad=detector)
    assert seen and all(s == (np.float32, SR, (2 * SR,)) for s in seen)  # resampled 22.05k
    energy = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad="energy")
    assert df["speech"].tolist() == energy["speech"].tolist()
    assert df.attrs["skipped"] == 3 and df.attrs["vad"] == "detector"
    np.testing.assert_allclose(df["low"], energy["low"])


def test_callable_vad_answers_bool_or_segments(tone_pipeline, scene):
    everything = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0,
                                  vad=lambda y, sample_rate: True)
    assert everything.attrs["skipped"] == 0
    # Half a second of speech in a 2 s window (25%), overlapping segments counted once.
    quarter = lambda y, sample_rate: [(0.0, 0.4), (0.2, 0.5), (3.0, 4.0)]
    skipped = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad=quarter)
    assert skipped.attrs["skipped"] == 15 and skipped["label"].isna().all()
    kept = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad=quarter,
                            vad_min_speech=0.25)
    assert kept.attrs["skipped"] == 0 and kept.attrs["vad_min_speech"] == 0.25
    none = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad=lambda y, s: [])
    assert none["speech"].sum() == 0


@pytest.mark.parametrize("answer", [np.array([0.2, 0.9]), "speech", np.zeros((2, 3))])
def test_callable_vad_with_a_wrong_answer(tone_pipeline, scene, answer):
    with pytest.raises(ParameterError, match=r"scene.wav' at 0.000-2.000 s.*boolean mask"):
        predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad=lambda y, s: answer)
    with pytest.raises(ParameterError, match="vad_min_speech"):
        predict_timeline(tone_pipeline, scene, vad=_loud, vad_min_speech=1.5)


@pytest.fixture(scope="module")
def scripted_vad(tmp_path_factory):
    """A tiny TorchScript VAD with Silero's interface: loud chunks are speech."""
    torch = pytest.importorskip("torch")

    class TinyVAD(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.resets = 0

        def forward(self, x: torch.Tensor, sr: int) -> torch.Tensor:
            assert x.shape[1] == 256 and sr == 8000
            return (x.square().mean(dim=1, keepdim=True).sqrt() > 0.01).float() * 0.9

        @torch.jit.export
        def reset_states(self) -> None:
            self.resets += 1

    path = tmp_path_factory.mktemp("vad") / "tiny_vad.pt"
    with warnings.catch_warnings():  # torch deprecates TorchScript; Silero still ships it
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.jit.save(torch.jit.script(TinyVAD()), str(path))
    return path


def test_torchscript_vad_from_a_local_file(tone_pipeline, scene, scripted_vad):
    import pickle

    from skser.timeline import TorchScriptVAD

    vad = TorchScriptVAD(scripted_vad, sample_rate=8000, frame_length=256)
    mask = vad(np.concatenate([np.zeros(SR, np.float32), _tone(LOW, 1.0)]), SR)
    assert mask.dtype == bool and mask.shape == (63,)  # 2 s at 8 kHz in chunks of 256
    assert not mask[:31].any() and mask[32:].all()  # 1 s of silence, then the tone
    df = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad=vad)
    energy = predict_timeline(tone_pipeline, scene, window=2.0, hop=1.0, vad="energy")
    assert df["speech"].tolist() == energy["speech"].tolist()
    assert vad._model.resets == 1 + len(df)  # state reset before every window
    assert df.attrs["vad"] == repr(vad)
    restored = pickle.loads(pickle.dumps(vad))
    assert restored._model is None and restored(_tone(LOW, 0.5), SR).all()


def test_torchscript_vad_errors(tmp_path):
    pytest.importorskip("torch")
    from skser.exceptions import ModelFileError
    from skser.timeline import TorchScriptVAD

    with pytest.raises(FileNotFoundError, match="does not download"):
        TorchScriptVAD(tmp_path / "silero_vad.jit")(_tone(LOW, 0.1), SR)
    (tmp_path / "not.jit").write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a TorchScript file"):
        TorchScriptVAD(tmp_path / "not.jit")(_tone(LOW, 0.1), SR)
    with pytest.raises(ParameterError, match="threshold"):
        TorchScriptVAD(tmp_path / "x", threshold=1.0)
    with pytest.raises(ParameterError, match="frame_length"):
        TorchScriptVAD(tmp_path / "x", frame_length=0)
