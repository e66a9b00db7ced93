import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from spe import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    ConformalLikesRegressor,
    ImageFeatures,
    LikesRegressor,
    RecentAverageRegressor,
    walk_forward_intervals,
)
from spe.datasets import make_posts
from spe.evaluation import evaluate

from ..conftest import API_CHECKS


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    getattr(estimator_checks, check)("ConformalLikesRegressor", ConformalLikesRegressor())


def _xy(posts):
    return posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.2, "0.8", True])
def test_bad_confidence_is_named(posts, confidence):
    X, y = _xy(posts)
    with pytest.raises(ValueError, match="'confidence' must be a float in \\(0, 1\\)"):
        ConformalLikesRegressor(AutoTrendRegressor(), confidence=confidence).fit(X, y)
    with pytest.raises(ValueError, match="'confidence' must be a float in \\(0, 1\\)"):
        evaluate(RecentAverageRegressor(), posts, confidence=confidence)
    with pytest.raises(ValueError, match="'confidence' must be a float in \\(0, 1\\)"):
        walk_forward_intervals(y, y, confidence=confidence)
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(X, y)
    with pytest.raises(ValueError, match="'confidence' must be a float in \\(0, 1\\)"):
        model.predict_interval(X, confidence=confidence)


def test_too_few_posts_say_how_many(posts):
    X, y = _xy(posts)
    # 15 posts in one split: a first stretch of 8, and 7 walked posts.
    with pytest.raises(ValueError, match="at least 10 walked posts.*Fit on at least"):
        ConformalLikesRegressor(AutoTrendRegressor(), n_splits=1).fit(X[:15], y[:15])
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(X[:30], y[:30])
    with pytest.raises(ValueError, match="needs intervals calibrated on at least 99 walked posts"):
        model.predict_interval(X[30:], confidence=0.99)


def test_intervals_widen_with_confidence_and_stay_above_zero(posts):
    X, y = _xy(posts)
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(X[:35], y[:35])
    pred = model.predict(X[35:])
    narrow, default, wide = (model.predict_interval(X[35:], c) for c in (0.5, None, 0.9))
    assert narrow.shape == (5, 2) and np.all(narrow[:, 0] <= pred) and np.all(pred <= narrow[:, 1])
    assert np.all(wide[:, 0] <= default[:, 0]) and np.all(default[:, 0] <= narrow[:, 0])
    assert np.all(wide[:, 1] > default[:, 1]) and np.all(default[:, 1] > narrow[:, 1])
    assert (wide >= 0).all()
    # Fitted attributes the command line and persistence read.
    assert list(model.walk_.columns) == ["actual", "predicted", "trend"] and len(model.walk_) == 25
    np.testing.assert_array_equal(model.walk_["actual"], y[10:35])
    assert model.conformal_.normalized
    assert np.isnan(model.picture_skill_).all()  # the trend has no picture part to rank posts with


def test_reuses_the_walk_of_an_auto_likes_regressor(posts):
    X, y = _xy(posts)
    features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge())
    picture = LikesRegressor(image_model=features)
    auto = AutoLikesRegressor({"trend": AutoTrendRegressor(), "trend x picture": picture})
    model = ConformalLikesRegressor(auto).fit(X, y)
    inner = model.estimator_
    assert isinstance(inner, AutoLikesRegressor)
    np.testing.assert_allclose(model.walk_["predicted"], inner.walk_predictions_[inner.selected_])
    np.testing.assert_allclose(model.walk_["actual"] - model.walk_["predicted"], inner.walk_residuals_)
    # The fallback trend walked forward is the trend column.
    np.testing.assert_allclose(model.walk_["trend"], inner.walk_predictions_["trend"])
    # Its trend keeps learning the new posts.
    model.partial_fit(X[-1:], y[-1:])
    with pytest.raises(ValueError, match="older than the latest post"):
        model.partial_fit(X[:1], y[:1])


def test_unfitted_model_says_so(posts):
    with pytest.raises(NotFittedError):
        ConformalLikesRegressor(AutoTrendRegressor()).predict_interval(posts)


def test_partial_fit_only_when_the_estimator_has_it():
    assert hasattr(ConformalLikesRegressor(AutoTrendRegressor()), "partial_fit")
    assert not hasattr(ConformalLikesRegressor(Ridge()), "partial_fit")


def test_online_intervals_hold_on_a_steady_series():
    rng = np.random.RandomState(0)
    predicted = 100 * np.exp(np.linspace(0, 1, 2000))
    actual = predicted * np.exp(0.3 * rng.randn(2000))
    for normalize, lo, hi in ((True, 0.78, 0.82), (False, 0.5, 0.8)):
        low, high = walk_forward_intervals(actual, predicted, normalize=normalize)
        assert np.isnan(low[:20]).all() and not np.isnan(low[20:]).any()
        inside = ((actual >= low) & (actual <= high))[20:].mean()
        # Growing likes: one width for all posts under-covers the later, bigger ones.
        assert lo <= inside <= hi, (normalize, inside)


@pytest.mark.parametrize("pixel_effect", [None, 0.0])
def test_evaluate_reports_coverage_that_holds(tmp_path, pixel_effect):
    # Issue 13's goal: 80% intervals cover 75 to 85% of held-out posts, realistic and null accounts.
    # Three accounts of 400 posts, 330 walked and 310 past the warm-up each: pooled, the sampling
    # noise of the coverage is about sqrt(.16 / 930) = 0.013.
    inside, walked = [], []
    for seed in range(3):
        posts = make_posts(
            400,
            directory=tmp_path / str(seed),
            image_size=(8, 8),
            realistic=True,
            pixel_effect=pixel_effect,
            random_state=seed,
        )
        # Trends refitted every 10 posts predict as if refitted every post (partial_fit in between).
        report = evaluate({"trend": AutoTrendRegressor()}, posts, refit_every=10)
        scores = report.scores
        assert {"80% coverage", "80% width"} <= set(scores.columns)
        assert (scores["80% width"] > 0).all()
        n = len(report.predictions) - 20
        inside.append(scores.loc["trend", "80% coverage"] * n)
        walked.append(n)
    coverage = sum(inside) / sum(walked)
    print(f"pooled 80% coverage {coverage:.3f} over {sum(walked)} posts")
    assert 0.75 <= coverage <= 0.85, coverage


def test_time_protocol_leaves_the_interval_columns_out(posts):
    report = evaluate(RecentAverageRegressor(), posts, cv="time", n_splits=4)
    assert not any("coverage" in column for column in report.scores.columns)


def test_fitted_intervals_cover_the_next_posts(tmp_path):
    # Fitted on the first 200 posts, asked about each of the next 200 in turn, its trend
    # updated after each: about 80% of them inside.
    posts = make_posts(400, directory=tmp_path, image_size=(8, 8), realistic=True, random_state=0)
    X, y = _xy(posts)
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(X[:200], y[:200])
    bounds = []
    for i in range(200, 400):
        bounds.append(model.predict_interval(X[i : i + 1])[0])
        model.partial_fit(X[i : i + 1], y[i : i + 1])
    low, high = np.array(bounds).T
    coverage = ((y[200:] >= low) & (y[200:] <= high)).mean()
    print(f"80% coverage of the next 200 posts {coverage:.3f}")
    assert 0.7 <= coverage <= 0.9, coverage


def test_the_trend_sets_the_width_not_the_picture(posts):
    # A picture model that extrapolates to a tiny prediction must not get a tiny interval.
    X, y = _xy(posts)
    picture = LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge()))
    model = ConformalLikesRegressor(picture).fit(X[:35], y[:35])
    pred, bounds = model.predict(X[35:]), model.predict_interval(X[35:])
    assert (
        np.ptp(pred) > 1 and np.isfinite(model.picture_skill_).all()
    )  # the pictures move the predictions ...
    unclipped = bounds[:, 0] > 0
    widths = np.diff(bounds, axis=1).ravel()[unclipped]
    np.testing.assert_allclose(widths, widths[0])  # ... not the width, the same for posts at one level
    rng = np.random.RandomState(0)
    actual, predicted = 100 * np.exp(0.3 * rng.randn(40)), np.r_[np.full(39, 100.0), 5.0]
    by_trend = walk_forward_intervals(actual, predicted, trend=np.full(40, 100.0))
    by_prediction = walk_forward_intervals(actual, predicted)
    assert np.diff(by_trend, axis=0)[0, -1] > 10 * np.diff(by_prediction, axis=0)[0, -1]
