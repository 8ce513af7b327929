"""Exceptions raised by skser.

The errors that skser raises for its own checks derive from :class:`SkserError`:
bad parameter values raise :class:`ParameterError`, bad audio
:class:`AudioInputError`, unusable corpus folders :class:`CorpusLayoutError`,
refused model files :class:`ModelFileError`. Those about bad values also
derive from :class:`ValueError`, so scikit-learn's own checks and ``except
ValueError`` clauses keep working. Errors raised by the libraries skser calls
(scikit-learn's input validation, numpy, torch, the file system) reach you
unchanged: catch :class:`SkserError` for skser's own, not for everything.
"""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = [
    "SkserError",
    "ParameterError",
    "InputError",
    "AudioInputError",
    "AudioDecodeError",
    "CorpusLayoutError",
    "LabelFileError",
    "DownloadError",
    "ModelFileError",
    "UnmatchedFilesWarning",
    "ModelVersionWarning",
    "SpeakerOverlapWarning",
    "AudioInputWarning",
    "EncoderUnavailableError",
]


class SkserError(Exception):
    """Root of the exceptions that skser raises for its own checks."""


class ParameterError(SkserError, ValueError):
    """A parameter value or a combination of parameters that cannot be used.

    Raised by ``fit``/``transform`` (never ``__init__``), with a message that
    names the parameter, the value given and what is accepted.
    """


class InputError(SkserError, ValueError):
    """Data that cannot be used: ``X``, ``y`` or ``groups`` of the wrong shape, size or content.

    The message names the offending row, column or value and says how to fix it.
    """


class AudioInputError(InputError):
    """Audio input that cannot be used: wrong type, shape, empty, NaN or inf.

    The message names the offending row index or file and says how to fix it.
    """


class AudioDecodeError(AudioInputError):
    """An audio file exists but cannot be decoded (corrupt or unsupported)."""


class CorpusLayoutError(SkserError, FileNotFoundError):
    """A corpus folder is missing, empty, or not laid out as the loader expects.

    The message describes the expected layout and where to obtain the corpus.
    """


class LabelFileError(SkserError, ValueError):
    """A label file or table of a corpus cannot be parsed (names file and line)."""


class DownloadError(SkserError, OSError):
    """A download failed, was interrupted, or did not verify; nothing was installed."""


class ModelFileError(SkserError, ValueError):
    """A file that :func:`skser.io.load` refuses: not a skser model, damaged, or untrusted.

    The message names the file and what is wrong with it (not a ZIP archive, no
    manifest, a SHA-256 mismatch, the untrusted types it would create).
    """


class ModelVersionWarning(UserWarning):
    """A saved model is loaded with another skser or scikit-learn version than it was saved with."""


class UnmatchedFilesWarning(UserWarning):
    """Audio files under a corpus folder that do not fit its naming scheme."""


class SpeakerOverlapWarning(UserWarning):
    """A speaker's utterances are in both the training and the test set of a fold."""


class AudioInputWarning(UserWarning):
    """Audio input that is used, but probably not as meant.

    E.g. a fixed ``duration`` that crops recordings to less than half their
    length, or a 2-D array whose few rows look like the channels of one
    recording.
    """


class EncoderUnavailableError(SkserError, OSError):
    """A pretrained speech encoder that is neither a local folder nor cached, with the Hub offline.

    The message says how to download it on a connected machine and pass its folder.
    """
