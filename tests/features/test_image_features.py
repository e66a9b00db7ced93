import numpy as np
import pytest
from PIL import Image, ImageDraw
from sklearn.utils import estimator_checks

from spe import ImageFeatures, ImageLoader
from spe.datasets import make_posts
from spe.features._image_features import resize_images

from ..conftest import API_CHECKS


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    getattr(estimator_checks, check)("ImageFeatures", ImageFeatures())


def _row(features, img):
    return dict(zip(features.get_feature_names_out(), features.transform(img[np.newaxis])[0]))


@pytest.fixture(scope="module")
def features():
    return ImageFeatures(size=(32, 32), faces=False).fit([])


def test_named_columns(features, posts):
    X = features.transform(posts["image"])
    names = list(features.get_feature_names_out())
    assert X.shape == (len(posts), len(names)) == (len(posts), 13)
    assert names[:7] == [
        "brightness",
        "contrast",
        "saturation",
        "colourfulness",
        "sharpness",
        "symmetry",
        "edge_density",
    ]
    assert np.isfinite(X).all()


def test_each_feature_measures_what_it_says(features):
    black, white = np.zeros((32, 32, 3)), np.ones((32, 32, 3))
    assert _row(features, black)["brightness"] == 0 and _row(features, white)["brightness"] == 1
    halves = np.zeros((32, 32, 3))
    halves[:, 16:] = 1
    assert _row(features, halves)["contrast"] == pytest.approx(0.5)
    assert _row(features, halves)["symmetry"] == pytest.approx(0.0)
    assert _row(features, white)["symmetry"] == 1
    red = np.zeros((32, 32, 3))
    red[..., 0] = 1
    row = _row(features, red)
    assert row["hue_red"] == 1 and row["hue_blue"] == 0 and row["saturation"] == 1
    assert row["colourfulness"] > _row(features, white)["colourfulness"]
    noise = np.random.RandomState(0).rand(32, 32, 3)
    assert _row(features, noise)["sharpness"] > 10 * _row(features, halves)["sharpness"]
    assert _row(features, noise)["edge_density"] > _row(features, white)["edge_density"] == 0


def test_hue_sectors(features):
    for name, rgb in [
        ("green", (0, 1, 0)),
        ("blue", (0, 0, 1)),
        ("yellow", (1, 1, 0)),
        ("cyan", (0, 1, 1)),
        ("magenta", (1, 0, 1)),
    ]:
        img = np.ones((8, 8, 3)) * np.array(rgb, dtype=float)
        assert _row(features, img)[f"hue_{name}"] == 1, name


def test_disc_size_and_colour_are_visible(tmp_path, features):
    # make_posts' discs are saturated red or blue on duller backgrounds.
    posts, truth = make_posts(40, directory=tmp_path, image_size=(16, 16), random_state=0, return_truth=True)
    X = features.transform(posts["image"])
    column = dict(zip(features.get_feature_names_out(), X.T))
    assert np.corrcoef(column["saturation"], truth["radius"] ** 2)[0, 1] > 0.7
    red = truth["red"].to_numpy()
    assert column["hue_red"][red].mean() > column["hue_red"][~red].mean() + 0.3


def test_faces_from_opencvs_bundled_cascade(tmp_path):
    # A drawn face is no photograph; the check is that the detector runs,
    # counts nothing on a blank picture, and reports two named columns.
    img = Image.new("RGB", (128, 128), "white")
    ImageDraw.Draw(img).ellipse((30, 20, 98, 108), outline="black", width=3)
    img.save(tmp_path / "face.png")
    features = ImageFeatures(size=(128, 128)).fit([])
    out = features.transform([str(tmp_path / "face.png")])
    assert list(features.get_feature_names_out()[-2:]) == ["face_count", "face_area"]
    assert out.shape == (1, 15) and out[0, -2] >= 0 and 0 <= out[0, -1] <= 1


def _photograph(tmp_path, name, crop=(slice(None), slice(None))):
    # Real photographs scikit-image (a test dependency) ships: no download, no drawn stand-in.
    from skimage import data as skimage_data

    path = tmp_path / f"{name}.png"
    Image.fromarray(getattr(skimage_data, name)()[crop]).save(path)
    return str(path)


def test_faces_found_on_a_photograph_of_a_face(tmp_path):
    # Eileen Collins' portrait, 512x512: OpenCV's cascade puts her face at
    # x=177, y=66, 95x95 pixels, 3.4% of the picture.
    full = _photograph(tmp_path, "astronaut")
    out = ImageFeatures(size=(256, 256)).fit([]).transform([full])
    assert out[0, -2] == 1 and 0.025 < out[0, -1] < 0.05
    # Head and shoulders at the default size: the face is 16% of the picture.
    portrait = _photograph(tmp_path, "astronaut", (slice(0, 256), slice(128, 384)))
    out = ImageFeatures().fit([]).transform([portrait])
    assert out[0, -2] == 1 and 0.1 < out[0, -1] < 0.25


def test_no_faces_on_photographs_without_one(tmp_path):
    # A cat's face, a cup of coffee and a rocket: no human face.
    paths = [_photograph(tmp_path, name) for name in ("chelsea", "coffee", "rocket")]
    out = ImageFeatures(size=(256, 256)).fit([]).transform(paths)
    assert out[:, -2:].tolist() == [[0, 0]] * 3


def test_grey_arrays_and_bad_size():
    grey = np.random.RandomState(0).rand(2, 16, 16, 1)
    assert ImageFeatures(faces=False).fit([]).transform(grey).shape == (2, 13)
    with pytest.raises(ValueError, match="size"):
        ImageFeatures(size=(0, 3)).fit([])


@pytest.mark.parametrize("size", [(2049, 32), (15_000, 15_000)])
def test_sizes_beyond_the_maximum_are_refused_before_anything_is_allocated(tmp_path, size):
    Image.new("RGB", (8, 8), "red").save(tmp_path / "a.png")
    message = r"^ImageFeatures parameter 'size' must be a \(height, width\) pair of integers from 1 to 2048"
    with pytest.raises(ValueError, match=message):
        ImageFeatures(size=size, faces=False).fit([])
    # A fitted ImageFeatures whose size was changed after (as a saved model could hold it).
    features = ImageFeatures(size=(16, 16), faces=False).fit([]).set_params(size=size)
    for X in ([tmp_path / "a.png"], np.zeros((1, 8, 8, 3), dtype=np.uint8)):
        with pytest.raises(ValueError, match=message):
            features.transform(X)


@pytest.mark.parametrize("size", [(2049, 32), (15_000, 15_000), (None, None)])
def test_resize_images_bounds_the_size_it_is_asked_for(size):
    # PretrainedEmbedder resizes arrays to its network's input shape, which a
    # saved model sets: bounded here as ImageLoader's size is.
    with pytest.raises(ValueError, match=r"^resize_images parameter 'size' must be .* from 1 to 2048"):
        resize_images(np.zeros((1, 8, 8, 3), dtype=np.uint8), size)


def test_uint8_images_give_the_features_of_their_float_version(features, posts):
    from spe import ImageLoader

    X8 = ImageLoader(size=(32, 32), dtype="uint8").transform(posts["image"])
    np.testing.assert_allclose(features.transform(X8), features.transform(X8 / np.float32(255)), rtol=1e-6)


def test_arrays_of_another_size_measure_at_size(tmp_path):
    # Issue 16.1's check for ImageFeatures: arrays at another size were measured
    # at their own scale, so sharpness differed from the same picture's path.
    noise = np.random.RandomState(0).randint(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    features = ImageFeatures(size=(32, 32), faces=False).fit([tmp_path / "noise.png"])
    from_path = features.transform([tmp_path / "noise.png"])
    from_array = features.transform(ImageLoader(size=(64, 64)).transform([tmp_path / "noise.png"]))
    np.testing.assert_allclose(from_array, from_path, rtol=0.05, atol=0.01)
