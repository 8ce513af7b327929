"""The content-addressed feature cache (``memory=``) and ``extract_to_disk``.

Keys follow the content and the parameters (rename hits, parameter change
misses), entries are atomic (a crash mid-write leaves no readable partial
entry), re-runs resume, memory does not grow with the number of files, and the
extraction runs on a Dask LocalCluster.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import joblib
import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_array_equal

from skser import MFCC, LogMel
from skser.exceptions import AudioDecodeError, ParameterError
from skser.features import (
    CachedFeatures,
    FeatureCache,
    FeatureCacheWarning,
    Functionals,
    extract_to_disk,
)

SR = 16000


def _noise(n, seed):
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def _write(folder, n_files, seconds=0.5, prefix="u"):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_files):
        paths.append(str(folder / f"{prefix}{i}.wav"))
        sf.write(paths[-1], _noise(int(seconds * SR), i), SR, subtype="FLOAT")
    return paths


@pytest.fixture
def calls(monkeypatch):
    """Waveforms analysed by MFCC or LogMel (each computed row appends one)."""
    seen = []
    for cls in (MFCC, LogMel):
        original = cls._frames_of_waveform

        def counting(self, y, _original=original):
            seen.append(len(y))
            return _original(self, y)

        monkeypatch.setattr(cls, "_frames_of_waveform", counting)
    return seen


def _entries(folder):
    return sorted(p for p in Path(folder).rglob("*.npz") if not p.name.startswith(".tmp-"))


# -- keys -------------------------------------------------------------------------------
def test_renamed_or_moved_files_hit_and_parameter_changes_miss(tmp_path, calls):
    paths = _write(tmp_path / "corpus", 3)
    cache = tmp_path / "cache"
    first = MFCC(memory=str(cache)).fit_transform(paths)
    assert len(calls) == 3 and len(_entries(cache)) == 3

    moved = tmp_path / "elsewhere"
    moved.mkdir()
    renamed = [str(moved / f"renamed-{i}.wav") for i in range(3)]
    for old, new in zip(paths, renamed):
        os.replace(old, new)
    again = MFCC(memory=str(cache), n_jobs=1, verbose=0).fit_transform(renamed)
    assert len(calls) == 3  # content hash: moving and renaming still hit
    assert_array_equal(again, first)

    MFCC(n_mfcc=13, memory=str(cache)).fit_transform(renamed)
    assert len(calls) == 6  # a parameter change misses
    LogMel(memory=str(cache)).fit_transform(renamed)
    assert len(calls) == 9  # another transformer misses
    sf.write(renamed[0], _noise(SR // 2, 99), SR, subtype="FLOAT")
    MFCC(memory=str(cache)).fit_transform(renamed)
    assert len(calls) == 10  # new content misses; the two others hit
    assert len(_entries(cache)) == 10


def test_every_memory_spelling_is_the_same_cache(tmp_path, calls):
    ys = [_noise(4000, 0), _noise(6000, 1)]
    folder = tmp_path / "cache"
    reference = MFCC().fit_transform(ys)
    n_plain = len(calls)
    for memory in (str(folder), folder, FeatureCache(folder), joblib.Memory(folder, verbose=0)):
        assert_array_equal(MFCC(memory=memory).fit_transform(ys), reference)
    assert len(calls) == n_plain + 2  # computed once, then read back three times
    assert len(FeatureCache(folder)) == 2
    # The same samples in another dtype are other content: a miss, not a wrong hit.
    MFCC(memory=folder).fit_transform([y.astype(np.float64) for y in ys])
    assert len(calls) == n_plain + 4
    assert MFCC(memory=joblib.Memory(None)).fit_transform(ys).shape == reference.shape


def test_invalid_memory_and_errors_are_those_without_cache(tmp_path):
    with pytest.raises(ValueError, match="memory"):
        MFCC(memory=3).fit_transform([_noise(4000, 0)])
    with pytest.raises(ParameterError, match="folder path"):
        FeatureCache(3)
    missing = str(tmp_path / "missing.wav")
    with pytest.raises(FileNotFoundError, match=r"row 0 \('.*missing.wav'\) does not exist"):
        MFCC(memory=str(tmp_path / "c")).fit_transform([missing])
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    with pytest.raises(AudioDecodeError, match="bad.wav"):
        MFCC(memory=str(tmp_path / "c")).fit_transform([str(tmp_path / "bad.wav")])
    assert len(FeatureCache(tmp_path / "c")) == 0  # nothing stored for failed rows


# -- atomicity ------------------------------------------------------------------------
_CRASH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from skser import MFCC

    real_savez = np.savez
    written = []

    def crash_on_third(fh, **arrays):
        written.append(1)
        if len(written) == 3:  # half an entry reaches the disk, then the process dies
            fh.write(b"PK\\x03\\x04" + b"\\0" * 64)
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        real_savez(fh, **arrays)

    np.savez = crash_on_third
    MFCC(memory=sys.argv[1]).fit_transform(sys.argv[2:])
    """
)


def test_a_crash_mid_write_leaves_no_readable_partial_entry(tmp_path, calls):
    paths = _write(tmp_path / "corpus", 5)
    cache = tmp_path / "cache"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, str(cache), *paths],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1], check=False,
    )
    assert run.returncode == -9, run.stderr
    assert len(_entries(cache)) == 2  # the third entry never appeared
    assert len(list(cache.rglob(".tmp-*"))) == 1  # its half-written temporary file did

    resumed = MFCC(memory=str(cache)).fit_transform(paths)
    assert len(calls) == 3  # rows 2-4; rows 0-1 come from the other process's entries
    assert_array_equal(resumed, MFCC().fit_transform(paths))
    assert len(FeatureCache(cache)) == 5


def test_an_interrupted_write_in_process_removes_its_temporary_file(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path / "cache")

    def interrupted(fh, **arrays):
        fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        MFCC(memory=cache).fit_transform([_noise(4000, 0)])
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_corrupt_entry_is_reported_and_recomputed(tmp_path, calls):
    ys = [_noise(4000, 0), _noise(4000, 1)]
    cache = tmp_path / "cache"
    first = MFCC(memory=cache).fit_transform(ys)
    entry = _entries(cache)[0]
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the features
    entry.write_bytes(bytes(data))
    with pytest.warns(FeatureCacheWarning, match="cannot be read"):
        again = MFCC(memory=cache).fit_transform(ys)
    assert len(calls) == 3
    assert_array_equal(again, first)
    MFCC(memory=cache).fit_transform(ys)  # overwritten: read back without a warning
    assert len(calls) == 3


# -- extract_to_disk ------------------------------------------------------------------
def test_extract_to_disk_resumes_after_an_unreadable_file(tmp_path, calls):
    paths = _write(tmp_path / "corpus", 7)
    good = Path(paths[4]).read_bytes()
    Path(paths[4]).write_bytes(b"not audio at all")
    folder = tmp_path / "features"
    with pytest.raises(AudioDecodeError, match="row 4 .*u4.wav"):
        extract_to_disk(MFCC(), paths, folder, chunk_size=2)
    assert len(calls) == 4 and len(FeatureCache(folder)) == 4  # rows 0-3 kept

    Path(paths[4]).write_bytes(good)
    feats = extract_to_disk(MFCC(), paths, folder, chunk_size=2)
    assert feats.n_computed == 3 and len(calls) == 7  # only rows 4-6 computed
    assert feats.computed.tolist() == [False] * 4 + [True] * 3
    assert extract_to_disk(MFCC(), paths, folder).n_computed == 0

    expected = MFCC().fit_transform(paths)
    assert len(feats) == 7
    assert_array_equal(feats.to_array(), expected)
    assert_array_equal(feats[5], expected[5][~np.isnan(expected[5]).all(axis=1)])
    assert len(feats[1:3]) == 2
    blocks = list(feats.iter_chunks(3))
    assert [len(b) for b in blocks] == [3, 3, 1]
    pooled = np.vstack([Functionals().fit_transform(b) for b in feats.iter_chunks(3)])
    np.testing.assert_allclose(pooled, Functionals().fit_transform(expected), rtol=1e-6)
    table = feats.to_frame()
    assert table["source"].tolist() == paths and table["computed"].sum() == 3
    restored = pickle.loads(pickle.dumps(feats))
    assert_array_equal(restored[0], feats[0])
    assert "7 rows of MFCC" in repr(feats)


def test_extract_to_disk_input_checks(tmp_path):
    y = [_noise(4000, 0)]
    with pytest.raises(ParameterError, match="chunk_size"):
        extract_to_disk(MFCC(), y, tmp_path, chunk_size=0)
    with pytest.raises(ParameterError, match="audio transformer"):
        extract_to_disk(Functionals(), y, tmp_path)
    with pytest.raises(ValueError, match="n_mfcc"):
        extract_to_disk(MFCC(n_mfcc=0), y, tmp_path)
    feats = extract_to_disk(MFCC(), y, tmp_path / "c")
    assert isinstance(feats, CachedFeatures) and feats.sources == [None]
    FeatureCache(tmp_path / "c").clear()
    with pytest.raises(FileNotFoundError, match="run extract_to_disk again"):
        feats[0]


def test_extract_to_disk_memory_does_not_grow_with_the_number_of_files(tmp_path):
    paths = _write(tmp_path / "corpus", 32, seconds=3.0)
    transformer = LogMel(n_mels=128)  # 301 x 128 float32 = 150 kB a file

    def peak(func):
        tracemalloc.start()
        try:
            func()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    extract_to_disk(transformer, paths[:2], tmp_path / "warm-up")  # first-use caches
    few = peak(lambda: extract_to_disk(transformer, paths[:8], tmp_path / "few"))
    many = peak(lambda: extract_to_disk(transformer, paths, tmp_path / "many"))
    one_file = transformer.fit_transform(paths[:1]).nbytes
    in_memory_few = peak(lambda: transformer.fit_transform(paths[:8]))
    in_memory_many = peak(lambda: transformer.fit_transform(paths))
    # transform holds every row (24 more rows: > 1.1 MB more measured); extract_to_disk
    # holds one key per row (8 kB more measured).
    assert in_memory_many - in_memory_few > 12 * one_file
    assert many - few < 2 * one_file, (few, many, one_file)


def test_extract_to_disk_in_parallel_processes(tmp_path):
    paths = _write(tmp_path / "corpus", 6)
    feats = extract_to_disk(MFCC(), paths, tmp_path / "c", n_jobs=2, chunk_size=2)
    assert feats.n_computed == 6
    assert_array_equal(feats.to_array(), MFCC().fit_transform(paths))


def test_extract_to_disk_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="Dask tests need the 'dask' extra: pip install 'skser[dask]'"
    )
    paths = _write(tmp_path / "corpus", 8)
    folder = tmp_path / "features"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
        host="127.0.0.1", dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            feats = extract_to_disk(MFCC(n_mfcc=13), paths, folder, n_jobs=2, chunk_size=2)
        assert len(stream.data) > 0  # the chunks went through the cluster
        with joblib.parallel_backend("dask"):
            again = extract_to_disk(MFCC(n_mfcc=13), paths, folder, n_jobs=2, chunk_size=2)
    assert feats.n_computed == 8 and again.n_computed == 0
    assert len(FeatureCache(folder)) == 8
    assert_array_equal(feats.to_array(), MFCC(n_mfcc=13).fit_transform(paths))


@pytest.mark.parametrize("spelling", [FeatureCache, Path, str])
def test_a_model_with_a_feature_cache_saves_and_loads_without_it(tmp_path, spelling):
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from skser.io import load, save

    ys, labels = [_noise(4000, i) for i in range(6)], ["a", "b"] * 3
    model = make_pipeline(MFCC(memory=spelling(tmp_path / "c")), Functionals(), SVC())
    model.fit(ys, labels)
    with pytest.warns(UserWarning, match="caching turned off"):
        loaded = load(save(model, tmp_path / "m.skser"))
    assert loaded[0].memory is None and model[0].memory is not None
    assert_array_equal(loaded.predict(ys), model.predict(ys))
