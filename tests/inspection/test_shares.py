import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import ImageFeatures, LikesRegressor
from spe.exceptions import NotExplainableError
from spe.inspection import feature_importance, picture_contributions, top_reasons
from spe.models import AveragedLikesRegressor


@pytest.fixture(scope="module")
def posts(account):
    return account(60, 16)


def _features(*steps):
    return make_pipeline(ImageFeatures(size=(16, 16), faces=False), *steps, StandardScaler(), RidgeCV())


def _mean(posts, second="log_ratio", steps=()):
    members = [
        ("ratio", LikesRegressor(image_model=_features())),
        ("other", LikesRegressor(image_model=_features(*steps), target=second)),
    ]
    return AveragedLikesRegressor(members).fit(posts, posts["likes"])


def test_a_means_contributions_add_up_to_its_log_factor(posts):
    model = _mean(posts)
    parts = picture_contributions(model, posts)
    ratio, log = (m.image_model_.predict(posts) for m in model.estimators_)
    # The mean's log picture factor is the mean of its members' (a ratio member's as its log).
    expected = (np.log(np.maximum(ratio, 1e-9)) + log) / 2
    assert parts.attrs["target"] == "log_ratio" and parts.attrs["unit"] == "fraction of the trend"
    assert np.allclose(parts.attrs["baseline"] + np.log1p(parts.to_numpy()).sum(axis=1), expected)
    # Both members read the same 13 features: one column each, the two shares multiplied.
    assert parts.shape == (len(posts), 13)
    ratio_parts, log_parts = (picture_contributions(m, posts) for m in model.estimators_)
    # A ratio member's log factor shared out in proportion to its contributions, half weight each.
    b, total = ratio_parts.attrs["baseline"], ratio_parts.sum(axis=1)
    ratio_share = ratio_parts["brightness"] * (np.log(b + total) - np.log(b)) / total
    expected = np.expm1((ratio_share + np.log1p(log_parts["brightness"])) / 2)
    assert np.allclose(parts["brightness"], expected)
    assert top_reasons(parts).str.contains("%").all()


def test_a_means_unnamed_member_is_one_reason_and_left_out_of_the_coefficients(posts):
    model = _mean(posts, steps=(PCA(n_components=3),))
    parts = picture_contributions(model, posts)
    assert "the picture as a whole" in parts.columns and parts.shape[1] == 14
    importance = feature_importance(model)
    assert list(importance.attrs["left_out"]) == ["other"]
    assert "embeddings, components or pixels" in importance.attrs["left_out"]["other"]
    alone = feature_importance(model.estimators_[0])
    # The ratio member's coefficients, each as half of the mean's log factor: log1p(c / b) / 2.
    b = alone.attrs["baseline"]
    expected = np.expm1(np.log1p(alone["coefficient"] / b) / 2)
    assert np.allclose(importance["coefficient"], expected[importance.index])
    # The baseline counts the unnamed member too: the mean of the two log intercepts.
    other = model.estimators_[1].image_model_[-1].intercept_
    assert importance.attrs["baseline"] == pytest.approx((np.log(b) + other) / 2)


def test_a_mean_with_a_member_of_likes_added_says_why(posts):
    model = _mean(posts, second="residual")
    with pytest.raises(NotExplainableError, match="'residual'"):
        picture_contributions(model, posts)


def test_a_mean_of_members_without_names_says_why(posts):
    members = [("pca", LikesRegressor(image_model=_features(PCA(n_components=2)), target="log_ratio"))]
    model = AveragedLikesRegressor(members).fit(posts, posts["likes"])
    with pytest.raises(NotExplainableError, match="mean of models none of which has them.*'pca'"):
        feature_importance(model)
    assert list(picture_contributions(model, posts).columns) == ["the picture as a whole"]
