"""make_posts(content="scenes"): an account whose pictures matter by what they show."""

import numpy as np
import pytest
from PIL import Image

from spe.datasets import make_posts
from spe.datasets._scenes import SCENES

pytest.importorskip("skimage")


def test_the_scene_sets_the_picture_factor(tmp_path):
    posts, truth = make_posts(
        30, directory=tmp_path, image_size=(32, 48), content="scenes", trend=0.0, noise=0.0,
        random_state=0, return_truth=True,
    )  # fmt: skip
    assert list(posts.columns) == ["image", "likes", "post_index", "timestamp", "caption"]
    assert list(truth.columns) == ["scene", "pixel_score"] and truth.index.equals(posts.index)
    assert set(truth["scene"]) <= set(SCENES) and truth["scene"].nunique() >= 4
    expected = np.round(100 * np.exp(1.5 * truth["scene"].map(lambda s: SCENES[s][1])))
    np.testing.assert_array_equal(posts["likes"], expected)
    with Image.open(posts["image"].iloc[0]) as picture:
        assert picture.size == (48, 32) and picture.mode == "RGB"


def test_views_of_one_scene_differ_and_a_seed_repeats(tmp_path):
    posts, truth = make_posts(20, directory=tmp_path / "a", image_size=(32, 32), content="scenes",
                              random_state=1, return_truth=True)  # fmt: skip
    again = make_posts(20, directory=tmp_path / "b", image_size=(32, 32), content="scenes", random_state=1)
    np.testing.assert_array_equal(posts["likes"], again["likes"])
    scene = truth["scene"].value_counts().index[0]
    first, second = (np.asarray(Image.open(p)) for p in posts["image"][truth["scene"] == scene][:2])
    assert np.abs(first.astype(int) - second).mean() > 5  # cropped, mirrored, jittered


def test_unknown_content_is_refused_naming_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="parameter 'content' must be 'discs' or 'scenes', got 'cats'"):
        make_posts(5, directory=tmp_path, content="cats")
