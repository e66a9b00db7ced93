import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from spe import AutoTrendRegressor, AveragedLikesRegressor, EWMARegressor, ImageFeatures, LikesRegressor
from spe.models._average import geometric_mean_likes

from ..conftest import API_CHECKS


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    model = AveragedLikesRegressor([("trend", AutoTrendRegressor()), ("ewma", EWMARegressor())])
    getattr(estimator_checks, check)("AveragedLikesRegressor", model)


@pytest.fixture(scope="module")
def posts(account):
    return account(40, 16)


def _members():
    features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    return [
        ("ratio", LikesRegressor(image_model=features)),
        ("log", LikesRegressor(image_model=clone(features), target="log_ratio")),
    ]


def test_predicts_the_geometric_mean_of_its_members_likes(posts):
    X, y = posts.drop(columns="likes"), posts["likes"]
    model = AveragedLikesRegressor(_members()).fit(X.iloc[:30], y.iloc[:30])
    alone = [clone(m).fit(X.iloc[:30], y.iloc[:30]).predict(X.iloc[30:]) for _, m in _members()]
    expected = np.sqrt((alone[0] + 1) * (alone[1] + 1)) - 1
    assert np.allclose(model.predict(X.iloc[30:]), expected)
    assert np.allclose(model.transform(X.iloc[30:]), np.column_stack(alone))
    assert list(model.named_estimators_) == ["ratio", "log"]
    assert model.named_estimators_["log"] is model.estimators_[1]
    # Between two members' predictions, never beyond them.
    assert np.all(model.predict(X.iloc[30:]) <= np.maximum(*alone) + 1e-9)
    assert np.all(model.predict(X.iloc[30:]) >= np.minimum(*alone) - 1e-9)


def test_a_mean_of_one_model_is_that_model(posts):
    X, y = posts.drop(columns="likes"), posts["likes"]
    one = AveragedLikesRegressor([("trend", AutoTrendRegressor())]).fit(X, y)
    assert np.allclose(one.predict(X), AutoTrendRegressor().fit(X, y).predict(X))


def test_partial_fit_passes_new_posts_to_every_member(posts):
    X, y = posts.drop(columns="likes"), posts["likes"]
    members = [("auto", AutoTrendRegressor()), ("ewma", EWMARegressor(alpha=0.3))]
    model = AveragedLikesRegressor(members).fit(X.iloc[:30], y.iloc[:30])
    before = model.predict(X.iloc[35:])
    model.partial_fit(X.iloc[30:35], y.iloc[30:35])
    alone = [clone(m).fit(X.iloc[:30], y.iloc[:30]) for _, m in members]
    alone = [m.partial_fit(X.iloc[30:35], y.iloc[30:35]) for m in alone]
    expected = geometric_mean_likes(np.column_stack([m.predict(X.iloc[35:]) for m in alone]))
    assert np.allclose(model.predict(X.iloc[35:]), expected)
    assert not np.allclose(model.predict(X.iloc[35:]), before)
    # Both trends predict from earlier posts only, so the walk may pass a block at once.
    assert model._predicts_from_earlier_posts


def test_geometric_mean_of_likes_counts_negative_predictions_as_zero():
    assert geometric_mean_likes(np.array([[-5.0, 3.0]]))[0] == pytest.approx(1.0)
    assert np.allclose(geometric_mean_likes(np.array([[0.0, 0.0], [8.0, 8.0]])), [0.0, 8.0])


@pytest.mark.parametrize(
    "estimators, message",
    [
        ([], "non-empty list of \\(name, regressor\\) pairs"),
        ("trend", "non-empty list"),
        ([AutoTrendRegressor()], "non-empty list"),
        ([("a", AutoTrendRegressor()), ("a", EWMARegressor())], "names a model twice: \\['a', 'a'\\]"),
    ],
)
def test_bad_estimators_are_named(posts, estimators, message):
    with pytest.raises(ValueError, match=f"AveragedLikesRegressor parameter 'estimators'.*{message}"):
        AveragedLikesRegressor(estimators).fit(posts, posts["likes"])
