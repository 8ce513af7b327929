"""Exceptions raised by skser.

Every skser error derives from :class:`SkserError`. Errors about bad input also
derive from :class:`ValueError`, so scikit-learn's own checks and ``except
ValueError`` clauses keep working.
"""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = [
    "SkserError",
    "ParameterError",
    "AudioInputError",
    "AudioDecodeError",
    "CorpusLayoutError",
    "LabelFileError",
    "DownloadError",
    "UnmatchedFilesWarning",
    "SpeakerOverlapWarning",
    "EncoderUnavailableError",
]


class SkserError(Exception):
    """Root of every exception raised by skser."""


class ParameterError(SkserError, ValueError):
    """A parameter value or a combination of parameters that cannot be used.

    Raised by ``fit``/``transform`` (never ``__init__``), with a message that
    names the parameter, the value given and what is accepted.
    """


class AudioInputError(SkserError, ValueError):
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


class UnmatchedFilesWarning(UserWarning):
    """Audio files under a corpus folder that do not fit its naming scheme."""


class SpeakerOverlapWarning(UserWarning):
    """A speaker's utterances are in both the training and the test set of a fold."""


class EncoderUnavailableError(SkserError, OSError):
    """A pretrained speech encoder that is neither a local folder nor cached, with the Hub offline.

    The message says how to download it on a connected machine and pass its folder.
    """
