"""The package's public surface: version, top-level and subpackage exports."""

import importlib
import re

import pytest

import skser


def test_version_is_pep440():
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", skser.__version__)


@pytest.mark.parametrize(
    "subpackage",
    ["skser.features", "skser.model_selection", "skser.metrics", "skser.datasets",
     "skser.exceptions", "skser.models", "skser.augmentation", "skser.io", "skser.utils"],
)
def test_every_name_in_all_is_importable(subpackage):
    module = importlib.import_module(subpackage)
    assert module.__all__, f"{subpackage} exports nothing"
    for name in module.__all__:
        assert hasattr(module, name), f"{subpackage}.__all__ lists missing {name!r}"


def test_top_level_estimators_are_the_subpackage_ones():
    from skser import features

    for name in ("MFCC", "LogMel", "LowLevel", "Functionals"):
        assert getattr(skser, name) is getattr(features, name)
    for name in skser.__all__:
        assert hasattr(skser, name)
    from skser import augmentation, models

    for name in ("LightSERNet", "TIMNet", "CNN1D", "CNN2D"):
        assert getattr(skser, name) is getattr(models, name)
    assert skser.WaveformAugmenter is augmentation.WaveformAugmenter


def test_import_skser_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, skser; skser.MFCC(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_errors_derive_from_the_package_root():
    from skser import exceptions

    for name in ("AudioInputError", "AudioDecodeError", "CorpusLayoutError",
                 "LabelFileError", "DownloadError", "ParameterError", "ModelFileError"):
        assert issubclass(getattr(exceptions, name), exceptions.SkserError)
    assert issubclass(exceptions.AudioInputError, ValueError)
    assert issubclass(exceptions.ParameterError, ValueError)
    assert issubclass(exceptions.ModelFileError, ValueError)


def test_import_skser_io_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, skser.io; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
