"""Corpus loaders on tiny layout fixtures (every corpus) and on the shared real copies."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import csv
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from skser.datasets import (
    EMOTIONS,
    CorpusLayoutError,
    LabelFileError,
    UnmatchedFilesWarning,
    combine,
    load_cremad,
    load_emodb,
    load_folder,
    load_iemocap,
    load_msp_podcast,
    load_ravdess,
    load_savee,
    load_table,
    load_tess,
)
from skser.exceptions import InputError, ParameterError

_RNG = np.random.default_rng(0)


def write_audio(path: Path, n: int = 80, sr: int = 16000) -> Path:
    """A few milliseconds of noise under ``path`` (format from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.1 * _RNG.standard_normal(n)).astype(np.float32), sr)
    return path


@contextlib.contextmanager
def no_warnings():
    """Turn every warning into an error inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def path_features(paths):
    """Trivial features computed from the path strings (no decoding)."""
    return np.array([[len(str(p)), str(p).count("0"), hash(Path(p).stem) % 97] for p in paths],
                    dtype=float)


def assert_sklearn_ready(bunch, cv=None):
    """data/target/groups are object ndarrays usable by cross_val_predict."""
    for name in ("data", "target", "groups"):
        arr = bunch[name]
        assert isinstance(arr, np.ndarray) and arr.dtype == object, name
        assert arr.shape == (len(bunch.frame),)
    model = make_pipeline(FunctionTransformer(path_features),
                          DecisionTreeClassifier(random_state=0))
    cv = cv or GroupKFold(n_splits=2)
    pred = cross_val_predict(model, bunch.data, bunch.target, groups=bunch.groups, cv=cv)
    assert pred.shape == bunch.target.shape and set(pred) <= set(bunch.target)
    # The frame's (Arrow-backed under pandas 3) columns work as well.
    f = bunch.frame
    pred = cross_val_predict(model, f["path"], f["emotion"], groups=f["speaker"], cv=cv)
    assert len(pred) == len(f)


def test_vocabulary():
    assert EMOTIONS == ("anger", "boredom", "calm", "contempt", "disgust", "excitement",
                        "fear", "frustration", "happiness", "neutral", "sadness",
                        "surprise", "other")


# --------------------------------------------------------------------- EMO-DB
@pytest.fixture
def emodb_dir(tmp_path):
    root = tmp_path / "emodb"
    for name in ("03a01Fa.wav", "03a02Wb.wav", "08b01Lc.flac", "08a05Ab.wav", "16b10Ec.wav",
                 "16a07Ta.wav", "10a04Na.wav"):
        write_audio(root / "wav" / name)
    (root / "erkennung.txt").write_text("Nr.\tSatz\n")
    (root / "lablaut").mkdir()
    (root / "lablaut" / "03a01Fa.lab").write_text("x")
    return root


def test_emodb_layout(emodb_dir):
    with no_warnings():
        b = load_emodb(emodb_dir)
    f = b.frame.set_index(b.frame["path"].map(lambda p: Path(p).name))
    assert len(f) == 7
    assert f.loc["03a01Fa.wav", "emotion"] == "happiness"
    assert f.loc["08b01Lc.flac", "emotion"] == "boredom"
    assert f.loc["08a05Ab.wav", "emotion"] == "fear"
    assert f.loc["16b10Ec.wav", "emotion"] == "disgust"
    assert f.loc["16a07Ta.wav", "emotion"] == "sadness"
    assert f.loc["03a02Wb.wav", "emotion"] == "anger"
    assert f.loc["10a04Na.wav", "emotion"] == "neutral"
    assert f.loc["08b01Lc.flac", "speaker"] == "08"
    assert f.loc["08b01Lc.flac", "gender"] == "female"
    assert f.loc["03a01Fa.wav", "gender"] == "male"
    assert f.loc["03a01Fa.wav", "text"] == "Der Lappen liegt auf dem Eisschrank."
    assert list(b.frame.columns[:4]) == ["path", "emotion", "speaker", "corpus"]
    assert set(b.target_names) == {"happiness", "anger", "boredom", "fear", "disgust",
                                   "sadness", "neutral"}
    assert "Langeweile" in b.DESCR and "CC0" in b.DESCR
    X, y = load_emodb(emodb_dir, return_X_y=True)
    assert X.dtype == object and y.dtype == object and len(X) == 7
    assert pickle.loads(pickle.dumps(b)).frame.equals(b.frame)


def test_emodb_emotions_and_mapping(emodb_dir):
    b = load_emodb(emodb_dir, emotions=["anger", "neutral"], mapping={"boredom": "neutral"})
    assert sorted(b.target) == ["anger", "neutral", "neutral"]
    with pytest.raises(ParameterError, match="not in the skser emotion vocabulary"):
        load_emodb(emodb_dir, mapping={"angry": "anger"})
    with pytest.raises(ParameterError, match="neither in the skser vocabulary"):
        load_emodb(emodb_dir, emotions=["joy"])
    with pytest.raises(ParameterError, match=r"got the string 'anger'; write emotions=\['anger'\]"):
        load_emodb(emodb_dir, emotions="anger")
    with pytest.raises(ParameterError, match="path must be the corpus folder, got None"):
        load_emodb(None)
    with pytest.raises(ValueError, match="no utterance has one of the emotions"):
        load_emodb(emodb_dir, emotions=["calm"])


def test_unmatched_files_warn_once_with_count(emodb_dir):
    for name in ("notes.wav", "03x01Fa.wav", "99a01Fa.wav", "03a01Za.wav"):
        write_audio(emodb_dir / "extra" / name)
    with pytest.warns(UnmatchedFilesWarning) as record:
        b = load_emodb(emodb_dir)
    assert len(record) == 1
    msg = str(record[0].message)
    assert "4 audio file(s)" in msg and "03x01Fa.wav" in msg and "1 more" in msg
    assert len(b.frame) == 7


def test_duplicate_copies_warn_and_keep_first(emodb_dir, tmp_path):
    write_audio(emodb_dir / "wav" / "03a01Fa.flac")  # same utterance, second format
    with pytest.warns(UnmatchedFilesWarning, match="1 audio file.*repeat an utterance"):
        b = load_emodb(emodb_dir)
    assert len(b.frame) == 7
    assert b.frame["path"].str.contains("03a01Fa").sum() == 1
    # The Kaggle TESS copy nests a second full copy of the corpus.
    top = tmp_path / "tess" / "TESS data"
    for folder in (top, top / "TESS data"):
        write_audio(folder / "OAF_angry" / "OAF_back_angry.wav")
        write_audio(folder / "YAF_sad" / "YAF_back_sad.wav")
    with pytest.warns(UnmatchedFilesWarning, match="2 audio file.*repeat"):
        assert len(load_tess(tmp_path / "tess").frame) == 2


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(CorpusLayoutError, match=r"does not exist(.|\n)*Actor_01"):
        load_ravdess(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(CorpusLayoutError, match="no utterance"):
        load_emodb(tmp_path / "empty")
    f = write_audio(tmp_path / "a.wav")
    with pytest.raises(CorpusLayoutError, match="is a file"):
        load_tess(f)


# -------------------------------------------------------------------- RAVDESS
@pytest.fixture
def ravdess_dir(tmp_path):
    root = tmp_path / "ravdess"
    for actor in (1, 2, 3, 4):
        for emo in ("01", "05"):
            for statement in ("01", "02"):
                intensity = "01" if emo == "01" else "02"
                write_audio(root / f"Actor_{actor:02d}"
                            / f"03-01-{emo}-{intensity}-{statement}-01-{actor:02d}.wav")
    write_audio(root / "Actor_01" / "03-02-03-01-01-01-01.wav")  # song
    return root


def test_ravdess_layout(ravdess_dir):
    with no_warnings():
        b = load_ravdess(ravdess_dir)
    f = b.frame
    assert len(f) == 16 and set(f["vocal_channel"]) == {"speech"}
    assert set(f["emotion"]) == {"neutral", "anger"}
    assert (f.loc[f["speaker"] == "01", "gender"] == "male").all()
    assert (f.loc[f["speaker"] == "04", "gender"] == "female").all()
    assert set(f.loc[f["emotion"] == "anger", "intensity"]) == {"strong"}
    assert set(f["statement"]) == {"Kids are talking by the door", "Dogs are sitting by the door"}
    assert set(b.groups) == {"01", "02", "03", "04"}
    assert len(load_ravdess(ravdess_dir, vocal_channel="both").frame) == 17
    song = load_ravdess(ravdess_dir, vocal_channel="song")
    assert song.target.tolist() == ["happiness"]
    with pytest.raises(ValueError, match="vocal_channel"):
        load_ravdess(ravdess_dir, vocal_channel="speak")
    assert_sklearn_ready(b)
    assert_sklearn_ready(b, cv=LeaveOneGroupOut())


def test_ravdess_bad_names_warn(ravdess_dir):
    write_audio(ravdess_dir / "Actor_02" / "03-01-09-01-01-01-02.wav")  # emotion 09
    write_audio(ravdess_dir / "Actor_02" / "03-01-01-01-01-01-25.wav")  # actor 25
    with pytest.warns(UnmatchedFilesWarning, match="2 audio file"):
        assert len(load_ravdess(ravdess_dir).frame) == 16


# -------------------------------------------------------------------- CREMA-D
CREMAD_SAMPLE = ["1001_DFA_ANG_XX", "1001_IEO_HAP_LO", "1001_IEO_HAP_MD", "1001_IEO_HAP_HI",
                 "1002_TIE_NEU_XX", "1002_ITS_SAD_XX", "1091_WSI_DIS_XX", "1091_IOM_FEA_XX"]
DEMOGRAPHICS = ('"ActorID","Age","Sex","Race","Ethnicity"\n'
                '1001,51,"Male","Caucasian","Not Hispanic"\n'
                '1002,21,"Female","Caucasian","Not Hispanic"\n'
                '1091,29,"Female","Asian","Not Hispanic"\n')


def _cremad(root: Path, names) -> Path:
    for n in names:
        write_audio(root / "AudioWAV" / f"{n}.wav")
    (root / "VideoDemographics.csv").write_text(DEMOGRAPHICS)
    return root


def test_cremad_layout(tmp_path):
    root = _cremad(tmp_path / "cremad", CREMAD_SAMPLE)
    with no_warnings():
        b = load_cremad(root)
    f = b.frame.set_index(b.frame["path"].map(lambda p: Path(p).stem))
    assert f.loc["1001_IEO_HAP_LO", "intensity"] == "low"
    assert f.loc["1001_IEO_HAP_HI", "intensity"] == "high"
    assert f.loc["1001_DFA_ANG_XX", "intensity"] == "unspecified"
    assert f.loc["1001_DFA_ANG_XX", "text"] == "Don't forget a jacket"
    assert f.loc["1001_DFA_ANG_XX", "gender"] == "male"
    assert f.loc["1002_TIE_NEU_XX", "age"] == 21
    assert f.loc["1091_IOM_FEA_XX", "emotion"] == "fear"
    assert f.loc["1091_WSI_DIS_XX", "emotion"] == "disgust"
    assert set(b.groups) == {"1001", "1002", "1091"}
    assert_sklearn_ready(b)


def test_cremad_real_names(shared_data, tmp_path):
    names_csv = shared_data / "crema-d-metadata" / "SentenceFilenames.csv"
    if not names_csv.is_file():
        pytest.skip(f"{names_csv} is absent")
    with open(names_csv, newline="") as fh:
        names = [row["Filename"] for row in csv.DictReader(fh)]
    assert len(names) == 7442
    sample = names[::120]  # 63 real names spread over the actors
    root = tmp_path / "cremad"
    for n in sample:
        write_audio(root / "AudioWAV" / f"{n}.wav", n=16)
    demo = shared_data / "crema-d-metadata" / "VideoDemographics.csv"
    with no_warnings():
        b = load_cremad(root, demographics=demo)
    assert len(b.frame) == len(sample)
    assert set(b.frame["gender"]) <= {"male", "female"}
    assert b.frame["age"].between(20, 74).all()


def test_cremad_demographics_missing_actor(tmp_path):
    root = _cremad(tmp_path / "cremad", ["1050_DFA_ANG_XX"])
    with pytest.raises(LabelFileError, match="1050"):
        load_cremad(root)


# ----------------------------------------------------------------------- TESS
def test_tess_folder_layout_and_quirks(tmp_path):
    root = tmp_path / "TESS Toronto emotional speech set data"
    write_audio(root / "OAF_angry" / "OAF_back_angry.wav")
    write_audio(root / "OAF_Pleasant_surprise" / "OAF_bar_ps.wav")
    write_audio(root / "YAF_pleasant_surprised" / "YAF_base_ps.wav")
    write_audio(root / "OAF_Fear" / "OAF_bath_fear.wav")
    write_audio(root / "YAF_sad" / "yaf_bean_Sad.wav")
    write_audio(root / "YAF_neutral" / "YAF_bite_neutral.wav")
    write_audio(root / "YAF_happy" / "YAF_book_happy.wav")
    write_audio(root / "YAF_disgust" / "YAF_boat_disgust.wav")
    with no_warnings():
        b = load_tess(tmp_path)
    f = b.frame.set_index(b.frame["path"].map(lambda p: Path(p).stem))
    assert f.loc["OAF_bar_ps", "emotion"] == "surprise"
    assert f.loc["YAF_base_ps", "emotion"] == "surprise"
    assert f.loc["yaf_bean_Sad", "emotion"] == "sadness"
    assert f.loc["yaf_bean_Sad", "speaker"] == "YAF"
    assert f.loc["OAF_back_angry", "word"] == "back"
    assert f.loc["OAF_back_angry", "age"] == 64
    assert set(b.target) == {"anger", "surprise", "fear", "sadness", "neutral", "happiness",
                             "disgust"}
    # An emotion token that is no known spelling: labelled from the folder, with a warning.
    write_audio(root / "YAF_fear" / "YAF_chain_feer.wav")
    with pytest.warns(UnmatchedFilesWarning, match="labelled from their folder"):
        b = load_tess(tmp_path)
    feer = b.frame["path"].str.endswith("YAF_chain_feer.wav")
    assert b.frame.loc[feer, "emotion"].item() == "fear"


def test_tess_flat_layout(tmp_path):
    for n in ("OAF_back_angry", "OAF_back_ps", "YAF_back_sad", "YAF_back_neutral"):
        write_audio(tmp_path / f"{n}.wav")
    write_audio(tmp_path / "YAF_back_weird.wav")  # no folder to fall back on
    with pytest.warns(UnmatchedFilesWarning, match="1 audio file"):
        b = load_tess(tmp_path)
    assert sorted(b.target) == ["anger", "neutral", "sadness", "surprise"]
    assert set(b.groups) == {"OAF", "YAF"}


# ---------------------------------------------------------------------- SAVEE
@pytest.mark.parametrize("flat", [False, True])
def test_savee_layouts(tmp_path, flat):
    codes = ["a01", "d02", "f03", "h04", "n30", "sa05", "su15"]
    for spk in ("DC", "JE", "JK", "KL"):
        for c in codes:
            write_audio(tmp_path / (f"{spk}_{c}.wav" if flat else f"AudioData/{spk}/{c}.wav"))
    with no_warnings():
        b = load_savee(tmp_path)
    assert len(b.frame) == 28
    f = b.frame.set_index(b.frame["path"].map(lambda p: Path(p).relative_to(tmp_path).as_posix()))
    key = "JK_sa05.wav" if flat else "AudioData/JK/sa05.wav"
    assert f.loc[key, "emotion"] == "sadness" and f.loc[key, "speaker"] == "JK"
    key = "KL_su15.wav" if flat else "AudioData/KL/su15.wav"
    assert f.loc[key, "emotion"] == "surprise"
    assert set(b.target) == {"anger", "disgust", "fear", "happiness", "neutral", "sadness",
                             "surprise"}
    assert_sklearn_ready(b)


def test_savee_missing_says_how_to_obtain(tmp_path):
    with pytest.raises(CorpusLayoutError, match="registration"):
        load_savee(tmp_path / "missing")


# -------------------------------------------------------------------- IEMOCAP
_IEMOCAP_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"


def _iemocap_block(utt, code, start=1.0):
    return (f"[{start:.4f} - {start + 2:.4f}]\t{utt}\t{code}\t[2.5000, 3.0000, 3.5000]\n"
            "C-E2:\tNeutral;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n")


@pytest.fixture
def iemocap_dir(tmp_path):
    root = tmp_path / "IEMOCAP_full_release"
    utts = {
        ("Session1", "Ses01F_impro01"): [("Ses01F_impro01_F000", "neu"),
                                         ("Ses01F_impro01_M000", "exc"),
                                         ("Ses01F_impro01_F001", "xxx"),
                                         ("Ses01F_impro01_M001", "fru")],
        ("Session1", "Ses01M_script01_1"): [("Ses01M_script01_1_F000", "ang"),
                                            ("Ses01M_script01_1_M000", "hap")],
        ("Session2", "Ses02F_script02_2"): [("Ses02F_script02_2_F000", "sad"),
                                            ("Ses02F_script02_2_M010", "oth")],
    }
    for (session, dialog), rows in utts.items():
        blocks = (_iemocap_block(u, c, i * 3.0) for i, (u, c) in enumerate(rows))
        text = _IEMOCAP_HEADER + "".join(blocks)
        evaluation = root / session / "dialog" / "EmoEvaluation"
        evaluation.mkdir(parents=True, exist_ok=True)
        (evaluation / f"{dialog}.txt").write_text(text)
        (evaluation / "Categorical").mkdir(exist_ok=True)
        (evaluation / "Categorical" / f"{dialog}_e1_cat.txt").write_text("junk without brackets\n")
        transcripts = root / session / "dialog" / "transcriptions"
        transcripts.mkdir(parents=True, exist_ok=True)
        (transcripts / f"{dialog}.txt").write_text(
            "".join(f"{u} [001.0000-003.0000]: Hello {u[-4:]}.\n" for u, _ in rows))
        for u, _ in rows:
            write_audio(root / session / "sentences" / "wav" / dialog / f"{u}.wav")
    return root


def test_iemocap_layout(iemocap_dir):
    with pytest.warns(UserWarning, match="1 utterance.*'xxx'") as record:
        b = load_iemocap(iemocap_dir.parent)
    assert len(record) == 1
    f = b.frame.set_index("utterance")
    assert len(f) == 7
    assert f.loc["Ses01F_impro01_M000", "speaker"] == "Ses01M"
    assert f.loc["Ses01F_impro01_M000", "gender"] == "male"
    assert f.loc["Ses01F_impro01_F000", "speaker"] == "Ses01F"
    assert f.loc["Ses01M_script01_1_F000", "speaker"] == "Ses01F"
    assert f.loc["Ses02F_script02_2_M010", "speaker"] == "Ses02M"
    assert f.loc["Ses01F_impro01_F000", "mode"] == "improvised"
    assert f.loc["Ses01M_script01_1_F000", "mode"] == "scripted"
    assert f.loc["Ses01M_script01_1_F000", "dialog"] == "Ses01M_script01_1"
    assert f.loc["Ses01F_impro01_M000", "emotion"] == "excitement"
    assert f.loc["Ses02F_script02_2_M010", "emotion"] == "other"
    assert f.loc["Ses01F_impro01_F000", "valence"] == 2.5
    assert f.loc["Ses01F_impro01_F000", "dominance"] == 3.5
    assert f.loc["Ses02F_script02_2_F000", "session"] == 2
    assert f.loc["Ses01F_impro01_F000", "text"] == "Hello F000."
    assert set(b.groups) == {"Ses01F", "Ses01M", "Ses02F", "Ses02M"}
    assert_sklearn_ready(b)


def test_iemocap_unagreed_and_four_class(iemocap_dir):
    with no_warnings():
        b = load_iemocap(iemocap_dir, include_unagreed=True)
    assert len(b.frame) == 8
    assert b.frame.loc[b.frame["code"] == "xxx", "emotion"].item() == "other"
    with no_warnings():  # "other" not requested: no warning about xxx
        b = load_iemocap(iemocap_dir, emotions=["anger", "happiness", "neutral", "sadness"],
                         mapping={"excitement": "happiness"})
    assert sorted(b.target) == ["anger", "happiness", "happiness", "neutral", "sadness"]


def test_iemocap_bad_label_line(iemocap_dir):
    bad = iemocap_dir / "Session2" / "dialog" / "EmoEvaluation" / "Ses02F_script02_2.txt"
    lines = bad.read_text().splitlines(keepends=True)
    lines.insert(3, "[1.0 - 2.0]\tSes02F_script02_2_F001\n")
    bad.write_text("".join(lines))
    with pytest.raises(LabelFileError, match=r"Ses02F_script02_2.txt, line 4"):
        load_iemocap(iemocap_dir)


def test_iemocap_audio_without_label_and_label_without_audio(iemocap_dir):
    write_audio(iemocap_dir / "Session1" / "sentences" / "wav" / "Ses01F_impro01"
                / "Ses01F_impro01_F099.wav")
    (iemocap_dir / "Session1" / "sentences" / "wav" / "Ses01F_impro01"
     / "Ses01F_impro01_F000.wav").unlink()
    with pytest.warns(UnmatchedFilesWarning) as record:
        b = load_iemocap(iemocap_dir, include_unagreed=True)
    messages = " ".join(str(r.message) for r in record)
    assert "F099" in messages and "F000" in messages
    assert len(b.frame) == 7


def test_iemocap_missing_labels(tmp_path):
    write_audio(tmp_path / "Session1" / "sentences" / "wav" / "d" / "Ses01F_impro01_F000.wav")
    with pytest.raises(CorpusLayoutError, match="sail.usc.edu"):
        load_iemocap(tmp_path)


# ---------------------------------------------------------------- MSP-Podcast
_MSP_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"


@pytest.fixture
def msp_dir(tmp_path):
    rows = [("MSP-PODCAST_0001_0008.wav", "N", 4.2, 4.0, 4.4, "127", "Female", "Train"),
            ("MSP-PODCAST_0001_0019.wav", "A", 5.0, 2.0, 5.2, "127", "Female", "Train"),
            ("MSP-PODCAST_0002_0001.wav", "H", 5.5, 6.0, 4.0, "Unknown", "Unknown", "Development"),
            ("MSP-PODCAST_0003_0001.wav", "C", 3.0, 3.0, 4.0, "45", "Male", "Test1"),
            ("MSP-PODCAST_0003_0002.wav", "X", 3.0, 4.0, 4.0, "45", "Male", "Test1"),
            ("MSP-PODCAST_0003_0003.wav", "U", 5.0, 5.0, 4.0, "45", "Male", "Test2")]
    (tmp_path / "Labels").mkdir()
    (tmp_path / "Labels" / "labels_consensus.csv").write_text(
        _MSP_HEADER + "".join(",".join(map(str, r)) + "\n" for r in rows))
    for r in rows:
        write_audio(tmp_path / "Audios" / r[0])
    return tmp_path


def test_msp_podcast_layout(msp_dir):
    with pytest.warns(UserWarning, match="1 segment.*'X'"):
        b = load_msp_podcast(msp_dir)
    f = b.frame.set_index("file")
    assert len(f) == 5
    assert f.loc["MSP-PODCAST_0003_0001.wav", "emotion"] == "contempt"
    assert f.loc["MSP-PODCAST_0003_0003.wav", "emotion"] == "surprise"
    assert f.loc["MSP-PODCAST_0001_0019.wav", "arousal"] == 5.0
    assert f.loc["MSP-PODCAST_0001_0019.wav", "valence"] == 2.0
    assert f.loc["MSP-PODCAST_0002_0001.wav", "speaker"] == "unknown"
    assert f.loc["MSP-PODCAST_0003_0001.wav", "split"] == "Test1"
    with no_warnings():
        b = load_msp_podcast(msp_dir, include_unagreed=True)
    assert b.frame.loc[b.frame["code"] == "X", "emotion"].item() == "other"


def test_msp_podcast_bad_table(msp_dir):
    labels = msp_dir / "Labels" / "labels_consensus.csv"
    labels.write_text(labels.read_text() + "MSP-PODCAST_0009_0001.wav,Q,1,1,1,3,Male,Train\n")
    with pytest.raises(LabelFileError, match=r"labels_consensus.csv, line 8.*'Q'"):
        load_msp_podcast(msp_dir)
    labels.write_text("FileName,EmoClass\nx.wav,N\n")
    with pytest.raises(LabelFileError, match="missing column"):
        load_msp_podcast(msp_dir)
    labels.unlink()
    with pytest.raises(CorpusLayoutError, match="labels_consensus.csv"):
        load_msp_podcast(msp_dir)


# ----------------------------------------------------------- generic + combine
def test_load_folder_by_parent_and_pattern(tmp_path):
    for spk in ("s1", "s2"):
        for label in ("angry", "happy", "Sad"):
            write_audio(tmp_path / label / f"{spk}_{label}.wav")
    write_audio(tmp_path / "loose.wav")  # no label folder
    with pytest.warns(UnmatchedFilesWarning, match="1 audio file"):
        b = load_folder(tmp_path, speaker_pattern=r"^(?:\w+)/(s\d)_")
    assert sorted(set(b.target)) == ["anger", "happiness", "sadness"]
    assert set(b.groups) == {"s1", "s2"}
    with pytest.warns(UnmatchedFilesWarning, match="loose.wav"):
        b = load_folder(tmp_path, label_pattern=r"_(?P<label>[a-zA-Z]+)\.wav$")
    assert len(b.frame) == 6 and b.groups is None
    with pytest.raises(LabelFileError, match=r"\['s1', 's2'\] are not spellings.*label_map"):
        load_folder(tmp_path, label_pattern=r"(s\d)_")
    with pytest.warns(UnmatchedFilesWarning):
        b = load_folder(tmp_path, label_pattern=r"(s\d)_",
                        label_map={"s1": "calm", "s2": "neutral"})
    assert sorted(set(b.target)) == ["calm", "neutral"]


def test_load_table(tmp_path):
    write_audio(tmp_path / "audio" / "a.wav")
    write_audio(tmp_path / "audio" / "b.flac")
    (tmp_path / "list.tsv").write_text("file\tlabel\tspk\n"
                                       "audio/a.wav\tangry\tx\naudio/b.flac\tneutral\ty\n")
    b = load_table(tmp_path / "list.tsv", path_column="file", label_column="label",
                   speaker_column="spk")
    assert b.target.tolist() == ["anger", "neutral"] and b.groups.tolist() == ["x", "y"]
    assert Path(b.data[0]).is_absolute()
    (tmp_path / "bad.csv").write_text("path,emotion\naudio/a.wav,angry\naudio/zz.wav,sad\n")
    with pytest.raises(FileNotFoundError, match="1 listed audio file"):
        load_table(tmp_path / "bad.csv")
    (tmp_path / "bad2.csv").write_text("path,emotion\naudio/a.wav,\n")
    with pytest.raises(LabelFileError, match="line 2"):
        load_table(tmp_path / "bad2.csv")


def test_combine(emodb_dir, ravdess_dir):
    a, b = load_emodb(emodb_dir), load_ravdess(ravdess_dir)
    pooled = combine(a, b, emotions=["anger", "neutral"])
    assert set(pooled.frame["corpus"]) == {"emodb", "ravdess"}
    assert set(pooled.target) == {"anger", "neutral"}
    assert "emodb:03" in set(pooled.groups) and "ravdess:01" in set(pooled.groups)
    assert len(set(pooled.groups)) == len(set(pooled.frame["speaker"]))
    assert_sklearn_ready(pooled)
    with pytest.raises(ValueError, match="given twice"):
        combine(a, load_emodb(emodb_dir))
    with pytest.raises(InputError, match="argument 1 is not a Bunch.*return_X_y"):
        combine(a, load_ravdess(ravdess_dir, return_X_y=True))


# -------------------------------------------------------------- real corpora
@pytest.mark.shared_data
def test_real_emodb_2s(emodb_2s_files):
    root = emodb_2s_files[0].parent.parent
    with no_warnings():  # erkennung.txt is not audio: no warning
        b = load_emodb(root)
    assert len(b.frame) == 535
    assert b.frame["emotion"].value_counts().to_dict() == {
        "anger": 127, "boredom": 81, "neutral": 79, "happiness": 71, "fear": 69,
        "sadness": 62, "disgust": 46}
    assert len(set(b.groups)) == 10
    assert_sklearn_ready(b, cv=LeaveOneGroupOut())


@pytest.mark.shared_data
def test_real_emodb_4class(emodb_4class_files):
    b = load_emodb(emodb_4class_files[0].parent)
    assert len(b.frame) == 339
    assert set(b.target) == {"anger", "neutral", "happiness", "sadness"}
    assert len(set(b.groups)) == 10


@pytest.mark.shared_data
def test_real_ravdess(ravdess_files):
    root = ravdess_files[0].parent.parent
    with no_warnings():
        b = load_ravdess(root)
    counts = b.frame["emotion"].value_counts()
    assert len(b.frame) == 1440 and counts["neutral"] == 96
    assert (counts.drop("neutral") == 192).all() and len(counts) == 8
    assert len(set(b.groups)) == 24
    assert (b.frame.groupby("speaker")["gender"].first().to_dict()["01"]) == "male"
    assert_sklearn_ready(b)


# ------------------------------------------------- known quirks of public copies
def test_tess_misnamed_file_is_labelled_from_its_folder(tmp_path):
    # The public TESS copies hold OAF_neutral/OA_bite_neutral.wav ("OA", not "OAF").
    root = tmp_path / "TESS Toronto emotional speech set data"
    write_audio(root / "OAF_neutral" / "OAF_back_neutral.wav")
    write_audio(root / "OAF_neutral" / "OA_bite_neutral.wav")
    write_audio(root / "OAF_angry" / "OAF_back_angry.wav")
    write_audio(root / "YAF_sad" / "YAF_bite_angry.wav")  # name and folder disagree
    with pytest.warns(UnmatchedFilesWarning, match=r"tess: 2 file\(s\) whose name") as rec:
        b = load_tess(tmp_path)
    assert len(rec) == 1 and "OA_bite_neutral.wav" in str(rec[0].message)
    assert len(b.frame) == 4  # nothing lost
    f = b.frame.set_index(b.frame["path"].map(lambda p: Path(p).stem))
    assert f.loc["OA_bite_neutral", ["speaker", "emotion", "word"]].tolist() == [
        "OAF", "neutral", "bite"]
    assert f.loc["OA_bite_neutral", "age"] == 64
    assert f.loc["YAF_bite_angry", ["speaker", "emotion"]].tolist() == ["YAF", "sadness"]


def test_cremad_git_lfs_pointers_are_an_error_saying_what_to_do(tmp_path):
    root = _cremad(tmp_path / "cremad", CREMAD_SAMPLE[:2])
    pointer = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:c6f94b2592487c7556bd86df7df6e8f4420d1b9c11414aeec9d8e5e640b51495\n"
               "size 72862\n")
    (root / "AudioWAV" / "1002_TIE_NEU_XX.wav").write_text(pointer)
    with pytest.raises(CorpusLayoutError, match=r"1 of 3 audio files are Git LFS pointers"
                                                r"(.|\n)*git lfs pull"):
        load_cremad(root)
    from skser import LoadAudio
    from skser.exceptions import AudioDecodeError

    with pytest.raises(AudioDecodeError, match="Git LFS pointer"):
        LoadAudio().transform([root / "AudioWAV" / "1002_TIE_NEU_XX.wav"])


def test_cremad_files_broken_in_the_release_are_left_out_with_a_warning(tmp_path):
    root = _cremad(tmp_path / "cremad", CREMAD_SAMPLE[:2] + ["1076_MTI_HAP_XX"])
    (root / "VideoDemographics.csv").write_text(
        DEMOGRAPHICS + '1076,25,"Female","Caucasian","Not Hispanic"\n')
    audio = root / "AudioWAV"
    sf.write(audio / "1076_MTI_SAD_XX.wav", np.zeros(1600, np.float32), 16000)  # silent
    (audio / "1076_MTI_NEU_XX.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 100)
    with pytest.warns(UnmatchedFilesWarning, match=r"2 file\(s\) known to be broken") as rec:
        b = load_cremad(root)
    msg = str(rec[0].message)
    assert "1076_MTI_SAD_XX.wav' (holds no sound)" in msg
    assert "1076_MTI_NEU_XX.wav' (cannot be decoded)" in msg
    assert len(b.frame) == 3
    # A repaired copy keeps them: only files broken here are left out.
    write_audio(audio / "1076_MTI_SAD_XX.wav")
    write_audio(audio / "1076_MTI_NEU_XX.wav")
    with no_warnings():
        assert len(load_cremad(root).frame) == 5


def test_cremad_single_x_level_is_read_as_unspecified(tmp_path):
    root = _cremad(tmp_path / "cremad", ["1001_DFA_ANG_XX"])
    (root / "VideoDemographics.csv").write_text(
        DEMOGRAPHICS + '1040,25,"Male","Caucasian","Not Hispanic"\n')
    write_audio(root / "AudioWAV" / "1040_ITH_SAD_X.wav")  # misnamed in older releases
    with no_warnings():
        b = load_cremad(root)
    assert "unspecified" in set(b.frame["intensity"])
    assert len(b.frame) == 2
