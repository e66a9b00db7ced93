"""A small grid search and evaluate() on a real Dask LocalCluster of two worker processes."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.evaluation import evaluate

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from spe.distributed import LimitTensorFlowThreads

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.register_plugin(LimitTensorFlowThreads())
        yield client


def _pipe():
    cnn = CNNLikesRegressor(epochs=2, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0)
    return Pipeline([("load", ImageLoader(size=(8, 8))), ("cnn", cnn)])


@pytest.mark.slow
def test_grid_search_on_dask_equals_local(client, posts):
    def search():
        return GridSearchCV(
            _pipe(),
            {"cnn__learning_rate": [1e-2, 1e-3]},
            cv=KFold(2),
            scoring="neg_mean_squared_error",
            n_jobs=-1,
        )

    local = search().fit(posts, posts["likes"])
    with parallel_config(backend="dask"):
        remote = search().fit(posts, posts["likes"])
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-5
    )
    assert remote.best_params_ == local.best_params_
    # The refitted model came back from a worker and predicts here.
    np.testing.assert_allclose(remote.predict(posts[:3]), local.predict(posts[:3]), rtol=1e-5)


@pytest.mark.slow
def test_evaluate_on_dask_equals_local(client, posts):
    local = evaluate(_pipe(), posts, n_splits=2)
    with parallel_config(backend="dask"):
        remote = evaluate(_pipe(), posts, n_splits=2, n_jobs=-1)
    np.testing.assert_allclose(
        remote.scores.to_numpy(dtype=float), local.scores.to_numpy(dtype=float), rtol=1e-5, equal_nan=True
    )


def test_workers_limit_tensorflow_threads(client):
    def threads():
        import tensorflow as tf

        return tf.config.threading.get_intra_op_parallelism_threads()

    assert set(client.run(threads).values()) == {1}


@pytest.mark.slow
def test_cross_validate_on_dask_equals_local(client, posts):
    from sklearn.model_selection import cross_validate

    local = cross_validate(_pipe(), posts, posts["likes"], cv=KFold(2), scoring="neg_mean_absolute_error")
    with parallel_config(backend="dask"):
        remote = cross_validate(
            _pipe(), posts, posts["likes"], cv=KFold(2), scoring="neg_mean_absolute_error", n_jobs=-1
        )
    np.testing.assert_allclose(remote["test_score"], local["test_score"], rtol=1e-5)
