"""Pictures featurized once: output computed before the fit is what the fit's walks read."""

import tempfile

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from spe import AutoLikesRegressor, AutoTrendRegressor, ImageFeatures, LikesRegressor
from spe.datasets import make_posts
from spe.model_selection import known_pictures


def _model():
    picture = make_pipeline(ImageFeatures(size=(8, 8), faces=False), Ridge(alpha=1e-3))
    return AutoLikesRegressor(
        {"trend": AutoTrendRegressor(), "picture": LikesRegressor(image_model=picture)}, average=False
    )


def test_known_rows_are_what_the_walk_reads_and_no_picture_is_featurized_again(monkeypatch):
    posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0, pixel_effect=1.0)
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy()
    features = ImageFeatures(size=(8, 8), faces=False)
    rows = features.fit(X["image"]).transform(X["image"])
    calls = []
    original = ImageFeatures.transform
    monkeypatch.setattr(ImageFeatures, "transform", lambda self, Z: calls.append(len(Z)) or original(self, Z))
    plain = _model().fit(X, y)
    assert sum(calls) >= len(X)  # without known rows, the fit featurizes every picture
    calls.clear()
    with known_pictures(features, X["image"].tolist(), rows):
        same = _model().fit(X, y)
    assert calls == []
    np.testing.assert_allclose(same.walk_predictions_.to_numpy(), plain.walk_predictions_.to_numpy())
    # Rows of zeros: in each refit the picture candidate sees no difference between pictures.
    with known_pictures(features, X["image"].tolist(), np.zeros_like(rows)):
        blind = _model().fit(X, y)
    walked = blind.walk_predictions_["picture"].to_numpy() / blind.walk_predictions_["trend"].to_numpy()
    seen = plain.walk_predictions_["picture"].to_numpy() / plain.walk_predictions_["trend"].to_numpy()
    assert np.ptp(walked[np.isfinite(walked)]) < 0.5 * np.ptp(seen[np.isfinite(seen)])


def test_pictures_outside_the_known_ones_still_go_through_the_transformer():
    posts = make_posts(12, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=1)
    features = ImageFeatures(size=(8, 8), faces=False)
    real = features.fit(posts["image"]).transform(posts["image"])
    with known_pictures(features, posts["image"].iloc[:6].tolist(), np.zeros((6, real.shape[1]))):
        from spe.model_selection import precompute_pictures

        cached = precompute_pictures(make_pipeline(features, Ridge()), posts.iloc[:6])
        out = cached[0].transform(posts["image"])
    assert not out[:6].any()
    np.testing.assert_allclose(out[6:], real[6:])
