import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from spe import AutoTrendRegressor, EWMARegressor, RecentAverageRegressor

from .test_baselines import EXPECTED_FAILED


@parametrize_with_checks(
    [EWMARegressor(alpha=0.5), AutoTrendRegressor(windows=(2,), alphas=(0.5,))],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _posts(n=60, seed=0):
    rng = np.random.default_rng(seed)
    likes = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.1, n)) + rng.normal(0, 0.3, n)))
    return pd.DataFrame({"post_index": np.arange(1, n + 1), "likes": likes})


@pytest.mark.parametrize("log", [False, True])
def test_ewma_is_pandas_ewm_of_the_earlier_posts(log):
    posts = _posts()
    model = EWMARegressor(alpha=0.3, log=log).fit(posts, posts["likes"])
    values = np.log1p(posts["likes"]) if log else posts["likes"]
    expected = values.ewm(alpha=0.3).mean().shift(1).to_numpy()[1:]
    expected = np.expm1(expected) if log else expected
    np.testing.assert_allclose(model.predict(posts)[1:], expected)


@pytest.mark.parametrize("model", [RecentAverageRegressor(k=5), EWMARegressor(), AutoTrendRegressor()])
def test_partial_fit_equals_a_fit_on_all_posts(model):
    posts, y = _posts(), _posts()["likes"]
    full = model.fit(posts, y).predict(posts)
    grown = type(model)(**model.get_params()).fit(posts.iloc[:30], y[:30])
    grown.partial_fit(posts.iloc[30:45], y[30:45]).partial_fit(posts.iloc[45:], y[45:])
    np.testing.assert_allclose(grown.predict(posts), full)
    with pytest.raises(ValueError, match=r"partial_fit\(X, y\): X holds a post at post_index=3.*older"):
        grown.partial_fit(posts.iloc[2:3], y[2:3])


def test_auto_trend_never_sees_a_posts_own_or_later_likes():
    posts = _posts(80)
    y = posts["likes"].to_numpy(dtype=float)
    before = AutoTrendRegressor().fit(posts, y).predict(posts)
    for spike in (0, 1, 30):
        spiked = y.copy()
        spiked[spike] = 50_000
        after = AutoTrendRegressor().fit(posts, spiked).predict(posts)
        # Post 0 has no history: its guess is its own likes, and LikesRegressor drops it.
        np.testing.assert_array_equal(after[1 : spike + 1], before[1 : spike + 1])


def test_auto_trend_picks_the_lowest_one_step_error():
    posts = _posts(100)
    model = AutoTrendRegressor().fit(posts, posts["likes"])
    assert model.selected_ == min(model.scores_, key=model.scores_.get)
    assert len(model.scores_) == 5 + 2 * 5
    # A new post is predicted by the chosen trend.
    new = pd.DataFrame({"post_index": [101]})
    np.testing.assert_allclose(model.predict(new), model.trend_.predict(new))


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="alpha"):
        EWMARegressor(alpha=0).fit([1, 2], [1, 2])
    with pytest.raises(ValueError, match="'windows' and 'alphas'"):
        AutoTrendRegressor(windows=(), alphas=()).fit([1, 2], [1, 2])
