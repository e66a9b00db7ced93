"""Reasons of a picture model without named features: the picture as a whole, and the closest past posts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import AutoTrendRegressor, ImageFeatures, LikesRegressor
from spe.exceptions import NotExplainableError
from spe.inspection import closest_posts, feature_importance, picture_contributions, top_reasons
from spe.inspection._explain import WHOLE_PICTURE


@pytest.fixture(scope="module")
def components(posts):
    # PCA components stand for embeddings here: features without names (the real backbone: slow tests).
    image_model = make_pipeline(ImageFeatures(size=(16, 16), faces=False), PCA(3), StandardScaler(), Ridge())
    return LikesRegressor(image_model=image_model).fit(posts, posts["likes"])


def test_unnamed_features_give_one_reason_the_picture_as_a_whole(posts, components):
    parts = picture_contributions(components, posts.tail(3))
    assert list(parts.columns) == [WHOLE_PICTURE] == ["the picture as a whole"]
    image_model = components.image_model_
    expected = image_model.predict(posts.tail(3)) - image_model[-1].intercept_
    np.testing.assert_allclose(parts[WHOLE_PICTURE], expected)
    assert top_reasons(parts, n=3).str.fullmatch(r"the picture as a whole [+-][\d.]+%").all()
    with pytest.raises(NotExplainableError, match="components"):
        feature_importance(components)  # no per-feature coefficients to show


def test_closest_past_posts(posts, components):
    close = closest_posts(components, posts.tail(2), posts, n=3)
    assert list(close.columns) == ["post", "rank", "past post", "image", "likes", "vs trend", "distance"]
    assert close["post"].tolist() == [posts.index[-2]] * 3 + [posts.index[-1]] * 3
    first = close[close["rank"] == 1]
    assert first["past post"].tolist() == posts.index[-2:].tolist() and (first["distance"] == 0).all()
    assert close.groupby("post")["distance"].apply(lambda d: d.is_monotonic_increasing).all()
    row = close.iloc[1]
    trend = components.trend_.predict(posts.loc[[row["past post"]]])[0]
    assert row["likes"] == posts.loc[row["past post"], "likes"]
    assert row["vs trend"] == pytest.approx(row["likes"] / trend)


def test_closest_posts_bad_input(posts, components):
    with pytest.raises(ValueError, match="parameter 'n' must be a positive int, got 0"):
        closest_posts(components, posts, posts, n=0)
    with pytest.raises(
        ValueError, match="parameter 'past' must be a DataFrame of posts with a 'likes' column"
    ):
        closest_posts(components, posts, posts.drop(columns="likes"))
    trend = AutoTrendRegressor().fit(posts, posts["likes"])
    with pytest.raises(NotExplainableError, match="trend alone"):
        closest_posts(trend, posts, posts)
    assert isinstance(closest_posts(components, posts.head(1), posts, n=100), pd.DataFrame)


def test_closest_posts_of_a_mean_ask_the_member_without_names(posts, components):
    from sklearn.base import clone

    from spe import AveragedLikesRegressor

    named = LikesRegressor(
        image_model=make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    )
    for order in (["named", "components"], ["components", "named"]):
        given = {"named": named, "components": clone(components)}
        mean = AveragedLikesRegressor([(name, given[name]) for name in order]).fit(posts, posts["likes"])
        close = closest_posts(mean, posts.tail(2), posts)
        pd.testing.assert_frame_equal(close, closest_posts(components, posts.tail(2), posts))
