import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from spe import CNNLikesRegressor, ImageLoader
from spe.plotting import plot_grid_heatmap
from spe.tuning import fast_grid_search

TINY = dict(batch_size=8, conv_filters=(4,), dense_units=8, random_state=0)


@pytest.fixture(scope="module")
def Xy():
    rng = np.random.RandomState(0)
    return rng.rand(32, 12, 12, 3).astype("float32"), rng.rand(32) * 100


def _table(cv_results, epochs_key, lr_key):
    return {
        (int(e), float(lr)): s
        for e, lr, s in zip(cv_results[epochs_key], cv_results[lr_key], cv_results["mean_test_score"])
    }


@pytest.mark.slow
def test_snapshots_give_the_same_scores_as_grid_search(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY)
    fast = fast_grid_search(reg, X, y, epochs=(1, 3), learning_rate=(1e-2, 1e-3), cv=KFold(2), halving=False)
    grid = GridSearchCV(
        reg, {"epochs": [1, 3], "learning_rate": [1e-2, 1e-3]}, cv=KFold(2), scoring="neg_mean_squared_error"
    ).fit(X, y)
    a = _table(fast.cv_results_, "param_epochs", "param_learning_rate")
    b = _table(grid.cv_results_, "param_epochs", "param_learning_rate")
    assert a.keys() == b.keys()
    np.testing.assert_allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(b)], rtol=1e-5)
    assert fast.cv_results_["params"] == grid.cv_results_["params"]  # same rows, same order
    np.testing.assert_array_equal(fast.cv_results_["rank_test_score"], grid.cv_results_["rank_test_score"])
    assert fast.best_params_ == grid.best_params_
    assert fast.n_epochs_trained_ == 2 * 2 * 3  # one 3-epoch run per rate and fold
    assert fast.best_estimator_.predict(X).shape == (32,)


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_halving_stops_the_worst_rates(Xy, n_jobs):
    X, y = Xy
    res = fast_grid_search(
        CNNLikesRegressor(**TINY),
        X,
        y,
        epochs=(1, 2, 3),
        learning_rate=(1e-2, 1e-3, 1e-4),
        cv=KFold(2),
        halving=True,
        refit=False,
        n_jobs=n_jobs,
    )
    scores = np.asarray(res.cv_results_["mean_test_score"])
    assert np.isfinite(scores).sum() == 3 + 1 + 1  # all rates at 1 epoch, then the best third
    assert res.n_epochs_trained_ == 2 * (3 * 1 + 1 * 1 + 1 * 1)
    assert res.best_estimator_ is None
    assert res.cv_results_["rank_test_score"][np.argmax(np.nan_to_num(scores, nan=-np.inf))] == 1
    plot_grid_heatmap(res.cv_results_, x="param_epochs", y="param_learning_rate")  # NaN cells: gaps


@pytest.mark.slow
def test_pipeline_decodes_once_per_fold_and_runs_in_two_processes(posts, count_decodes):
    pipe = Pipeline([("load", ImageLoader(size=(8, 8))), ("cnn", CNNLikesRegressor(**TINY))])
    res = fast_grid_search(
        pipe,
        posts,
        posts["likes"],
        epochs=(1, 2),
        learning_rate=(1e-2, 1e-3),
        cv=KFold(2),
        halving=False,
        n_jobs=2,
        refit=False,
    )
    assert sum(count_decodes) == len(posts) * 2  # train + test of each fold, once
    assert np.isfinite(res.cv_results_["mean_test_score"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("halving", [False, True])
def test_early_stopping_ends_runs_and_leaves_unreached_cells_nan(Xy, halving):
    X, y = Xy
    # A step of 1e-12 leaves float32 weights unchanged and, without dropout
    # or shuffling, the loss too: those runs stop after 1 + patience epochs.
    reg = CNNLikesRegressor(**{**TINY, "dropout": 0.0, "shuffle": False}, early_stopping=1)
    res = fast_grid_search(
        reg, X, y, epochs=(1, 5), learning_rate=(1e-12, 1e-3), cv=KFold(2), halving=halving, refit=False
    )
    table = _table(res.cv_results_, "param_epochs", "param_learning_rate")
    assert np.isnan(table[(5, 1e-12)])
    assert np.isfinite(table[(1, 1e-12)]) and np.isfinite(table[(1, 1e-3)])
    assert res.best_params_ != {"epochs": 5, "learning_rate": 1e-12}
    assert res.n_epochs_trained_ <= 2 * 2 + 2 * 5  # the 1e-12 runs stopped at 2 epochs


@pytest.mark.slow
def test_process_pool_is_shared_with_joblib(Xy):
    # fast_grid_search's workers are joblib's: a later GridSearchCV(n_jobs=2)
    # in the same session reuses the pool instead of tripping over it.
    X, y = Xy
    reg = CNNLikesRegressor(**TINY)
    fast_grid_search(reg, X, y, epochs=(1,), learning_rate=(1e-2, 1e-3), cv=KFold(2), n_jobs=2, refit=False)
    grid = GridSearchCV(reg.set_params(epochs=1), {"learning_rate": [1e-2, 1e-3]}, cv=KFold(2), n_jobs=2)
    assert np.isfinite(grid.fit(X, y).cv_results_["mean_test_score"]).all()


def test_bad_grid():
    with pytest.raises(ValueError, match="epochs"):
        fast_grid_search(CNNLikesRegressor(), np.zeros((4, 8, 8, 3)), np.arange(4.0), epochs=(0,))


def _no_likes(X):
    assert "likes" not in X.columns, "the answer travelled in X"
    return X


@pytest.mark.parametrize("order", ["oldest first", "newest first", "shuffled"])
def test_posts_are_oldest_first_and_never_carry_their_likes(posts, order):
    from sklearn.preprocessing import FunctionTransformer

    rows = {
        "oldest first": np.arange(len(posts)),
        "newest first": np.arange(len(posts))[::-1],
        "shuffled": np.random.RandomState(0).permutation(len(posts)),
    }[order]
    X = posts.iloc[rows]
    pipe = Pipeline(
        [
            ("check", FunctionTransformer(_no_likes)),
            ("load", ImageLoader(size=(8, 8))),
            ("cnn", CNNLikesRegressor(**TINY)),
        ]
    )
    search = lambda: fast_grid_search(  # noqa: E731
        pipe, X, X["likes"], epochs=(1,), learning_rate=(1e-2,), cv=KFold(2), refit=False
    )
    if order == "oldest first":
        assert np.isfinite(search().best_score_)
    else:  # folds split by rows: these would train on later posts
        with pytest.raises(ValueError, match=r"X must hold the posts in posting order.*'post_index' falls"):
            search()


@pytest.mark.slow
@pytest.mark.parametrize("early_stopping", [False, 2])
def test_halving_continues_each_run_as_one_run(Xy, early_stopping):
    # factor=1 keeps every rate: the runs are cut at each epoch count and
    # resumed, yet must score as one uninterrupted run per rate and fold
    # (next shuffle orders, early stopping's count and weights carried on).
    X, y = Xy
    reg = CNNLikesRegressor(**TINY, early_stopping=early_stopping)
    kwargs = dict(epochs=(1, 3, 6), learning_rate=(1e-2, 1e-3), cv=KFold(2), refit=False)
    pieces = fast_grid_search(reg, X, y, halving=True, factor=1, **kwargs)
    whole = fast_grid_search(reg, X, y, halving=False, **kwargs)
    np.testing.assert_allclose(
        pieces.cv_results_["mean_test_score"], whole.cv_results_["mean_test_score"], rtol=1e-5
    )


@pytest.mark.slow
def test_best_params_go_back_into_set_params(Xy):
    X, y = Xy
    kwargs = dict(epochs=(1,), learning_rate=(1e-2, 1e-3), cv=KFold(2), halving=False, refit=False)
    bare = fast_grid_search(CNNLikesRegressor(**TINY), X, y, **kwargs)
    assert set(bare.best_params_) == {"epochs", "learning_rate"}
    assert {"param_epochs", "param_learning_rate"} <= set(bare.cv_results_)
    CNNLikesRegressor(**TINY).set_params(**bare.best_params_)
    pipe = make_pipeline(FunctionTransformer(), CNNLikesRegressor(**TINY))
    res = fast_grid_search(pipe, X, y, **kwargs)
    assert set(res.best_params_) == {"cnnlikesregressor__epochs", "cnnlikesregressor__learning_rate"}
    assert (
        pipe.set_params(**res.best_params_)[-1].learning_rate
        == res.best_params_["cnnlikesregressor__learning_rate"]
    )


@pytest.mark.slow
def test_ties_go_to_the_first_setting_in_grid_order(Xy):
    # Steps of 1e-30 and 1e-31 leave float32 weights as they were: every
    # cell scores the same, and GridSearchCV picks the first in its order.
    X, y = Xy
    reg = CNNLikesRegressor(**{**TINY, "dropout": 0.0})
    grid = {"epochs": [2, 1], "learning_rate": [1e-30, 1e-31]}
    fast = fast_grid_search(reg, X, y, **grid, cv=KFold(2), halving=False, refit=False)
    search = GridSearchCV(reg, grid, cv=KFold(2), scoring="neg_mean_squared_error", refit=False).fit(X, y)
    assert fast.cv_results_["params"] == search.cv_results_["params"]
    np.testing.assert_array_equal(fast.cv_results_["rank_test_score"], search.cv_results_["rank_test_score"])
    assert fast.best_params_ == search.best_params_ == {"epochs": 2, "learning_rate": 1e-30}


def test_every_cell_failed_is_a_clear_error(Xy):
    X, y = Xy
    # A step of 1e30 overflows at once; with early stopping the runs end NaN.
    reg = CNNLikesRegressor(**TINY, early_stopping=1)
    with pytest.raises(ValueError, match="every cell of the grid scored NaN"):
        fast_grid_search(reg, X, y, epochs=(4,), learning_rate=(1e30,), cv=KFold(2), halving=False)


def test_limit_threads_says_what_a_started_tensorflow_keeps():
    import tensorflow as tf

    from spe.tuning import limit_threads

    tf.constant(1.0) + 1.0  # TensorFlow has started: its thread count is fixed
    kept = tf.config.threading.get_intra_op_parallelism_threads()
    with pytest.warns(RuntimeWarning, match="keeps"):
        assert limit_threads(kept + 3) == kept
