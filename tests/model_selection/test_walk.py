import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import EWMARegressor, ImageFeatures, LikesRegressor, RecentAverageRegressor
from spe.evaluation import (
    WalkForwardSplit,
    evaluate,
    picture_skill,
    precompute_pictures,
    walk_forward_predict,
)
from spe.model_selection import shared_walks


def _features(size=16):
    return make_pipeline(ImageFeatures(size=(size, size), faces=False), StandardScaler(), Ridge())


def test_splits_train_on_every_earlier_post():
    X = np.zeros(30)
    splits = list(WalkForwardSplit(n_splits=5).split(X))
    assert [len(test) for _, test in splits] == [1] * 25
    assert all((train == np.arange(test[0])).all() for train, test in splits)
    # The same posts as TimeSeriesSplit tests.
    tested = np.concatenate([test for _, test in TimeSeriesSplit(5).split(X)])
    np.testing.assert_array_equal(np.concatenate([t for _, t in splits]), tested)
    assert WalkForwardSplit(n_splits=5, test_size=4).get_n_splits(X) == 7


def test_bad_walks_name_the_parameter(posts):
    with pytest.raises(ValueError, match="test_size"):
        list(WalkForwardSplit(test_size=0).split(np.zeros(10)))
    with pytest.raises(ValueError, match="min_train_size=50"):
        list(WalkForwardSplit(min_train_size=50).split(np.zeros(10)))
    with pytest.raises(ValueError, match="refit_every"):
        evaluate(DummyRegressor(), posts, cv="walk", refit_every=0)
    with pytest.raises(ValueError, match="n_splits=50"):
        evaluate(DummyRegressor(), posts, cv="walk", n_splits=50)


@pytest.mark.parametrize(
    "model", [RecentAverageRegressor(k=3), EWMARegressor(), LikesRegressor(image_model=Ridge())]
)
def test_updates_between_refits_give_every_post_its_history(model):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"post_index": np.arange(1, 41), "f": rng.normal(size=40)})
    y = 100 + np.cumsum(rng.normal(0, 5, 40))
    pred = walk_forward_predict(model, X, y, WalkForwardSplit(n_splits=3, test_size=5))
    # Post by post, with a refit only every 5 posts: the trend still sees every earlier post.
    expected = np.full(40, np.nan)
    for start in range(10, 40, 5):
        fitted = clone(model).fit(X.iloc[:start], y[:start])
        for j in range(start, min(start + 5, 40)):
            expected[j] = fitted.predict(X.iloc[[j]])[0]
            fitted.partial_fit(X.iloc[[j]], y[[j]])
    np.testing.assert_allclose(pred, expected)


def test_each_picture_is_featurized_once_per_walk(posts, count_decodes):
    models = {"features": _features(), "trend x picture": LikesRegressor(image_model=_features())}
    report = evaluate(models, posts, cv="walk", n_splits=3)
    assert sum(count_decodes) == len(posts)
    assert len(report.predictions) == len(posts) - 10
    # The same predictions as refitting from the pictures.
    X, y = posts.drop(columns="likes"), posts["likes"]
    naive = walk_forward_predict(models["features"], X, y, WalkForwardSplit(n_splits=3, test_size=10))
    cached = walk_forward_predict(
        precompute_pictures(models["features"], X), X, y, WalkForwardSplit(n_splits=3, test_size=10)
    )
    np.testing.assert_allclose(cached, naive)


def test_cached_model_still_reads_new_pictures(posts):
    X, y = posts.drop(columns="likes"), posts["likes"]
    cached = precompute_pictures(_features(), X.iloc[:30]).fit(X.iloc[:30], y[:30])
    plain = _features().fit(X.iloc[:30], y[:30])
    np.testing.assert_allclose(cached.predict(X.iloc[30:]), plain.predict(X.iloc[30:]))


def test_walk_report_has_a_trend_and_picture_skill(posts):
    report = evaluate(RecentAverageRegressor(k=3), posts, n_splits=3)  # walk is the default
    assert "walk-forward" in report.protocol and "every post" in report.protocol
    assert list(report.scores.index) == [
        "mean of training likes",
        "recent average (k=10)",
        "trend chosen on training posts",
        "model",
    ]
    assert {"picture skill", "picture skill low", "picture skill high"} <= set(report.scores.columns)
    assert report.predictions["fold"].nunique() == 3
    # The recent average walked forward is the mean of the ten posts just before each post.
    likes = posts["likes"].to_numpy(dtype=float)
    expected = [likes[j - 10 : j].mean() for j in range(10, len(posts))]
    np.testing.assert_allclose(report.predictions["recent average (k=10)"], expected)
    assert any("pictures add nothing measurable" in note for note in report.notes)


def test_picture_skill_finds_a_ratio_ranking_and_its_absence():
    rng = np.random.default_rng(0)
    trend = np.linspace(50, 150, 200)
    effect = rng.normal(size=200)
    actual = trend * np.exp(0.3 * effect + rng.normal(0, 0.1, 200))
    rho, low, high = picture_skill(actual, trend * np.exp(0.3 * effect), trend, n_resamples=300)
    assert 0.6 < low <= rho <= high
    rho, low, high = picture_skill(actual, trend * np.exp(rng.normal(size=200)), trend, n_resamples=300)
    assert low < 0 < high
    assert np.isnan(picture_skill(actual, trend, trend)[0])


@pytest.mark.slow
def test_networks_are_refitted_as_often_as_the_time_folds(posts):
    from spe import CNNLikesRegressor, ImageLoader
    from spe.model_selection._walk import has_network, has_pictures

    cnn = make_pipeline(
        ImageLoader(size=(8, 8)),
        CNNLikesRegressor(epochs=1, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0),
    )
    assert has_network(cnn) and has_pictures(cnn)
    assert not has_network(LikesRegressor()) and has_pictures(LikesRegressor(image_model=_features()))
    report = evaluate({"CNN": cnn}, posts, n_splits=2)
    assert "refitted every post (the CNN every 13)" in report.protocol  # exactly n_splits refits


@pytest.mark.parametrize("n", [12, 30, 121, 500])
def test_refitting_spreads_about_20_refits_over_the_walk_at_fixed_points(n):
    import math

    from spe.model_selection import WalkForwardSplit

    walk = WalkForwardSplit(n_splits=5)
    first = walk.first_train_size(n)
    step = walk.refitting(n).test_size
    assert step & (step - 1) == 0 and (n - first) / 20 / 2**0.5 <= max(step, 1) <= max(
        1, (n - first) / 20 * 2**0.5
    )
    assert walk.refitting(n, refits=5, aligned=False).test_size == max(1, math.ceil((n - first) / 5))
    assert walk.refitting(n, refit_every=3).test_size == 3
    assert walk.refitting(n).first_train_size(n) == first
    # The refit points are multiples of the step: a walk over more posts keeps them.
    starts = [train.size for train, _ in walk.refitting(n).split(np.zeros(n))]
    assert starts[0] == first and all(s % step == 0 for s in starts[1:])
    with pytest.raises(ValueError, match="refit_every"):
        walk.refitting(n, refit_every=0)
    with pytest.raises(ValueError, match="'aligned'"):
        walk.refitting(n, aligned="yes")


def test_aligned_splits_refit_at_multiples_and_name_a_bad_flag():
    splits = list(WalkForwardSplit(min_train_size=5, test_size=4, aligned=True).split(np.zeros(14)))
    assert [test.tolist() for _, test in splits] == [[5, 6, 7], [8, 9, 10, 11], [12, 13]]
    assert all((train == np.arange(test[0])).all() for train, test in splits)
    assert WalkForwardSplit(min_train_size=5, test_size=4, aligned=True).get_n_splits(np.zeros(14)) == 3
    with pytest.raises(ValueError, match="'aligned'"):
        list(WalkForwardSplit(aligned=1).split(np.zeros(14)))
    with pytest.raises(ValueError, match="'enabled'"):
        with shared_walks("no"):
            pass


def _own_model():
    from spe import AutoLikesRegressor, AutoTrendRegressor

    return AutoLikesRegressor(
        {"trend": AutoTrendRegressor(), "trend x picture": LikesRegressor(image_model=_features())}
    )


@pytest.fixture
def count_fits(monkeypatch):
    """A list that gets one entry per LikesRegressor fit."""
    calls = []
    original = LikesRegressor.fit

    def counting(self, X, y):
        calls.append(len(y))
        return original(self, X, y)

    monkeypatch.setattr(LikesRegressor, "fit", counting)
    return calls


def test_a_nested_walk_predicts_as_from_scratch_fitting_each_post_once(posts, count_fits, count_decodes):
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    walk = WalkForwardSplit(n_splits=3, min_train_size=34)
    shared = walk_forward_predict(_own_model(), X, y, walk)
    fits, decodes = len(count_fits), sum(count_decodes)
    with shared_walks(False):
        scratch = walk_forward_predict(_own_model(), X, y, walk)
    # Bit for bit: every block is predicted in one call, as from scratch.
    np.testing.assert_array_equal(shared, scratch)
    assert decodes == len(posts)  # each picture once, though the candidates' pictures are cached inside fit
    assert sum(count_decodes) - decodes >= 5 * len(posts)  # from scratch: once per outer step
    # Per outer step: the model on all posts, the newest post's refit, a first block; not ~20 refits.
    assert fits < (len(count_fits) - fits) / 3


@pytest.mark.parametrize("conformal", [False, True])
def test_refitting_on_one_more_post_extends_the_inner_walk(posts, count_fits, conformal):
    from spe import ConformalLikesRegressor

    model = ConformalLikesRegressor(_own_model()) if conformal else _own_model()
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    with shared_walks():
        clone(model).fit(X[:35], y[:35])
        before = len(count_fits)
        again = clone(model).fit(X[:36], y[:36])
    # The new post's refit, a first block and the model on all posts (its walk's and its own).
    assert len(count_fits) - before <= 3 + conformal
    with shared_walks(False):
        alone = clone(model).fit(X[:36], y[:36])
    assert len(count_fits) - before > 10
    frame = "walk_" if conformal else "walk_predictions_"
    pd.testing.assert_frame_equal(getattr(again, frame), getattr(alone, frame), check_exact=True)


def test_every_kind_of_update_is_shared_exactly():
    from sklearn.linear_model import SGDRegressor

    from spe import AutoLikesRegressor, AutoTrendRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"post_index": np.arange(1.0, 41), "f": rng.normal(size=40)})
    y = 100 + np.cumsum(rng.normal(0, 5, 40)) + 10 * X["f"].to_numpy()
    own = AutoLikesRegressor(
        {
            "trend": AutoTrendRegressor(),  # updated a block at a time: it predicts from earlier posts only
            "ridge": make_pipeline(StandardScaler(), Ridge()),  # no partial_fit
            "sgd": SGDRegressor(random_state=0, eta0=1e-4, max_iter=5, tol=None),  # updated post by post
        },
        refit_every=3,
    )
    walk = WalkForwardSplit(min_train_size=34)
    shared = walk_forward_predict(own, X, y, walk)
    with shared_walks(False):
        scratch = walk_forward_predict(own, X, y, walk)
    np.testing.assert_array_equal(shared, scratch)
    with shared_walks():
        fitted = [clone(own).fit(X[:t], y[:t]) for t in (30, 31)]
    with shared_walks(False):
        alone = clone(own).fit(X[:31], y[:31])
    pd.testing.assert_frame_equal(fitted[1].walk_predictions_, alone.walk_predictions_, check_exact=True)


def test_evaluate_shares_refits_between_its_models_unless_switched_off(posts, count_fits):
    walk = WalkForwardSplit(n_splits=2, min_train_size=34)
    models = {"trend x picture": LikesRegressor(image_model=_features()), "own": _own_model()}
    shared = evaluate(models, posts, cv=walk)
    fits = len(count_fits)
    with shared_walks(False):
        scratch = evaluate(models, posts, cv=walk)
    pd.testing.assert_frame_equal(shared.predictions, scratch.predictions, check_exact=True)
    # The own model's candidate "trend x picture" reuses the outer walk's refit at every post.
    assert fits < (len(count_fits) - fits) / 3
    with pytest.raises(ValueError, match="'enabled'"):
        with shared_walks("off"):
            pass


@pytest.mark.parametrize("test_size", [1, 3])
def test_the_refit_on_all_posts_is_the_walks_own_fit_left_as_fitted(posts, count_fits, test_size):
    from spe import AutoLikesRegressor

    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    picture = LikesRegressor(image_model=_features())
    own = AutoLikesRegressor({"trend x picture": picture}, fallback="trend x picture")
    with shared_walks():
        # Blocks of 3: the walk's refit on 34 posts then sees posts 34-36 through partial_fit.
        walk_forward_predict(picture, X, y, WalkForwardSplit(min_train_size=34, test_size=test_size))
        before = len(count_fits)
        model = clone(own).fit(X[:34], y[:34])
        assert 34 not in count_fits[before:]  # the walk's fit on the first 34 posts, not a new one
        model.partial_fit(X[34:36], y[34:36])  # the model's own: the session's fit stays as fitted
        again = clone(own).fit(X[:34], y[:34])
    alone = clone(own).fit(X[:34], y[:34])
    np.testing.assert_array_equal(again.predict(X[34:]), alone.predict(X[34:]))
    alone.partial_fit(X[34:36], y[34:36])
    np.testing.assert_array_equal(model.predict(X[36:]), alone.predict(X[36:]))


def test_the_shared_key_is_what_a_clone_is_made_from(posts):
    from spe.model_selection._walk import shared_key

    model = LikesRegressor(image_model=_features())
    key = shared_key(model)
    # A clone, and the model with its pictures cached, refit the same: one key.
    assert key == shared_key(clone(model)) == shared_key(precompute_pictures(model, posts))
    assert shared_key(LikesRegressor(image_model=_features(), shrink=0.5)) != key
    assert shared_key(LikesRegressor(image_model=_features(size=8))) != key
    # clone() carries set_output's setting, which changes what the next step sees.
    as_frame = _features()
    as_frame.steps[1][1].set_output(transform="pandas")
    assert shared_key(LikesRegressor(image_model=as_frame)) != key


def test_first_rows_taken_from_the_sessions_posts_need_no_comparing(posts):
    from spe.model_selection import _shared

    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    other = X.assign(post_index=X["post_index"] + 1)
    with shared_walks():
        session = _shared.current()
        assert session.register(X, y)
        head = _shared.take(X, np.arange(20))
        assert session.prefixes.get(id(head)) is head and session.register(head, y[:20])
        assert session.register(_shared.take(head, np.arange(10)), y[:10])  # a prefix of a prefix
        stranger = _shared.take(other, np.arange(20))  # not the session's posts: compared, and refused
        assert id(stranger) not in session.prefixes and not session.register(stranger, y[:20])
        assert not session.register(head, y[1:21])  # other likes: refused
