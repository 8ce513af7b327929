"""The pooled four-corpus set (RAVDESS + CREMA-D + TESS + SAVEE, six emotions) on layout fixtures."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from test_datasets import DEMOGRAPHICS, write_audio

from skser.datasets import POOLED_EMOTIONS, load_pooled, load_ravdess


@pytest.fixture
def corpora(tmp_path) -> dict[str, Path]:
    """One tiny folder per corpus, each with emotions outside the six (calm, surprise)."""
    ravdess = tmp_path / "ravdess"
    for actor in (1, 2):
        for emo in ("01", "02", "03", "05", "08"):  # neutral calm happy angry surprise
            write_audio(ravdess / f"Actor_{actor:02d}" / f"03-01-{emo}-01-01-01-{actor:02d}.wav")
    cremad = tmp_path / "cremad"
    for name in ("1001_DFA_ANG_XX", "1001_IEO_HAP_LO", "1002_TIE_NEU_XX", "1091_IOM_FEA_XX",
                 "1091_WSI_DIS_XX"):
        write_audio(cremad / "AudioWAV" / f"{name}.wav")
    (cremad / "VideoDemographics.csv").write_text(DEMOGRAPHICS)
    tess = tmp_path / "tess"
    for spk in ("OAF", "YAF"):
        for emo in ("angry", "sad", "ps", "disgust"):
            write_audio(tess / f"{spk}_{'Pleasant_surprise' if emo == 'ps' else emo}"
                        / f"{spk}_back_{emo}.wav")
    savee = tmp_path / "savee"
    for spk in ("DC", "JE"):
        for code in ("a01", "su02", "n03", "f04"):
            write_audio(savee / "AudioData" / spk / f"{code}.wav")
    return {"ravdess": ravdess, "cremad": cremad, "tess": tess, "savee": savee}


def test_four_corpora(corpora):
    b = load_pooled(**corpora)
    counts = b.frame["corpus"].value_counts().to_dict()
    # ravdess: 2 actors x (neutral, happy, angry); cremad: 5; tess: 2 x 3; savee: 2 x 3
    assert counts == {"ravdess": 6, "cremad": 5, "tess": 6, "savee": 6}
    assert set(b.target) <= set(POOLED_EMOTIONS)
    assert "calm" not in set(b.target) and "surprise" not in set(b.target)
    assert b.corpora == ["ravdess", "cremad", "tess", "savee"] and b.missing == {}
    assert {"ravdess:01", "cremad:1001", "tess:OAF", "savee:DC"} <= set(b.groups)
    speakers_per_corpus = b.frame.groupby("speaker")["corpus"].nunique()
    assert (speakers_per_corpus == 1).all()
    for name in ("data", "target", "groups"):
        assert b[name].dtype == object and b[name].shape == (23,)
    # speaker-independent folds never share a speaker
    for tr, te in GroupKFold(n_splits=3).split(b.data, b.target, b.groups):
        assert not set(b.groups[tr]) & set(b.groups[te])
    assert "Missing" not in b.DESCR and "ravdess 6" in b.DESCR
    pickle.loads(pickle.dumps(b))
    X, y = load_pooled(**corpora, return_X_y=True)
    assert X.shape == y.shape == (23,)


def test_missing_corpora_are_reported(corpora):
    with pytest.warns(UserWarning, match="2 of the 4 corpora.*not given: tess, savee"):
        b = load_pooled(ravdess=corpora["ravdess"], cremad=corpora["cremad"])
    assert b.missing == {"tess": "not given", "savee": "not given"}
    assert b.corpora == ["ravdess", "cremad"]
    assert "Missing: tess, savee" in b.DESCR
    with pytest.warns(UserWarning, match="1 of the 4"):
        one = load_pooled(savee=corpora["savee"])
    assert set(one.groups) == {"savee:DC", "savee:JE"}
    with pytest.raises(ValueError, match="at least one corpus"):
        load_pooled()


def test_given_but_broken_folder_raises(corpora, tmp_path):
    with pytest.raises(FileNotFoundError):
        load_pooled(ravdess=corpora["ravdess"], tess=tmp_path / "nowhere")


@pytest.mark.shared_data
def test_real_ravdess_six_emotions(ravdess_files):
    root = ravdess_files[0].parent.parent
    with pytest.warns(UserWarning, match="1 of the 4"):
        b = load_pooled(ravdess=root)
    assert len(b.frame) == 1440 - 192 - 192  # calm and surprise dropped
    assert dict(b.frame["emotion"].value_counts()) == {
        "happiness": 192, "sadness": 192, "anger": 192, "fear": 192, "disgust": 192, "neutral": 96}
    assert len(set(b.groups)) == 24
    plain = load_ravdess(root, emotions=list(POOLED_EMOTIONS))
    np.testing.assert_array_equal(b.data, plain.data)
