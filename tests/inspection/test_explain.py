import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageEnhance
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from spe import AutoLikesRegressor, AutoTrendRegressor, ImageFeatures, LikesRegressor
from spe.evaluation import candidates
from spe.exceptions import NotExplainableError
from spe.inspection import feature_importance, picture_contributions, top_reasons


@pytest.fixture(scope="module")
def posts(account):
    return account(60, 16)


def _features(**kwargs):
    return make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), RidgeCV(**kwargs))


def _sixteen():
    return candidates(size=16, cnn=False, embeddings=False, post_features=True)


@pytest.mark.parametrize("target", ["ratio", "log_ratio", "residual"])
def test_contributions_add_up_to_the_image_models_prediction(posts, target):
    model = LikesRegressor(image_model=_features(), target=target).fit(posts, posts["likes"])
    parts = picture_contributions(model, posts)
    predicted = model.image_model_.predict(posts)
    baseline = parts.attrs["baseline"]
    assert parts.shape == (len(posts), 13) and list(parts.index) == list(posts.index)
    assert parts.attrs["target"] == target
    if target == "log_ratio":  # percentages of likes + 1, which multiply
        assert np.allclose(np.exp(baseline) * np.prod(1 + parts.to_numpy(), axis=1), np.exp(predicted))
        assert parts.attrs["unit"] == "fraction of the trend"
    else:
        assert np.allclose(baseline + parts.sum(axis=1), predicted)
        assert parts.attrs["unit"] == ("likes" if target == "residual" else "fraction of the trend")
    # The account's average picture (z = 0) has the baseline as its factor.
    assert baseline == pytest.approx(model.image_model_[-1].intercept_)


def test_contributions_of_picture_and_post_features_add_up(posts):
    model = _sixteen()["trend x picture + post"].fit(posts, posts["likes"])
    parts = picture_contributions(model, posts)
    assert {"picture__brightness", "picture__face_count", "post__hour_sin", "post__hashtags"} <= set(parts)
    assert np.allclose(parts.attrs["baseline"] + parts.sum(axis=1), model.image_model_.predict(posts))
    # The hour's two circle coordinates make one reason.
    hour = parts[["post__hour_sin", "post__hour_cos"]].sum(axis=1)
    reasons = top_reasons(parts, n=len(parts.columns))
    assert all(line.count("hour of posting") == 1 for line in reasons[hour != 0])
    assert not any("hour_sin" in line or "picture__" in line for line in reasons)


def test_a_brighter_picture_gets_a_larger_brightness_contribution(posts, tmp_path):
    model = LikesRegressor(image_model=_features()).fit(posts, posts["likes"])
    coef = feature_importance(model).loc["brightness", "coefficient"]
    assert coef != 0
    post = posts.iloc[[-1]]
    brighter = tmp_path / "brighter.png"
    with Image.open(post["image"].iloc[0]) as image:
        ImageEnhance.Brightness(image.convert("RGB")).enhance(1.6).save(brighter)
    both = pd.concat([post, post.assign(image=str(brighter))], ignore_index=True)
    brightness = picture_contributions(model, both)["brightness"].to_numpy()
    assert np.sign(brightness[1] - brightness[0]) == np.sign(coef)


def _planted_account(folder, n=60, seed=0):
    """Posts whose likes rise with brightness only; colour and texture vary at random."""
    rng = np.random.RandomState(seed)
    level = rng.uniform(0.15, 0.85, n)
    rows = []
    for i in range(n):
        noise = rng.uniform(-1, 1, (16, 16, 3)) * rng.uniform(0.02, 0.15) + rng.uniform(-0.1, 0.1, 3)
        pixels = np.clip(level[i] + noise, 0, 1)
        path = folder / f"{i}.png"
        Image.fromarray((pixels * 255).astype(np.uint8)).save(path)
        rows.append({"image": str(path), "post_index": i + 1})
    z = (level - level.mean()) / level.std()
    likes = np.round(100 * np.exp(0.3 * z + 0.03 * rng.standard_normal(n)))
    return pd.DataFrame(rows), likes


def test_a_planted_brightness_effect_is_the_top_reason(tmp_path):
    X, likes = _planted_account(tmp_path)
    model = LikesRegressor(image_model=_features()).fit(X, likes)
    importance = feature_importance(model)
    assert importance.index[0] == "brightness" and importance["coefficient"].iloc[0] > 0.1
    parts = picture_contributions(model, X)
    reasons = top_reasons(parts, n=1)
    far = np.abs(StandardScaler().fit_transform(parts[["brightness"]])).ravel() > 1
    assert far.sum() > 5
    assert all(line.startswith("brightness ") for line in reasons[far])
    # Brighter than average: a "+"; darker: a "-".
    signs = reasons[far].str.split().str[1].str[0]
    assert (signs == np.where(parts["brightness"][far] > 0, "+", "-")).all()


def test_auto_likes_regressor_is_unwrapped_when_it_chose_a_picture_model(posts):
    # One candidate: the picture model is chosen whatever the walk says.
    own = AutoLikesRegressor({"picture": LikesRegressor(image_model=_features())}, fallback="picture")
    own.fit(posts, posts["likes"])
    assert own.selected_ == "picture"
    # Its picture model saw the pictures through the walk's cache; the names survive.
    expected = picture_contributions(
        LikesRegressor(image_model=_features()).fit(posts, posts["likes"]), posts
    )
    pd.testing.assert_frame_equal(picture_contributions(own, posts), expected)
    assert feature_importance(own).index[0] == feature_importance(own.estimator_).index[0]


def test_auto_likes_regressor_that_chose_the_trend_has_no_picture_factor(posts):
    own = AutoLikesRegressor({"trend": AutoTrendRegressor()}).fit(posts, posts["likes"])
    with pytest.raises(NotExplainableError, match="chose 'trend'.*trend alone.*no picture factor"):
        picture_contributions(own, posts)
    with pytest.raises(NotExplainableError, match="trend alone"):
        feature_importance(own)


class _Wrapper(RegressorMixin, BaseEstimator):
    """Any meta-estimator that keeps its fitted model as ``estimator_`` (as intervals do)."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


def test_any_model_holding_one_as_estimator_is_unwrapped(posts):
    inner = AutoLikesRegressor({"picture": LikesRegressor(image_model=_features())}, fallback="picture")
    wrapped = _Wrapper(_Wrapper(inner)).fit(posts, posts["likes"])
    parts = picture_contributions(wrapped, posts)
    pd.testing.assert_frame_equal(parts, picture_contributions(wrapped.estimator_.estimator_, posts))


@pytest.mark.parametrize(
    "image_model, message",
    [
        (DummyRegressor(), "not a pipeline"),
        (make_pipeline(ImageFeatures(size=(16, 16), faces=False), DecisionTreeRegressor()), "not linear"),
        (make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge()), "StandardScaler"),
        # components: "the picture as a whole" (tests/inspection/test_embedding_reasons.py)
    ],
)
def test_a_picture_factor_without_named_linear_features_says_why(posts, image_model, message):
    model = LikesRegressor(image_model=image_model).fit(posts, posts["likes"])
    with pytest.raises(NotExplainableError, match=message):
        picture_contributions(model, posts)
    with pytest.raises(NotExplainableError, match=message):
        feature_importance(model)


@pytest.mark.parametrize("name", ["image features", "trend only"])
def test_models_without_a_trend_x_picture_factor_say_why(posts, name):
    model = _sixteen()[name].fit(posts, posts["likes"])
    with pytest.raises(NotExplainableError, match="does not predict likes as trend x picture"):
        picture_contributions(model, posts)


def test_an_unfitted_model_is_refused():
    with pytest.raises(NotFittedError):
        feature_importance(LikesRegressor())


def test_top_reasons_are_the_largest_by_size_in_words():
    parts = pd.DataFrame(
        {
            "picture__brightness": [0.061, 0.0, 0.0],
            "picture__face_count": [-0.034, 0.0, 0.002],
            "post__hour_sin": [0.01, 0.0, 0.0],
            "post__hour_cos": [0.012, 0.0, 0.0],
            "my_column": [0.001, 0.0, 0.0],
        },
        index=[7, 8, 9],
    )
    reasons = top_reasons(parts)
    assert reasons.tolist() == [
        "brightness +6%, faces -3%, hour of posting +2%",
        "no feature stands out",
        "faces +0.2%",
    ]
    assert list(reasons.index) == [7, 8, 9]
    assert top_reasons(parts, n=5)[7].endswith("my column +0.1%")
    parts.attrs["unit"] = "likes"
    assert top_reasons(parts * 100, n=1)[7] == "brightness +6 likes"
    with pytest.raises(ValueError, match="'n'"):
        top_reasons(parts, n=0)


def test_log_ratio_reasons_of_one_thing_multiply():
    parts = pd.DataFrame({"hour_sin": [0.10], "hour_cos": [0.10]})
    parts.attrs.update(target="log_ratio", unit="fraction of the trend")
    assert top_reasons(parts).tolist() == ["hour of posting +21%"]  # 1.1 * 1.1 = 1.21


@pytest.mark.parametrize("target", ["ratio", "log_ratio", "residual"])
def test_feature_importance_is_the_standardised_coefficients_largest_first(posts, target):
    model = LikesRegressor(image_model=_features(), target=target).fit(posts, posts["likes"])
    importance = feature_importance(model)
    coef = pd.Series(model.image_model_[-1].coef_, index=model.image_model_[:-1].get_feature_names_out())
    expected = np.expm1(coef) if target == "log_ratio" else coef
    assert np.allclose(importance["coefficient"], expected[importance.index])
    assert (np.diff(importance["coefficient"].abs().to_numpy()) <= 0).all()
    assert importance.loc["edge_density", "reason"] == "edges"
    scale = pd.Series(model.image_model_[-2].scale_, index=coef.index)
    assert np.allclose(importance["standard deviation"], scale[importance.index])
