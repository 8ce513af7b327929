"""scikit-learn estimator checks of the neural classifiers."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skser.models import CNN1D, CNN2D, LightSERNet, SERNet, TIMNet

_SEQUENCE_2D = (
    "2-D input (n_samples, n_frames) is read as a one-feature sequence, so "
    "n_features_in_ is 1 (features per frame) and a different number of columns is a "
    "different utterance length, which is valid input rather than an error"
)
SEQUENCE_EXPECTED_FAILURES = {
    "check_n_features_in": _SEQUENCE_2D,
    "check_n_features_in_after_fitting": _SEQUENCE_2D,
    "check_classifiers_train": _SEQUENCE_2D,
}


def _fast(cls, **kw):
    return cls(max_epochs=3, batch_size=16, random_state=0, device="cpu", **kw)


ESTIMATORS = [
    _fast(LightSERNet, lr=1e-2),
    _fast(TIMNet, lr=1e-2),
    _fast(CNN1D),
    _fast(CNN2D, lr=1e-2, freq_mask_param=1, time_mask_param=1),
    # the checks' 2-D input is one feature per frame: a one-column "spectral" layout
    _fast(SERNet, size="small", n_spectral=1, n_mel=0, validation_fraction=None, schedule=None, lr=1e-2),
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, CNN1D):
        return {}
    return SEQUENCE_EXPECTED_FAILURES


# These two checks demand predict_proba equal to rtol 1e-7 whatever the rows' order and
# batch composition. LightSERNet's float32 convolutions and dense layer are computed by
# kernels chosen per batch size (oneDNN, or PyTorch's own GEMM), so a row's probabilities
# move by about 1e-7 (up to 1e-6) with the size of the batch it is predicted in; whether
# the check then passes depends on the CPU's kernels, which an xfail cannot pin down.
# The invariance is tested at float32 precision instead (atol 1e-5) in
# test_models_estimators.py::test_batched_equals_one_by_one_on_variable_length.
FLOAT32_BATCH_COMPOSITION = {
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    name = getattr(check, "func", check).__name__
    if isinstance(estimator, LightSERNet) and name in FLOAT32_BATCH_COMPOSITION:
        pytest.skip("float32 batch-composition rounding (~1e-7) exceeds the check's rtol 1e-7; "
                    "tested at atol 1e-5 in test_models_estimators.py")
    check(estimator)


# SpectrogramCNN: a tiny randomly initialised ResNet (built from its configuration,
# no files, no hub), images of one row from the checks' 2-D data.
def _tiny_spectrogram_cnn():
    from transformers import ResNetConfig

    from skser.models import SpectrogramCNN

    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")
    return SpectrogramCNN(
        backbone=config, pretrained=False, hidden=16, freeze=None, lr=1e-2,
        max_epochs=3, batch_size=16, random_state=0, device="cpu",
    )


SPECTROGRAM_CNN_EXPECTED_FAILURES = {
    "check_classifiers_train": (
        "the checks' 2-D data are one-row images; a randomly initialised CNN trained for 3 "
        "epochs on them does not reach the 0.83 training accuracy the check asks for"
    ),
}


@parametrize_with_checks(
    [_tiny_spectrogram_cnn()],
    expected_failed_checks=lambda est: SPECTROGRAM_CNN_EXPECTED_FAILURES,
)
def test_sklearn_compatible_spectrogram_cnn(estimator, check):
    check(estimator)
