"""Reasons that add up to the picture factor beside them (issue 36), for one model and a mean alike."""

import re

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import AveragedLikesRegressor, ConformalLikesRegressor, ImageFeatures, LikesRegressor, predict_next
from spe.inspection import picture_contributions, top_reasons
from spe.inspection._factor import AVERAGE_PICTURE, factor_parts, factor_reasons
from spe.models._next import _next_posts


def _named(target="ratio"):
    features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    return LikesRegressor(image_model=features, target=target, shrink=0.5)  # half the factor's log


def _whole():
    # PCA components stand for embeddings: one reason, "the picture as a whole".
    features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), PCA(3), StandardScaler(), Ridge())
    return LikesRegressor(image_model=features, target="log_ratio", shrink=0.5)


MODELS = {
    "ratio": lambda: _named("ratio"),
    "log ratio": lambda: _named("log_ratio"),
    "residual": lambda: _named("residual"),
    "whole picture": _whole,
    "mean": lambda: AveragedLikesRegressor([("named", _named()), ("whole", _whole())]),
}


def _percents(reasons):
    return [float(p) for p in re.findall(r"([+-]\d+(?:\.\d)?)%", reasons)]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_parts_add_up_to_the_factor_shown(posts, name):
    X, y = posts.drop(columns="likes"), posts["likes"]
    model = ConformalLikesRegressor(MODELS[name]()).fit(X[:35], y[:35])
    table = predict_next(model, posts["image"].iloc[30:], when="2030-01-01", reasons=2)
    shown = table["picture factor"].to_numpy()
    assert not np.allclose(shown, 1.0)  # the pictures move the factor: there is something to add up
    candidates, _ = _next_posts(model, table["image"], "2030-01-01", None)  # the rows predict_next predicts
    parts = factor_parts(model, candidates, shown)
    np.testing.assert_allclose(parts.sum(axis=1), shown - 1, atol=1e-12)
    for reasons, factor in zip(table["reasons"], shown):
        percents = _percents(reasons)
        # Each part rounded to a whole percent (or a tenth under 1%): off by at most half a point each.
        assert sum(percents) == pytest.approx(100 * (factor - 1), abs=0.5 * len(percents) + 0.5), reasons
        assert len(percents) <= 4 and "nan" not in reasons


def test_the_old_reasons_ignored_the_shrink_and_did_not_add_up(posts):
    # For contrast: what the ranking showed before issue 36, the image model's own contributions.
    X, y = posts.drop(columns="likes"), posts["likes"]
    model = ConformalLikesRegressor(_whole()).fit(X[:35], y[:35])
    table = predict_next(model, posts["image"].iloc[30:], when="2030-01-01")
    old = top_reasons(picture_contributions(model, X[30:]), n=3)
    new = table.set_index("image")["reasons"][X["image"].iloc[30:]].to_numpy()
    shown = 100 * (table.set_index("image")["picture factor"][X["image"].iloc[30:]].to_numpy() - 1)
    assert any(abs(_percents(r)[0] - s) > 1 for r, s in zip(old, shown))  # "+15%" beside "+11%"
    assert all(abs(sum(_percents(r)) - s) <= 1.5 for r, s in zip(new, shown))


def test_reasons_in_words_name_the_rest_and_the_average_picture():
    import pandas as pd

    parts = pd.DataFrame(
        {
            "hour_sin": [0.02, 0.0],
            "hour_cos": [0.01, 0.0],
            "brightness": [-0.04, 0.0],
            AVERAGE_PICTURE: [0.0, np.nan],
        }
    )
    assert factor_reasons(parts, n=1).tolist() == ["brightness -4%, other features +3%", ""]
    assert factor_reasons(parts.iloc[:1] * 0, n=2).tolist() == ["no feature stands out"]
