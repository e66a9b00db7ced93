"""Themes as plain data: what a model folder keeps of them, read back whole, every part checked."""

import copy
import tempfile

import numpy as np
import pytest

from spe import PretrainedEmbedder
from spe.datasets import make_posts
from spe.inspection import PictureThemes, picture_themes, theme_of


@pytest.fixture(scope="module")
def found():
    """Themes of a 40-post account from made-up backbone outputs: three clear groups, no backbone pass."""
    posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(32, 32), random_state=0)
    rng = np.random.default_rng(0)
    group = np.arange(40) % 3
    embeddings = rng.normal(size=(3, 64))[group] * 5 + rng.normal(size=(40, 64))
    probabilities = rng.dirichlet(np.ones(1000), size=40)
    eyes = PretrainedEmbedder("efficientnet-lite0", size=(224, 224))  # names the backbone; never fitted here
    themes = picture_themes(eyes, posts, embeddings=embeddings, probabilities=probabilities, faces=False)
    return posts, embeddings, probabilities, themes


def test_themes_read_back_place_pictures_as_the_originals(found):
    posts, embeddings, probabilities, themes = found
    data = themes.to_data()
    back = PictureThemes.from_data(copy.deepcopy(data))
    assert back.settings == {"backbone": "efficientnet-lite0", "size": [224, 224], "flip": False}
    before = theme_of(themes, posts["image"], embeddings=embeddings, probabilities=probabilities)
    after = theme_of(back, posts["image"], embeddings=embeddings, probabilities=probabilities)
    assert before[["theme", "name", "words"]].equals(after[["theme", "name", "words"]])
    columns = ["past post", "likes", "vs trend", "distance"]
    assert before.attrs["closest"][columns].equals(after.attrs["closest"][columns])
    assert back.themes["members"].tolist() == themes.themes["members"].tolist()


def test_no_folder_is_kept_only_file_names(found):
    posts, *_, themes = found
    names = themes.to_data()["posts"]["image"]
    assert names == [p.rsplit("/", 1)[-1] for p in posts["image"].astype(str)]
    assert not any("/" in name for name in names)


def test_themes_without_a_backbone_named_are_not_saved(found):
    posts, embeddings, probabilities, _ = found
    themes = picture_themes(None, posts, embeddings=embeddings, probabilities=probabilities, faces=False)
    assert themes.settings is None and themes.to_data() is None


def _broken(data, how):
    data = copy.deepcopy(data)
    if how == "backbone":
        data["settings"]["backbone"] = "../../evil"
    elif how == "size":
        data["settings"]["size"] = [224, 10**9]
    elif how == "components":
        data["components"] = data["components"][:, :5]
    elif how == "nan centroid":
        data["centroids"][0, 0] = np.nan
    elif how == "theme number":
        data["posts"]["theme"][0] = 99
    elif how == "short column":
        data["posts"]["likes"] = data["posts"]["likes"][:-1]
    elif how == "object in text":
        data["themes"]["name"][0] = {"not": "text"}
    elif how == "format":
        data["format"] = 2
    return data


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("backbone", "unknown backbone"),
        ("size", "picture size"),
        ("components", "'components' has 5 columns"),
        ("nan centroid", "not finite"),
        ("theme number", "names a theme"),
        ("short column", "rows for"),
        ("object in text", "something else than text"),
        ("format", "not spe's themes"),
    ],
)
def test_damaged_themes_are_refused_in_one_line_naming_the_file(found, how, said):
    data = _broken(found[-1].to_data(), how)
    with pytest.raises(ValueError, match=said) as error:
        PictureThemes.from_data(data, "model/themes.skops")
    assert str(error.value).startswith("model/themes.skops: ") and "\n" not in str(error.value)
