import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_regressor
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from spe import ImageFeatures, LikesRegressor, RecentAverageRegressor
from spe.datasets import make_posts
from spe.evaluation import candidates, evaluate

from .test_loader import API_CHECKS


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    getattr(estimator_checks, check)("LikesRegressor", LikesRegressor())


def _features(size=16):
    return make_pipeline(ImageFeatures(size=(size, size), faces=False), StandardScaler(), Ridge(alpha=1.0))


@pytest.mark.parametrize("target", ["ratio", "log_ratio", "residual"])
def test_targets_round_trip_to_likes(posts, target):
    model = LikesRegressor(image_model=DummyRegressor(), target=target).fit(posts, posts["likes"])
    pred = model.predict(posts)
    assert is_regressor(model) and pred.shape == (len(posts),) and np.isfinite(pred).all()
    # With an image model that always predicts the mean adjustment, the
    # prediction is the trend scaled or shifted by one constant.
    trend = model.trend_.predict(posts)
    adjust = {"ratio": pred / trend, "log_ratio": np.log1p(pred) - np.log1p(trend), "residual": pred - trend}
    assert np.ptp(adjust[target]) < 1e-6


def test_no_leakage_a_posts_own_likes_never_reach_its_trend(posts):
    y = posts["likes"].to_numpy(dtype=float)
    model = LikesRegressor(image_model=DummyRegressor(), target="residual").fit(posts, y)
    spiked = y.copy()
    spiked[20] = 10_000
    spiked_model = LikesRegressor(image_model=DummyRegressor(), target="residual").fit(posts, spiked)
    np.testing.assert_array_equal(spiked_model.trend_.predict(posts)[:21], model.trend_.predict(posts)[:21])


def test_later_posts_do_not_change_earlier_predictions(posts):
    full = RecentAverageRegressor().fit(posts, posts["likes"])
    early = RecentAverageRegressor().fit(posts.iloc[:30], posts["likes"].iloc[:30])
    np.testing.assert_array_equal(full.predict(posts.iloc[:30]), early.predict(posts.iloc[:30]))


def test_bad_target_and_clone():
    with pytest.raises(ValueError, match="target"):
        LikesRegressor(target="odds").fit(pd.DataFrame({"post_index": [1, 2]}), [1, 2])
    assert clone(LikesRegressor(target="log_ratio")).target == "log_ratio"


def test_combined_beats_the_recent_average_on_a_realistic_account(tmp_path):
    # The bar: on realistic data, time-ordered CV, MAE at least 10%
    # below the recent average and a better ranking of posts.
    posts = make_posts(200, directory=tmp_path, image_size=(32, 32), realistic=True, random_state=0)
    report = evaluate(candidates(size=32, cnn=False, embeddings=False), posts)
    scores = report.scores
    print(report)
    combined, recent = scores.loc["trend x picture"], scores.loc["recent average (k=10)"]
    assert combined["MAE"] <= 0.9 * recent["MAE"]
    assert combined["Spearman (all folds)"] > recent["Spearman (all folds)"]
    assert scores.loc["image features", "MAE"] > recent["MAE"]  # pixels alone lose, as on real accounts
