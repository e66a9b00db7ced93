import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from spe import ImageLoader, PretrainedEmbedder
from spe._keras._backend import keras

from ..conftest import API_CHECKS


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    getattr(estimator_checks, check)("PretrainedEmbedder", PretrainedEmbedder())


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).rand(4, 32, 32, 3).astype("float32")


@pytest.mark.slow
def test_random_weights_embed_paths_and_arrays(account, images):
    posts = account(3, 32)  # picture files of at least 32 px: smaller ones are refused
    emb = PretrainedEmbedder(weights=None, size=(32, 32)).fit()
    out = emb.transform(images)
    assert out.shape == (4, 576) and np.isfinite(out).all()
    assert len(emb.get_feature_names_out()) == 576
    assert emb.transform(posts["image"][:3]).shape == (3, 576)


@pytest.mark.slow
def test_random_weights_are_seeded_by_random_state(images):
    def embed(seed):
        return PretrainedEmbedder(weights=None, size=(32, 32), random_state=seed).fit().transform(images)

    np.testing.assert_array_equal(embed(0), embed(0))
    # Relative: a random MobileNetV3's pooled outputs are tiny (about 1e-10).
    assert not np.allclose(embed(0), embed(1), rtol=1e-3, atol=0)


@pytest.mark.slow
def test_uint8_pictures_embed_as_their_float_version(images):
    emb = PretrainedEmbedder(weights=None, size=(32, 32), random_state=0).fit()
    X8 = (images * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(emb.transform(X8), emb.transform(X8 / np.float32(255)))


@pytest.mark.slow
def test_local_weights_file_written_by_the_test(tmp_path, images):
    # What a user with downloaded weights does, offline: nothing here downloads.
    source = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None, pooling="avg"
    )
    source.save_weights(tmp_path / "mobilenet.weights.h5")
    emb = PretrainedEmbedder(weights=str(tmp_path / "mobilenet.weights.h5"), size=(32, 32)).fit()
    preprocess = keras.applications.mobilenet_v3.preprocess_input
    expected = source.predict(preprocess(images * 255.0), verbose=0)
    np.testing.assert_allclose(emb.transform(images), expected, rtol=1e-4, atol=1e-5)


def test_followed_by_pca_and_a_linear_model(images):
    model = make_pipeline(PretrainedEmbedder(weights=None, size=(32, 32)), PCA(n_components=2), Ridge())
    assert model.fit(images, [1.0, 2.0, 3.0, 4.0]).predict(images).shape == (4,)


@pytest.mark.slow
def test_pickles(images):
    emb = PretrainedEmbedder(weights=None, size=(32, 32)).fit()
    again = pickle.loads(pickle.dumps(emb))
    np.testing.assert_allclose(again.transform(images), emb.transform(images), rtol=1e-5)


def test_errors_name_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="backbone"):
        PretrainedEmbedder(backbone="VGG99").fit()
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        PretrainedEmbedder(weights=str(tmp_path / "missing.h5")).fit()
    with pytest.raises(ValueError, match="at least 32x32"):
        PretrainedEmbedder(weights=None, size=(16, 16)).fit()


def test_arrays_of_another_size_are_resized_to_size(posts):
    # Issue 16.1: 64x64 arrays (ImageLoader's default) with the default size
    # (128, 128) failed with Keras' "expected shape=(None, 128, 128, 3)".
    X64 = ImageLoader(size=(64, 64)).transform(posts["image"][:3])
    emb = PretrainedEmbedder(weights=None, random_state=0).fit(X64)
    out = emb.transform(X64)
    assert out.shape == (3, 576) and np.isfinite(out).all()
    grey = X64.mean(axis=-1, keepdims=True)
    assert emb.transform(grey).shape == (3, 576)


@pytest.fixture
def offline(monkeypatch):
    """No network, as in CI; skipped where Keras already holds ImageNet weights."""
    import socket
    from pathlib import Path

    from spe.features._embedder import imagenet_weights_problem

    if list(Path("~/.keras/models").expanduser().glob("weights_mobilenet_v3_small*")):
        pytest.skip("Keras' cache holds the ImageNet weights on this machine")

    def no_network(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    imagenet_weights_problem.cache_clear()
    yield
    imagenet_weights_problem.cache_clear()


def test_candidates_offline_keep_the_embeddings_with_the_offline_backbone(offline):
    # Issue 24: the ImageNet weights come with spe (EfficientNet-Lite0), so an
    # offline machine keeps the embeddings row and the own model considers them.
    import warnings

    from spe.evaluation import candidates

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        models = candidates(cnn=False)
    embedder = models["embeddings + PCA"][0]
    assert (embedder.backbone, embedder.weights, embedder.size) == (
        "efficientnet-lite0",
        "imagenet",
        (224, 224),
    )
    own = models["account's own model"].candidates
    assert list(own) == ["trend", "trend x picture", "trend x embeddings"]
    assert own["trend x embeddings"].image_model[0].backbone == "efficientnet-lite0"
    assert "embeddings + PCA (random weights)" in candidates(cnn=False, embedding_weights=None)
    # Random weights are no eyes: the own model leaves them out.
    assert (
        "trend x embeddings"
        not in candidates(cnn=False, embedding_weights=None)["account's own model"].candidates
    )
    assert (
        "trend x embeddings" not in candidates(cnn=False, embeddings=False)["account's own model"].candidates
    )


def test_default_own_model_considers_the_embeddings():
    from spe import AutoLikesRegressor

    names = list(AutoLikesRegressor()._candidates())
    assert names == ["trend", "trend x image features", "trend x embeddings"]


def test_top_classes_needs_the_offline_backbone_and_a_sane_k(images):
    emb = PretrainedEmbedder(weights=None, size=(32, 32)).fit()
    with pytest.raises(ValueError, match="top_classes needs backbone='efficientnet-lite0'"):
        emb.top_classes(images)
    lite = PretrainedEmbedder(
        backbone="efficientnet-lite0", weights=None, size=(32, 32), random_state=0
    ).fit()
    with pytest.raises(ValueError, match="parameter 'k' must be an int in 1..1000, got 0"):
        lite.top_classes(images, k=0)
    top = lite.top_classes(images[:2], k=2)
    assert list(top.columns) == ["picture", "rank", "class", "name", "probability"] and len(top) == 4


def test_offline_backbone_errors_name_the_parameter_or_file(tmp_path, images):
    import zipfile

    bad = tmp_path / "not_weights.pth"
    with zipfile.ZipFile(bad, "w") as archive:  # PyTorch's layout, an empty state dict
        archive.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
    with pytest.raises(ValueError, match=r"not_weights\.pth.*not EfficientNet-Lite0's state dict"):
        PretrainedEmbedder(backbone="efficientnet-lite0", weights=str(bad), size=(32, 32)).fit()
    with pytest.raises(ValueError, match="'backbone' must be one of .*efficientnet-lite0"):
        PretrainedEmbedder(backbone="efficientnet-lite9").fit()
    lite = PretrainedEmbedder(
        backbone="efficientnet-lite0", weights=None, size=(32, 32), random_state=0
    ).fit()
    with pytest.raises(ValueError, match="PretrainedEmbedder X: pictures of 16x16 px are below 32x32"):
        lite.transform(images[:, :16, :16])


def test_picture_files_under_32_px_are_refused_naming_the_file(tmp_path, account):
    # Issue 24: a picture file under 32 px was scaled up to the backbone's size without a word.
    import pandas as pd
    from PIL import Image

    from spe.exceptions import ImageLoadError

    Image.new("RGB", (48, 16), "red").save(tmp_path / "tiny.png")
    Image.new("RGB", (600, 32), "red").save(tmp_path / "wide.png")  # 32 px: enough
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    lite = PretrainedEmbedder(
        backbone="efficientnet-lite0", weights=None, size=(32, 32), random_state=0
    ).fit()
    posts = account(2, 32)
    tiny = str(tmp_path / "tiny.png")
    with pytest.raises(ImageLoadError) as error:
        lite.transform([*posts["image"], tiny])
    message = str(error.value)
    assert message.startswith(f"PretrainedEmbedder cannot embed picture {tiny}: it is 48x16 px, below 32x32")
    assert "\n" not in message
    with pytest.raises(ImageLoadError, match=r"tiny\.png: it is 48x16 px"):
        lite.top_classes(pd.DataFrame({"image": [tiny]}), k=1)
    # A file that is no picture is still ImageLoader's to name.
    with pytest.raises(ImageLoadError, match=r"Cannot read image .*broken\.png"):
        lite.transform([str(tmp_path / "broken.png")])
    out = lite.transform(pd.DataFrame({"image": [*posts["image"], str(tmp_path / "wide.png")]}))
    assert out.shape == (3, lite.n_features_out_) and np.isfinite(out).all()


def test_candidates_with_a_weights_file_keep_the_row(tmp_path):
    from spe.evaluation import candidates

    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"")
    models = candidates(cnn=False, features=False, embedding_weights=str(weights))
    assert models["embeddings + PCA"][0].weights == str(weights)


@pytest.mark.slow
def test_flip_averages_each_picture_with_its_mirror_image(images):
    plain = PretrainedEmbedder(weights=None, size=(32, 32), random_state=0).fit()
    flip = PretrainedEmbedder(weights=None, size=(32, 32), random_state=0, flip=True).fit()
    mirrored = images[:, :, ::-1]
    expected = (plain.transform(images) + plain.transform(mirrored)) / 2
    np.testing.assert_allclose(flip.transform(images), expected, rtol=1e-5, atol=1e-12)
    # so a picture and its mirror image embed the same
    np.testing.assert_allclose(flip.transform(mirrored), flip.transform(images), rtol=1e-5, atol=1e-12)
    assert not np.allclose(plain.transform(mirrored), plain.transform(images), rtol=1e-3, atol=0)


def test_an_embedder_pickled_before_flip_embeds_the_picture_alone():
    emb = PretrainedEmbedder(weights=None, size=(32, 32))
    state = emb.__getstate__()
    state.pop("flip")
    old = PretrainedEmbedder.__new__(PretrainedEmbedder)
    old.__setstate__(state)
    assert old.flip is False and old.get_params()["flip"] is False
