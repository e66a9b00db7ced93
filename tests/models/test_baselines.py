import numpy as np
import pandas as pd
import pytest
from sklearn.base import is_regressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from spe import RecentAverageRegressor

EXPECTED_FAILED = {
    "check_regressors_train": "a baseline of the past likes only: it does not fit X to reach R^2 > 0.5",
    "check_fit1d": "a 1-D X is accepted on purpose: it is the list of posting orders",
    "check_regressor_data_not_an_array": "a DataFrame X must have the posting-order column "
    "('post_index'); the check's DataFrame has numbered columns, and guessing one would hide mistakes",
    "check_fit_score_takes_y": "partial_fit refuses posts older than those seen, and the "
    "check calls it with random posting orders",
    "check_fit2d_predict1d": "a 1-D X is read as posting orders (one column), so the error "
    "is the feature-count mismatch, not 'Reshape your data'",
}


@parametrize_with_checks([RecentAverageRegressor(k=3)], expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_uses_only_earlier_posts():
    posts = pd.DataFrame({"post_index": np.arange(1, 8), "likes": [10, 20, 30, 40, 50, 60, 70]})
    model = RecentAverageRegressor(k=2).fit(posts, posts["likes"])
    pred = model.predict(posts)
    # Post 1 has nothing before it: the mean of the first k posts.
    np.testing.assert_allclose(pred, [15, 10, 15, 25, 35, 45, 55])
    # Later posts than any trained on: the last k.
    np.testing.assert_allclose(model.predict(pd.DataFrame({"post_index": [100]})), [65])


def test_unsorted_training_rows_and_arrays():
    model = RecentAverageRegressor(k=3).fit(np.array([3, 1, 2]), [30, 10, 20])
    np.testing.assert_allclose(model.predict([4]), [20])


def test_reads_timestamps():
    posts = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"], utc=True)})
    model = RecentAverageRegressor(k=1, order="timestamp").fit(posts, [1, 2, 3])
    later = pd.DataFrame({"timestamp": pd.to_datetime(["2024-02-15"], utc=True)})
    np.testing.assert_allclose(model.predict(later), [2])


def test_errors_name_the_problem():
    assert is_regressor(RecentAverageRegressor())
    with pytest.raises(ValueError, match="k == 0"):
        RecentAverageRegressor(k=0).fit([1, 2], [1, 2])
    with pytest.raises(ValueError, match="post_index"):
        RecentAverageRegressor().fit(pd.DataFrame({"a": [1], "b": [2]}), [1])
    with pytest.raises(ValueError, match="NaN"):
        RecentAverageRegressor().fit([1, 2], [1, np.nan])


def test_timestamps_of_any_resolution_are_read_on_one_scale():
    times = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    fit_on = pd.DataFrame({"timestamp": times.as_unit("us")})
    model = RecentAverageRegressor(k=1, order="timestamp").fit(fit_on, [1, 2, 3])
    later = pd.DataFrame({"timestamp": pd.to_datetime(["2024-02-15"]).as_unit("ns")})
    np.testing.assert_allclose(model.predict(later), [2])
    aware = pd.DataFrame({"timestamp": pd.to_datetime(["2024-02-15"], utc=True).as_unit("s")})
    np.testing.assert_allclose(model.predict(aware), [2])


def test_a_posts_frame_is_read_without_sklearns_full_validation(monkeypatch):
    import spe.models._baselines as baselines

    def refuse(*args, **kwargs):
        raise AssertionError("validate_data on a DataFrame of posts: the walk pays it thousands of times")

    monkeypatch.setattr(baselines, "validate_data", refuse)
    posts = pd.DataFrame({"post_index": np.arange(1, 7), "likes": [10.0, 20, 30, 40, 50, 60]})
    model = RecentAverageRegressor(k=2).fit(posts[:4], posts["likes"][:4])
    model.partial_fit(posts[4:5], posts["likes"][4:5].to_numpy())
    np.testing.assert_allclose(model.predict(posts[5:]), [45])
    assert model.n_features_in_ == 1 and list(model.feature_names_in_) == ["post_index"]
    with pytest.raises(ValueError, match="'post_index' must hold numbers"):
        RecentAverageRegressor().fit(pd.DataFrame({"post_index": ["a", "b"]}), [1, 2])
    with pytest.raises(ValueError, match="infinity|NaN"):
        RecentAverageRegressor().fit(pd.DataFrame({"post_index": [1.0, np.inf]}), [1, 2])
    with pytest.raises(ValueError, match="'timestamp' has a missing time"):
        RecentAverageRegressor(order="timestamp").fit(
            pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01", None])}), [1, 2]
        )
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        RecentAverageRegressor().fit(posts, [1, 2])
