"""Picture themes: scenes found and named, effects of the generator's signs, null accounts quiet."""

import tempfile
import time

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spe.datasets import make_posts
from spe.datasets._scenes import SCENES
from spe.inspection import PictureThemes, picture_themes, theme_of
from spe.inspection._themes import _cluster, _embedder, _space, _walked_trend, backbone_pass, theme_effects
from spe.models import AutoTrendRegressor

CAT_CLASSES = {"Egyptian cat", "tabby", "tiger cat", "Persian cat", "Siamese cat", "lynx"}


@pytest.fixture(scope="module")
def embedder():
    return _embedder(None)  # the offline Lite0 at 224 px, built once


@pytest.fixture(scope="module")
def scenes(embedder):
    """Three scenes accounts of 200 posts, embedded once each."""
    accounts = {}
    for seed in (0, 1, 2):
        posts, truth = make_posts(
            200,
            directory=tempfile.mkdtemp(),
            image_size=(224, 224),
            content="scenes",
            random_state=seed,
            return_truth=True,
        )
        accounts[seed] = posts, truth, *backbone_pass(embedder, posts["image"].tolist())
    return accounts


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scenes_are_recovered_named_and_signed(scenes, seed):
    posts, truth, embeddings, probabilities = scenes[seed]
    themes = picture_themes(None, posts, embeddings=embeddings, probabilities=probabilities)
    table = pd.crosstab(truth["scene"], themes.posts["theme"])
    # each scene's posts fall mostly in one theme, and that theme is mostly that scene
    assert (table.max(axis=1) / table.sum(axis=1)).min() >= 0.8
    home = table.idxmax(axis=1)
    by_theme = themes.themes.set_index("theme")
    assert set(by_theme.loc[home["cat"], "name"].split("; ")[-1].split(", ")) & CAT_CLASSES
    assert {"espresso", "cup"} & set(by_theme.loc[home["coffee"], "name"].split("; ")[-1].split(", "))
    for scene, theme in home.items():
        row = by_theme.loc[theme]
        if row["stands_out"]:
            assert np.sign(row["effect"]) == np.sign(SCENES[scene][1]), (scene, row["effect"])
    assert themes.themes["effect"].is_monotonic_decreasing  # best first
    assert themes.themes["n_posts"].min() >= 8


@pytest.mark.slow
def test_theme_of_puts_new_pictures_in_their_scene_theme(scenes, embedder):
    posts, truth, embeddings, probabilities = scenes[0]
    themes = picture_themes(None, posts, embeddings=embeddings, probabilities=probabilities, faces=False)
    new, new_truth = make_posts(
        12,
        directory=tempfile.mkdtemp(),
        image_size=(224, 224),
        content="scenes",
        random_state=9,
        return_truth=True,
    )
    found = theme_of(themes, new)  # one backbone pass over the new pictures, with the themes' embedder
    home = pd.crosstab(truth["scene"], themes.posts["theme"]).idxmax(axis=1)
    assert (found["theme"].to_numpy() == home[new_truth["scene"]].to_numpy()).mean() >= 0.9
    assert {"picture", "theme", "name", "effect", "low", "high", "words", "top_classes"} <= set(found.columns)
    closest = found.attrs["closest"]
    assert len(closest) == 3 * len(new) and {"likes", "vs trend", "image"} <= set(closest.columns)
    # the closest past posts show the same scene
    same = truth["scene"].to_numpy()[closest["past post"].to_numpy()] == np.repeat(new_truth["scene"], 3)
    assert same.mean() >= 0.9


@pytest.mark.slow
def test_a_null_account_end_to_end_has_no_theme_standing_out(embedder):
    posts = make_posts(
        200,
        directory=tempfile.mkdtemp(),
        image_size=(224, 224),
        content="scenes",
        realistic=True,
        pixel_effect=0,
        random_state=0,
    )
    themes = picture_themes(embedder, posts)
    assert len(themes.themes) >= 2
    assert not themes.themes["stands_out"].any(), str(themes)
    assert "no different from the rest" in str(themes)


def test_null_accounts_rarely_show_a_theme(tmp_path):
    """Ten realistic accounts whose pictures do not matter: at most 2 show any theme standing out.

    Cheap: the accounts' own walked ratios, grouped into six themes that have nothing to do with
    likes (as themes found from the pictures alone are on such an account), in stretches as
    subjects are.
    """
    alarms = 0
    for seed in range(10):
        posts = make_posts(
            200,
            directory=tmp_path / str(seed),
            image_size=(8, 8),
            realistic=True,
            pixel_effect=0,
            random_state=seed,
        )
        ratios = posts["likes"].to_numpy() / _walked_trend(posts)
        rng = np.random.default_rng(seed)
        theme = np.repeat(rng.integers(0, 6, 40), 5)  # themes come in stretches of 5 posts
        theme[:6] = np.arange(6)
        alarms += bool(theme_effects(ratios, theme)["stands_out"].any())
    assert alarms <= 2


def test_theme_effects_find_a_real_effect_and_widen_with_more_themes():
    rng = np.random.default_rng(0)
    theme = np.tile(np.arange(4), 50)
    ratios = np.exp(rng.normal(0, 0.3, 200) + 0.4 * (theme == 0))
    effects = theme_effects(ratios, theme)
    assert effects.loc[0, "stands_out"] and effects.loc[0, "low"] > 0.15
    one = theme_effects(ratios, theme, confidence=0.9 / 1)
    assert (one["high"] - one["low"]).gt(0).all()
    two = theme_effects(ratios, np.where(theme == 0, 0, 1))
    assert two.loc[0, "high"] - two.loc[0, "low"] < effects.loc[0, "high"] - effects.loc[0, "low"]


def test_clustering_1000_posts_under_a_second():
    rng = np.random.default_rng(0)
    centres = rng.gamma(1.0, 1.0, (8, 1280))
    embeddings = np.abs(centres[rng.integers(0, 8, 1000)] + rng.normal(0, 0.3, (1000, 1280)))
    start = time.perf_counter()
    _, space = _space(embeddings, 0)
    labels, centroids = _cluster(space, None, 8)
    elapsed = time.perf_counter() - start
    assert len(centroids) == 8 and np.bincount(labels).min() >= 8
    assert elapsed < 2.0, elapsed  # about 0.5 s alone; the machine is shared


def test_fewer_than_30_posts_say_so_in_one_line(tmp_path):
    posts = make_posts(20, directory=tmp_path, image_size=(32, 32), random_state=0)
    themes = picture_themes(None, posts)
    assert isinstance(themes, PictureThemes) and themes.themes.empty
    assert str(themes) == "Themes need at least 30 posts with pictures; this account has 20."
    with pytest.raises(ValueError, match="No themes"):
        theme_of(themes, posts["image"])


def test_pictures_under_32_px_are_said_once_and_left_out(tmp_path):
    posts = make_posts(60, directory=tmp_path, image_size=(40, 40), random_state=0)
    for i in (3, 10, 20):
        Image.new("RGB", (16, 16), "red").save(posts["image"].iloc[i])
    rng = np.random.default_rng(0)
    embeddings = rng.gamma(1.0, 1.0, (57, 64))  # the backbone's outputs for the 57 it can see
    probabilities = rng.dirichlet(np.ones(1000), 57)
    themes = picture_themes(None, posts, embeddings=embeddings, probabilities=probabilities, faces=False)
    assert themes.note.startswith("3 picture(s) under 32 px") and str(themes).count("under 32 px") == 1
    assert (themes.posts["theme"].to_numpy()[[3, 10, 20]] == -1).all()
    assert themes.themes["n_posts"].sum() == 57


def test_unconfident_classes_give_no_name(tmp_path):
    posts = make_posts(60, directory=tmp_path, image_size=(32, 32), random_state=0)
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(1000) * 0.05, 60) * 0.5 + 0.5 / 1000  # top class ~0.1 at most
    themes = picture_themes(
        None, posts, embeddings=rng.normal(size=(60, 16)), probabilities=probabilities, faces=False
    )
    assert themes.themes["name"].isna().all()
    assert "no confident name" in str(themes)


def test_a_model_without_the_backbone_uses_the_offline_one():
    embedder = _embedder(AutoTrendRegressor())
    assert embedder.backbone == "efficientnet-lite0" and tuple(embedder.size) == (224, 224)
    assert _embedder(embedder) is embedder  # a fitted Lite embedder is used as it is
