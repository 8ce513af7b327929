"""OpenSMILE: openSMILE's feature sets (eGeMAPS functionals by default) as a transformer."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import skser
from skser import load_audio
from skser.exceptions import ParameterError
from skser.features import OpenSMILE, frame_lengths
from skser.features._base import _validate_values
from skser.features._opensmile import _smile

from conftest import make_tone

HAVE_OPENSMILE = importlib.util.find_spec("opensmile") is not None
needs_opensmile = pytest.mark.skipif(
    not HAVE_OPENSMILE, reason='the optional opensmile package is not installed (pip install "skser[opensmile]")'
)

_N_FEATURES_IN = (
    "audio rows are waveforms of any length: n_features_in_ has no meaning, "
    "the number of samples per row may change between fit and transform"
)


@needs_opensmile
@parametrize_with_checks(
    [OpenSMILE()],  # the LLD layout is that of the frame transformers, tested below
    expected_failed_checks=lambda est: {
        "check_n_features_in": _N_FEATURES_IN,
        "check_n_features_in_after_fitting": _N_FEATURES_IN,
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@needs_opensmile
def test_egemaps_functionals_match_opensmile_on_a_file(tmp_path):
    import opensmile

    path = tmp_path / "tone.wav"
    sf.write(path, make_tone(180, 1.0, 16000), 16000, subtype="FLOAT")
    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    expected = smile.process_file(str(path)).to_numpy(dtype=np.float32)

    X = OpenSMILE().fit_transform([path])

    assert X.shape == (1, 88) and X.dtype == np.float32
    assert_allclose(X, expected, rtol=1e-5, atol=1e-5)
    names = OpenSMILE().get_feature_names_out()
    assert names.shape == (88,) and names[0] == "F0semitoneFrom27.5Hz_sma3nz_amean"
    f0_mean = X[0, list(names).index("F0semitoneFrom27.5Hz_sma3nz_amean")]
    assert f0_mean == pytest.approx(12 * np.log2(180 / 27.5), abs=0.5)  # semitones re 27.5 Hz


@needs_opensmile
def test_paths_are_resampled_to_sr_and_arrays_taken_at_sr(audio_dir):
    path = audio_dir / "b.flac"  # 22.05 kHz
    for sr in (16000, 22050):
        from_path = OpenSMILE(sr=sr).fit_transform([path])
        from_array = OpenSMILE(sr=sr).fit_transform([load_audio(path, sr=sr)])
        assert_array_equal(from_path, from_array)
    assert not np.allclose(OpenSMILE(sr=16000).fit_transform([path]),
                           OpenSMILE(sr=22050).fit_transform([path]))


@needs_opensmile
def test_low_level_descriptors_are_nan_padded_frames():
    long, short = make_tone(200, 1.0), make_tone(200, 0.3)
    X = OpenSMILE(feature_level="lld").fit_transform([long, short])
    names = OpenSMILE(feature_level="lld").get_feature_names_out()

    assert X.ndim == 3 and X.shape[2] == names.size == 25
    lengths = frame_lengths(X)
    assert lengths[0] > lengths[1] > 0  # 10 ms hop
    assert np.isnan(X[1, lengths[1]:]).all() and np.isfinite(X[1, : lengths[1]]).all()
    alone = OpenSMILE(feature_level="lld").fit_transform([short])
    assert_array_equal(alone[0], X[1, : lengths[1]])


@needs_opensmile
def test_other_feature_sets_and_very_short_audio():
    y = make_tone(150, 0.5)
    assert OpenSMILE("GeMAPSv01b").fit_transform([y]).shape == (1, 62)
    assert OpenSMILE("emobase", "lld_deltas").fit_transform([y]).shape[2] == 26
    tiny = OpenSMILE().fit_transform([y[:50]])  # padded to 0.1 s: finite, not NaN
    assert np.isfinite(tiny).all()


@needs_opensmile
def test_egemaps_svm_pipeline_in_a_grid_search():
    X = [make_tone(f, 0.4) for f in (120, 130, 140, 300, 320, 340) for _ in range(2)]
    X = [y + 0.01 * np.random.default_rng(i).standard_normal(y.size).astype(np.float32)
         for i, y in enumerate(X)]
    y = np.repeat(["low", "high"], 6)
    groups = np.tile([0, 1, 2], 4)
    pipe = make_pipeline(OpenSMILE(), StandardScaler(), SVC())
    search = GridSearchCV(pipe, {"svc__C": [0.1, 1.0]}, cv=GroupKFold(3)).fit(X, y, groups=groups)
    assert set(search.predict(X)) <= {"low", "high"}
    assert search.score(X, y) > 0.8


def test_a_feature_level_the_set_lacks_is_a_parameter_error():
    with pytest.raises(ParameterError, match="lld_deltas.*eGeMAPSv02.*'functionals', 'lld'"):
        OpenSMILE(feature_level="lld_deltas").fit([make_tone()])


@pytest.fixture
def no_opensmile(monkeypatch):
    """``import opensmile`` fails, and nothing cached from other tests hides it."""
    monkeypatch.setitem(sys.modules, "opensmile", None)
    _smile.cache_clear()
    _validate_values.cache_clear()
    yield
    _smile.cache_clear()
    _validate_values.cache_clear()


def test_without_opensmile_fit_and_transform_say_how_to_install(no_opensmile):
    est = OpenSMILE()
    with pytest.raises(ImportError, match=r'pip install "skser\[opensmile\]"'):
        est.fit([make_tone()])
    with pytest.raises(ImportError, match=r'pip install "skser\[opensmile\]"'):
        est.transform([make_tone()])


def test_importing_skser_does_not_import_opensmile():
    assert skser.OpenSMILE is OpenSMILE
    import subprocess

    code = "import sys, skser.features; print('opensmile' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
