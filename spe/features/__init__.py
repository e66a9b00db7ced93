"""From posts to numbers: pictures as arrays, hand-made picture features, post features, embeddings.

:class:`ImageLoader` decodes the pictures a DataFrame names,
:class:`ImageFeatures` measures them (colour, brightness, faces ...),
:class:`PostFeatures` describes the post itself (posting time, gaps,
caption) and :class:`PretrainedEmbedder` (imported on first use: it starts
TensorFlow) gives an offline backbone's pooled features.
"""

from .._keras import lazy_getattr
from ._image_features import ImageFeatures
from ._loader import ImageLoader
from ._post_features import PostFeatures

__all__ = ["ImageFeatures", "ImageLoader", "PostFeatures", "PretrainedEmbedder"]

# Saved model files name each class by its public home (``spe.features.ImageLoader``), not the
# private module defining it, so that moving code never breaks a saved model.
for _cls in (ImageFeatures, ImageLoader, PostFeatures):
    _cls.__module__ = __name__
del _cls
# Its methods' examples: doctest looks for methods in the module that defines them.
__test__ = {"ImageLoader.check": ImageLoader.check, "ImageLoader.load_uint8": ImageLoader.load_uint8}

__getattr__ = lazy_getattr(__name__, {"PretrainedEmbedder": "._embedder"})
