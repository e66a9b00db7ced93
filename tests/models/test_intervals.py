import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from spe import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    ConformalLikesRegressor,
    EWMARegressor,
    ImageFeatures,
    LikesRegressor,
    RecentAverageRegressor,
    walk_forward_intervals,
)
from spe.evaluation import WalkForwardSplit, evaluate, walk_forward_predict
from spe.models._intervals import interval_scores

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


#: The trends an interval must hold with: the account's chosen trend and the robust geometric EWMA.
#: Any trend with fit/predict on posts goes here (e.g. a robust AutoTrendRegressor option).
TRENDS = {"AutoTrendRegressor": AutoTrendRegressor(), "EWMA of log likes": EWMARegressor(log=True)}
PRESETS = {
    "realistic": {"realistic": True},
    "null": {"realistic": True, "pixel_effect": 0.0},
    "spiky": {"spiky": True},
}


def _walked(account, preset, trend, seed, n=400):
    """A trend's walk-forward predictions over one synthetic account: (actual, predicted)."""
    posts = account(n, size=8, random_state=seed, **PRESETS[preset])
    X, y = _xy(posts)
    cv = WalkForwardSplit(n_splits=5).refitting(n, refit_every=10)
    predicted = walk_forward_predict(TRENDS[trend], X, y, cv)
    walked = ~np.isnan(predicted)
    return y[walked], predicted[walked]


def _pooled(walks, **options):
    """Coverage pooled over accounts, and mean width, of walk_forward_intervals."""
    inside, widths = [], []
    for actual, predicted in walks:
        low, high = walk_forward_intervals(actual, predicted, **options)
        kept = ~np.isnan(low)
        inside.append((actual[kept] >= low[kept]) & (actual[kept] <= high[kept]))
        widths.append((high - low)[kept])
    return np.concatenate(inside).mean(), np.concatenate(widths).mean()


@pytest.mark.parametrize("trend", sorted(TRENDS))
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_pooled_coverage_holds_on_every_preset_with_any_trend(account, preset, trend):
    # Issue 26's goal at full size: 3 accounts of 400 posts, 330 walked and 310 past the warm-up each;
    # pooled, the sampling noise of an honest 80% coverage is about sqrt(.16 / 930) = 0.013.
    walks = [_walked(account, preset, trend, seed) for seed in range(3)]
    adaptive, adaptive_width = _pooled(walks)
    fixed, fixed_width = _pooled(walks, aci_step=None)
    print(f"{preset}, {trend}: coverage {fixed:.3f} -> {adaptive:.3f}", end=", ")
    print(f"width {fixed_width:.1f} -> {adaptive_width:.1f}")
    assert 0.77 <= adaptive <= 0.83, adaptive
    if preset == "spiky":
        # Today's fixed level under-covers the account that is not well-behaved.
        assert fixed < 0.77, fixed
    else:
        assert adaptive_width <= 1.10 * fixed_width, (adaptive_width, fixed_width)


def test_evaluate_scores_the_adaptive_intervals(account):
    posts = account(200, size=8, spiky=True, random_state=1)
    report = evaluate({"trend": AutoTrendRegressor()}, posts, refit_every=10)
    walked = report.predictions
    actual, trend = walked["actual"].to_numpy(), walked["trend chosen on training posts"].to_numpy()
    for aci_step in (0.05, None):
        low, high = walk_forward_intervals(actual, walked["trend"], trend=trend, aci_step=aci_step)
        kept = ~np.isnan(low)
        coverage = ((actual >= low) & (actual <= high))[kept].mean()
        if aci_step:
            assert report.scores.loc["trend", "80% coverage"] == pytest.approx(coverage)
            assert report.scores.loc["trend", "80% width"] == pytest.approx((high - low)[kept].mean())
        else:
            assert report.scores.loc["trend", "80% coverage"] > coverage + 0.02  # fixed falls short here


def test_time_protocol_leaves_the_interval_columns_out(posts):
    report = evaluate(RecentAverageRegressor(), posts, cv="time", n_splits=4)
    assert not any("coverage" in column for column in report.scores.columns)


def _forward_coverage(posts, **options):
    """Fitted on the first 200 posts, asked about each of the next 200 in turn, updated after each."""
    X, y = _xy(posts)
    model = ConformalLikesRegressor(AutoTrendRegressor(), **options).fit(X[:200], y[:200])
    bounds = []
    for i in range(200, 400):
        bounds.append(model.predict_interval(X[i : i + 1])[0])
        model.partial_fit(X[i : i + 1], y[i : i + 1])
    low, high = np.array(bounds).T
    return ((y[200:] >= low) & (y[200:] <= high)).mean()


def test_fitted_intervals_cover_the_next_posts(account):
    # About 80% of the next 200 posts inside.
    coverage = _forward_coverage(account(400, size=8, realistic=True, random_state=0))
    print(f"80% coverage of the next 200 posts {coverage:.3f}")
    assert 0.7 <= coverage <= 0.9, coverage


def test_fitted_intervals_adapt_to_a_spiky_account(account):
    # The second half of a spiky account is noisier than the first: a fixed level calibrated on the
    # first half (and every later post) covers 70% of it; the level that adapts to the misses, 78%.
    posts = account(400, size=8, spiky=True, random_state=1)
    fixed, adaptive = _forward_coverage(posts, aci_step=None), _forward_coverage(posts)
    print(f"80% coverage of the next 200 posts: fixed {fixed:.3f}, adaptive {adaptive:.3f}")
    assert fixed < 0.75 and 0.75 <= adaptive <= 0.85, (fixed, adaptive)


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


@pytest.mark.parametrize("aci_step", [0, -0.05, 1.5, "0.05", True])
def test_bad_aci_step_is_named(posts, aci_step):
    X, y = _xy(posts)
    message = "'aci_step' must be a float in \\(0, 1\\], e.g. 0.05, or None"
    with pytest.raises(ValueError, match=message):
        walk_forward_intervals(y, y, aci_step=aci_step)
    with pytest.raises(ValueError, match=message):
        ConformalLikesRegressor(AutoTrendRegressor(), aci_step=aci_step).fit(X, y)
    with pytest.raises(ValueError, match=message):
        interval_scores(y, {"y": y}, aci_step=aci_step)


def test_too_short_a_walk_says_how_many_posts_it_needs():
    y = np.arange(1.0, 21)
    with pytest.raises(
        ValueError, match=r"needs at least 21 walked posts: 20 to calibrate \(min_calibration=20"
    ):
        walk_forward_intervals(y, y)
    with pytest.raises(
        ValueError, match=r"needs at least 20 walked posts: 19 to calibrate \(min_calibration=5, "
    ):
        walk_forward_intervals(y[:19], y[:19], min_calibration=5, confidence=0.95)
    # evaluate scores short walks too: no interval, no error.
    assert interval_scores(y, {"y": y}).isna().all().all()


def test_the_fixed_level_is_split_conformal_as_before():
    # aci_step=None gives exactly what spe gave before the level adapted: crepes' interval at the
    # nominal level, calibrated on the residuals of the posts before each post.
    from crepes import ConformalRegressor

    rng = np.random.RandomState(0)
    trend = 100 * np.exp(np.linspace(0, 1, 60))
    predicted = trend * np.exp(0.1 * rng.randn(60))
    actual = trend * np.exp(0.3 * rng.randn(60))
    low, high = walk_forward_intervals(actual, predicted, trend=trend, aci_step=None)
    for i in range(20, 60):
        crepes = ConformalRegressor().fit(actual[:i] - predicted[:i], sigmas=trend[:i])
        expected = crepes.predict_int(predicted[i : i + 1], sigmas=trend[i : i + 1], confidence=0.8, y_min=0)
        np.testing.assert_allclose([low[i], high[i]], expected[0])


def test_a_run_of_misses_widens_the_intervals_and_hits_narrow_them():
    # Steady errors, then from post 60 on errors three times as large: the fixed level misses most
    # of them; the adaptive level widens after each miss and catches up.
    rng = np.random.RandomState(0)
    predicted = np.full(160, 100.0)
    noise = np.r_[np.full(60, 10.0), np.full(100, 30.0)] * rng.randn(160)
    actual = predicted + noise
    fixed = walk_forward_intervals(actual, predicted, aci_step=None)
    adaptive = walk_forward_intervals(actual, predicted, aci_step=0.05)

    def inside(bounds, part):
        return ((actual >= bounds[0]) & (actual <= bounds[1]))[part].mean()

    late = slice(60, None)
    assert inside(fixed, late) < 0.65 and inside(adaptive, late) > inside(fixed, late) + 0.1
    soon = slice(60, 100)  # the 40 posts after the change: the fixed calibration still remembers calm
    assert np.diff(adaptive, axis=0)[0, soon].mean() > 1.3 * np.diff(fixed, axis=0)[0, soon].mean()
    # Before the change, every hit lowered the level: narrower than the fixed level's or equal.
    assert (np.diff(adaptive, axis=0)[0, 20:60] <= np.diff(fixed, axis=0)[0, 20:60] + 1e-9).mean() > 0.8


def test_partial_fit_moves_the_level_by_the_step_after_a_miss_or_a_hit(posts):
    X, y = _xy(posts)
    model = ConformalLikesRegressor(AutoTrendRegressor(), aci_step=0.1).fit(X[:30], y[:30])
    level, walked = model.adapted_confidence_, len(model.walk_)
    low, high = model.predict_interval(X[30:31])[0]
    model.partial_fit(X[30:31], [3 * high])  # far outside: a miss
    assert model.adapted_confidence_ == pytest.approx(level + 0.1 * 0.8)
    assert len(model.walk_) == walked + 1 and model.walk_["actual"].iloc[-1] == 3 * high
    low, high = model.predict_interval(X[31:32])[0]
    model.partial_fit(X[31:32], [(low + high) / 2])  # inside: a hit
    assert model.adapted_confidence_ == pytest.approx(level + 0.1 * 0.8 - 0.1 * 0.2)
    # The same level as walking the whole calibration afresh, and the calibration holds every post.
    assert model._adapted(0.8) == pytest.approx(model.adapted_confidence_)
    assert len(model.conformal_.alphas) == walked + 2
    # A model with a fixed level keeps it, and still learns the new posts' errors.
    fixed = ConformalLikesRegressor(AutoTrendRegressor(), aci_step=None).fit(X[:30], y[:30])
    fixed.partial_fit(X[30:31], [3 * high])
    assert fixed.adapted_confidence_ == 0.8 and len(fixed.conformal_.alphas) == walked + 1


def test_saved_model_keeps_its_level_and_an_older_one_keeps_a_fixed_level(posts, tmp_path):
    from spe.persistence import load_model, save_model

    X, y = _xy(posts)
    model = ConformalLikesRegressor(AutoTrendRegressor(), aci_step=0.2).fit(X[:35], y[:35])
    assert model.adapted_confidence_ != 0.8  # 15 walked posts moved it
    loaded = load_model(save_model(model, tmp_path / "model", data=posts.iloc[:35]))
    assert loaded.adapted_confidence_ == model.adapted_confidence_
    np.testing.assert_allclose(loaded.predict_interval(X[35:]), model.predict_interval(X[35:]))
    # A model fitted before the level adapted has neither attribute: it keeps split-conformal intervals.
    fixed = ConformalLikesRegressor(AutoTrendRegressor(), aci_step=None).fit(X[:35], y[:35])
    del loaded.aci_step, loaded.adapted_confidence_
    np.testing.assert_allclose(loaded.predict_interval(X[35:]), fixed.predict_interval(X[35:]))
    np.testing.assert_allclose(loaded.predict_interval(X[35:], 0.9), fixed.predict_interval(X[35:], 0.9))


# -- issue 36: small accounts ----------------------------------------------------------------------


def _own(size=16):
    picture = LikesRegressor(
        image_model=make_pipeline(ImageFeatures(size=(size, size), faces=False), Ridge())
    )
    return AutoLikesRegressor({"trend": AutoTrendRegressor(), "trend x picture": picture})


@pytest.mark.parametrize("n_posts", [12, 18, 20, 24, 26, 30])
def test_small_accounts_fit_or_say_in_one_line_how_many_posts_they_need(account, n_posts):
    # On 24 posts (and 12, 18: a multiple of 6) the own model walked from post 5 and the
    # intervals from post 4: "All arrays must be of the same length".
    X, y = _xy(account(n_posts))
    model = ConformalLikesRegressor(_own())
    assert model.fewest_posts() == 15
    if n_posts < 15:
        with pytest.raises(ValueError, match=f"{n_posts} posts give 7. Fit on at least 15 posts\\.$"):
            model.fit(X, y)
        return
    model.fit(X, y)
    inner = model.estimator_
    np.testing.assert_array_equal(model.walk_.index, inner.walk_predictions_.index)  # the same posts
    np.testing.assert_array_equal(model.walk_["actual"], y[model.walk_.index])
    if n_posts % 6 == 0:
        assert model.walk_.index[0] == 5  # the first stretch: at least 5 posts


def test_evaluate_walks_the_conformal_own_model_past_its_small_first_refits(account):
    # The outer walk's first refits fit it on 20, 24, 28 ... posts.
    report = evaluate(ConformalLikesRegressor(_own()), account(120), cv="walk")
    assert np.isfinite(report.scores.loc["model", "MAE"])


def test_fit_reports_each_walk_and_refit_and_predicts_the_same(posts):
    X, y = _xy(posts)
    steps = []
    model = ConformalLikesRegressor(_own()).fit(X, y, progress=steps.append)
    alone = ConformalLikesRegressor(_own()).fit(X, y)
    pd.testing.assert_frame_equal(model.walk_, alone.walk_)
    names = list(dict.fromkeys(step.step for step in steps))
    assert names == [
        "calibrating intervals: walking the trend forward over 30 posts",
        "featurizing the pictures for trend x picture",
        "choosing: walking trend forward over 30 posts",
        "choosing: walking trend x picture forward over 30 posts",
        f"fitting {model.estimator_.selected_} on all 40 posts",
    ]
    walks = [step for step in steps if step.step.startswith(("calibrating", "choosing"))]
    assert [s.walks_left for s in walks if s.done == 0] == [2, 1, 0]  # the last walk: nothing left untimed
    first = [s for s in walks if s.step == names[2]]
    assert [s.done for s in first] == list(range(first[0].total + 1)) and first[0].total > 1
