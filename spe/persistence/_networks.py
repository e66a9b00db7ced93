"""What a saved network may be: spe's own kinds of layer, at a bounded cost per picture.

Keras' safe mode refuses Lambda layers and pickled code, but it trusts the
rest of a ``.keras`` archive: it imports whatever module ``config.json``
names (``"module": "keras_hub.layers"`` imports ``keras_hub`` from the
working folder when Keras has not), extracts entries other than its own
into a temporary folder (inside the model folder when memory is short),
and builds what the config says whatever it costs (a Dense layer of
200,000 units allocates gigabytes before a single weight is read; pooling
windows of thousands of pixels cost hours per picture and no memory).

So :func:`load_network` reads the archive itself first, in memory:

1. exactly the three entries Keras writes (``config.json``,
   ``metadata.json``, ``model.weights.h5``), so nothing is extracted;
2. every object the config names is one of the Keras classes spe's own
   networks are made of (:data:`ALLOWED`: the seed CNN, EfficientNet-Lite0
   and the ``keras.applications`` backbones spe offers), by module and
   name, checked before Keras imports anything;
3. the network is built without its weights
   (:func:`spe._keras._shapes.without_weights`) to count what it costs:
   its weights, and each layer's output and multiply-adds per picture,
   each within :data:`LIMITS`;
4. the weights file holds no links to other files (HDF5 external links,
   external or virtual datasets would make it read outside the folder);

and only then hands Keras the archive's bytes, in safe mode.
"""

import io
import json
import math
import zipfile

from ..exceptions import ModelLoadError

__all__ = ["ALLOWED", "LIMITS", "load_network", "network_cost"]

#: The entries of a ``.keras`` archive as Keras writes them; anything else would be extracted to disk.
ENTRIES = frozenset({"config.json", "metadata.json", "model.weights.h5"})

_LAYERS = {
    # the seed CNN and EfficientNet-Lite0
    "InputLayer", "Conv2D", "DepthwiseConv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout",
    "BatchNormalization", "ReLU", "Add", "Normalization", "GlobalAveragePooling2D",
    # the keras.applications backbones (MobileNetV3, EfficientNetB0, ResNet50)
    "Activation", "Multiply", "Rescaling", "Reshape", "ZeroPadding2D",
}  # fmt: skip
#: The classes a network's ``config.json`` may name, by module: what spe's own networks are made of.
ALLOWED = {
    "keras.layers": frozenset(_LAYERS),
    "keras.src.models.functional": frozenset({"Functional"}),
    "keras": frozenset({"DTypePolicy", "Sequential"}),
    "keras.src.ops.numpy": frozenset({"Add", "Multiply"}),  # `x + 3` inside MobileNetV3
    "keras.initializers": frozenset(
        {"GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "Zeros", "Ones", "VarianceScaling"}
    ),
    "keras.optimizers": frozenset({"Adam", "AdamW", "SGD", "RMSprop", "Nadam", "Adamax", "Adagrad"}),
    "keras.losses": frozenset({"MeanSquaredError", "MeanAbsoluteError", "Huber"}),
    "keras.metrics": frozenset({"MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError"}),
    None: frozenset({"__keras_tensor__"}),  # a tensor passed between layers
}
#: Losses and metrics named as functions (``"module": "builtins"``): Keras looks them up in its own modules.
FUNCTIONS = frozenset({"mean_squared_error", "mse", "mean_absolute_error", "mae", "huber"})

#: Per network, for one picture: far above spe's own networks (EfficientNet-Lite0 at 224 px: 4.7
#: million weights, 0.4 billion multiply-adds; the seed CNN at 1024 px: 260 million weights, 1.5
#: billion), far below what would fill a machine's memory or take minutes per picture.
LIMITS = {
    "weights": 2**28,  # 1 GiB of float32, half of what spe reads of a network file
    "outputs": 2**27,  # numbers one layer outputs for one picture (512 MiB of float32)
    "multiply_adds": 3 * 10**10,  # a minute or so per picture on one core
}


def _refuse(path, what):
    return ModelLoadError(f"{path}: refused to load the network: {what}; spe loads only networks it saves")


def check_config(config, path):
    """Refuse a ``config.json`` naming any class or function spe's networks do not use.

    Parameters
    ----------
    config : object
        The parsed ``config.json``.
    path : path-like
        The network file, named in the error.

    Raises
    ------
    spe.exceptions.ModelLoadError

    Examples
    --------
    >>> check_config({"module": "keras.layers", "class_name": "Dense", "config": {}}, "n.keras")
    >>> check_config({"module": "keras_hub.layers", "class_name": "X", "config": {}}, "n.keras")
    Traceback (most recent call last):
    ...
    spe.exceptions.ModelLoadError: n.keras: refused to load the network: it names keras_hub.layers.X, ...
    """
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "class_name" in item or "module" in item:
                _check_object(item, path)
            stack.extend(item.values())


def _check_object(item, path):
    module, name = item.get("module"), item.get("class_name")
    if module == "builtins" and name == "function" and item.get("registered_name") == "function":
        if item.get("config") in FUNCTIONS:
            return
        raise _refuse(path, f"it names the function {str(item.get('config'))[:60]!r}")
    if name not in ALLOWED.get(module, ()) or item.get("registered_name") not in (None, name):
        label = f"{module}.{name}" if module else str(name)
        raise _refuse(path, f"it names {label[:80]}, which spe's networks never use")


def network_cost(config):
    """What a network costs for one picture, counted without allocating its weights.

    Parameters
    ----------
    config : dict
        A network's parsed ``config.json``, already checked by
        :func:`check_config` (building it imports what it names).

    Returns
    -------
    list of tuple
        ``(layer name, class name, weights, outputs, multiply-adds)`` per
        layer, the last two per picture; the layers of nested models
        included.

    Examples
    --------
    >>> from spe._keras._backend import keras
    >>> inputs = keras.Input((8, 8, 3))
    >>> model = keras.Model(inputs, keras.layers.Dense(4, name="d")(keras.layers.Flatten()(inputs)))
    >>> network_cost(keras.saving.serialize_keras_object(model))[-1]
    ('d', 'Dense', 772, 4, 768)
    """
    from .._keras._shapes import without_weights

    model = without_weights({key: value for key, value in config.items() if key != "compile_config"})
    return list(_layer_costs(model))


def _layer_costs(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):  # a model inside the model
            yield from _layer_costs(layer)
            continue
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        shapes = [tuple(int(d or 1) for d in tensor.shape[1:]) for tensor in outputs]
        produced = sum(math.prod(shape) for shape in shapes)
        weights = sum(math.prod(int(d) for d in w.shape) for w in layer.weights)
        kernels = [math.prod(int(d) for d in w.shape) for w in layer.weights if len(w.shape) >= 2]
        if kernels:
            # A kernel's weights each multiply once per output position:
            # height x width for a convolution, 1 for a Dense layer.
            positions = sum(math.prod(shape[:-1]) for shape in shapes)
            work = positions * max(kernels)
        else:  # pooling reads its window per output; the rest is elementwise
            window = getattr(layer, "pool_size", None) or ()
            work = produced * math.prod(int(w) for w in window)
        yield layer.name, type(layer).__name__, weights, produced, work


def _check_cost(config, path):
    costs = network_cost(config)
    for name, kind, _, produced, work in costs:
        for key, value in (("outputs", produced), ("multiply_adds", work)):
            if value > LIMITS[key]:
                what = key.replace("_", "-")
                raise _refuse(
                    path,
                    f"layer {name[:60]!r} ({kind}) makes {value:,} {what} per picture, more than the "
                    f"{LIMITS[key]:,} spe allows",
                )
    total = sum(cost[2] for cost in costs)
    if total > LIMITS["weights"]:
        name, kind = max(costs, key=lambda cost: cost[2])[:2]
        raise _refuse(
            path,
            f"it has {total:,} weights (the most in layer {name[:60]!r}, {kind}), more than the "
            f"{LIMITS['weights']:,} spe allows",
        )


def _check_weights_file(data, path):
    """Refuse HDF5 links and datasets whose data lie in other files."""
    import h5py

    def walk(group, prefix):
        for key in group:
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                kind = type(link).__name__
                raise _refuse(path, f"its weights file links {prefix}{key} to another file ({kind})")
            item = group[key]
            if isinstance(item, h5py.Group):
                walk(item, f"{prefix}{key}/")
            elif item.external or item.is_virtual:
                raise _refuse(path, f"its weights {prefix}{key} are read from other files")

    try:
        with h5py.File(io.BytesIO(data), "r") as weights:
            walk(weights, "")
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever h5py makes of a tampered file
        raise ModelLoadError(f"{path}: cannot load the network (its weights: {type(exc).__name__})") from None


def load_network(path, data):
    """The network in a ``.keras`` archive's bytes, checked first, loaded in memory in safe mode.

    Parameters
    ----------
    path : path-like
        Where ``data`` was read from, named in errors.
    data : bytes
        The archive, its entries' sizes already checked.

    Returns
    -------
    keras.Model

    Raises
    ------
    spe.exceptions.ModelLoadError
        One line naming ``path`` and what is wrong: an entry Keras does not
        write, a class or function spe's networks never use, a layer or
        network beyond :data:`LIMITS`, weights in other files.
    """
    from .._keras._backend import model_from_memory

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if names != ENTRIES or len(archive.infolist()) != len(ENTRIES):
                extra = ", ".join(sorted(repr(n[:40]) for n in names ^ ENTRIES)) or "a repeated entry"
                raise _refuse(path, f"its entries are not the three Keras writes ({extra})")
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, ValueError, RecursionError) as exc:
        if isinstance(exc, ModelLoadError):
            raise
        raise ModelLoadError(f"{path}: cannot load the network ({type(exc).__name__}: {exc})") from None
    check_config(config, path)
    try:
        _check_cost(config, path)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a config Keras cannot build
        raise ModelLoadError(f"{path}: cannot load the network ({type(exc).__name__}: {exc})") from None
    _check_weights_file(weights, path)
    return model_from_memory(data)
