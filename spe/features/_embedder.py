"""PretrainedEmbedder: pooled features of a keras.applications backbone."""

import contextlib
import functools
import io
import socket
import warnings
from pathlib import Path

from .._keras._backend import PicklesKerasModel, keras  # first: imports TensorFlow quietly

# isort: split
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._keras._scikeras_fixes import keras_seed
from ._image_features import resize_images
from ._loader import ImageLoader, is_image_array

__all__ = ["PretrainedEmbedder"]

# name -> the keras.applications module whose preprocess_input matches it
BACKBONES = {
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


class PretrainedEmbedder(PicklesKerasModel, TransformerMixin, BaseEstimator):
    """Embed pictures with a pretrained ``keras.applications`` backbone.

    The global-average-pooled activations of the backbone's last
    convolution block, one row per picture: the input of the winning
    entry of a public likes-prediction challenge (VGG16 features, PCA to
    128, a per-account standardised target and extra trees). Follow it
    with :class:`~sklearn.decomposition.PCA` and a linear or tree model.

    Parameters
    ----------
    backbone : {"MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0", "ResNet50"}, \
default="MobileNetV3Small"
    weights : "imagenet", path or None, default="imagenet"
        ``"imagenet"`` downloads Keras' pretrained weights (needs the
        network once; Keras caches them in ``~/.keras``). A path loads a
        weights file saved with ``model.save_weights``. ``None`` keeps
        random weights, only useful for tests.
    size : tuple of (int, int), default=(128, 128)
        Size the backbone sees (at least 32x32): pictures given as paths
        are loaded at it, arrays of another size (such as
        :class:`~spe.ImageLoader`'s default 64x64) are resized to it, the
        same way. A network's features depend on the scale, so a picture
        embeds the same whichever way it comes.
    batch_size : int, default=32
    random_state : int, RandomState instance or None, default=None
        Seed for the random weights of ``weights=None``: the same seed
        gives the same embedding. Pretrained weights ignore it.

    Attributes
    ----------
    model_ : keras.Model
        The backbone, built in :meth:`fit`.
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
    ):
        self.backbone = backbone
        self.weights = weights
        self.size = size
        self.batch_size = batch_size
        self.random_state = random_state

    def _build(self):
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"PretrainedEmbedder parameter 'backbone' must be one of {sorted(BACKBONES)}, "
                f"got {self.backbone!r}."
            )
        height, width = ImageLoader(size=self.size)._check_settings()
        if min(height, width) < 32:
            raise ValueError(
                f"PretrainedEmbedder parameter 'size' must be at least 32x32, got {self.size!r}."
            )
        builder = getattr(keras.applications, self.backbone)
        local = self.weights not in ("imagenet", None)
        if local and not Path(self.weights).is_file():
            raise FileNotFoundError(f"PretrainedEmbedder weights file not found: {self.weights}")
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
        self.n_features_out_ = int(self.model_.output_shape[-1])
        return self

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
        check_is_fitted(self)
        if is_image_array(X):
            images = resize_images(X, tuple(self.model_.input_shape[1:3]))
        else:
            images = ImageLoader(size=self.size).transform(X)
        preprocess = getattr(keras.applications, BACKBONES[self.backbone]).preprocess_input
        embedded = self.model_.predict(preprocess(images * 255.0), batch_size=self.batch_size, verbose=0)
        return np.asarray(embedded, dtype=np.float64)

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
