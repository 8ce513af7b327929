"""skser's joblib parallelism runs on a Dask cluster unchanged (LocalCluster on 127.0.0.1).

Each test checks that the tasks really went through the cluster (its task
stream is not empty) and that the result equals the in-process one.
"""

# SPDX-License-Identifier: BSD-3-Clause

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skser import MFCC, Functionals
from skser.model_selection import evaluate

distributed = pytest.importorskip(
    "distributed", reason="Dask tests need the 'dask' extra: pip install 'skser[dask]'"
)

SR = 16000


@pytest.fixture(scope="module")
def client():
    # Two single-threaded workers: joblib's Dask backend counts the cluster's
    # threads as its n_jobs, and with one thread joblib would run in process.
    # Threads, not processes, keep the start-up under a second; TCP (not the
    # in-process transport) so that the scheduler really binds 127.0.0.1.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def tones():
    """24 noisy 1 s tones, 2 classes, 4 speakers (groups)."""
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    X, y, groups = [], [], []
    for speaker in range(4):
        for label, freq in (("low", 300.0), ("high", 600.0)):
            for _ in range(3):
                clip = 0.2 * np.sin(2 * np.pi * freq * rng.uniform(0.8, 1.25) * t)
                X.append((clip + 0.3 * rng.standard_normal(SR)).astype(np.float32))
                y.append(label)
                groups.append(f"spk{speaker}")
    return X, np.array(y), np.array(groups)


def _pipeline():
    return make_pipeline(
        MFCC(n_mfcc=13), Functionals(), StandardScaler(), LogisticRegression(max_iter=300)
    )


def _on_dask(client, func):
    """Run ``func()`` under joblib's Dask backend; return its result and the task count."""
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        result = func()
    return result, len(stream.data)


def test_feature_extraction_on_dask_equals_in_process(client, tones):
    X, _, _ = tones
    local = MFCC(n_mfcc=13).fit_transform(X)
    remote, n_tasks = _on_dask(client, lambda: MFCC(n_mfcc=13, n_jobs=2).fit_transform(X))
    assert n_tasks > 0
    np.testing.assert_array_equal(remote, local)


def test_grid_search_on_dask_equals_in_process(client, tones):
    X, y, groups = tones

    def search(n_jobs):
        grid = GridSearchCV(
            _pipeline(),
            {"logisticregression__C": [0.01, 1.0]},
            cv=GroupKFold(n_splits=4),
            scoring="balanced_accuracy",
            n_jobs=n_jobs,
        )
        return grid.fit(X, y, groups=groups)

    local = search(None)
    remote, n_tasks = _on_dask(client, lambda: search(2))
    assert n_tasks > 0
    assert remote.best_params_ == local.best_params_
    for key in ("mean_test_score", *(f"split{i}_test_score" for i in range(4))):
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key])


def test_evaluate_on_dask_equals_in_process(client, tones):
    X, y, groups = tones
    local = evaluate(_pipeline(), X, y, groups=groups, cv=GroupKFold(n_splits=4))
    remote, n_tasks = _on_dask(
        client,
        lambda: evaluate(_pipeline(), X, y, groups=groups, cv=GroupKFold(n_splits=4), n_jobs=2),
    )
    assert n_tasks > 0
    np.testing.assert_array_equal(remote.y_pred, local.y_pred)
    assert remote.pooled == pytest.approx(local.pooled)
    assert 0.0 < local.pooled["uar"] <= 1.0
