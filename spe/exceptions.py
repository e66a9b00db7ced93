"""Exceptions raised by :mod:`spe`.

Both derive from :class:`ValueError`, so code that already catches the
errors scikit-learn raises for bad input keeps working.
"""

__all__ = ["DataError", "ImageLoadError", "ModelLoadError", "NotExplainableError"]


class DataError(ValueError):
    """A dataset (likes file, CSV, instaloader folder) cannot be read.

    The message names the file and, where there is one, the line.

    Examples
    --------
    >>> from spe.exceptions import DataError
    >>> issubclass(DataError, ValueError)
    True
    """


class ImageLoadError(ValueError):
    """An image file cannot be decoded.

    The message names the file. Raised instead of skipping the file, since
    a skipped image would misalign the images and their like counts.

    Examples
    --------
    >>> from spe.exceptions import ImageLoadError
    >>> issubclass(ImageLoadError, ValueError)
    True
    """


class ModelLoadError(ValueError):
    """A saved model folder cannot be loaded.

    Raised for a missing or corrupt folder, one written by a newer version
    of spe, a network that does not match its description, or a network
    that Keras' safe mode refuses (a Lambda layer or other custom code).

    Examples
    --------
    >>> from spe.exceptions import ModelLoadError
    >>> issubclass(ModelLoadError, ValueError)
    True
    """


class NotExplainableError(ValueError):
    """A model has no picture reasons to give.

    Raised by :mod:`spe.inspection` for a model with no picture factor (a
    trend, a model of likes alone, an :class:`~spe.AutoLikesRegressor`
    that chose the trend) or one whose picture factor is no sum of named
    features (a CNN, embeddings + PCA, a non-linear model). The message
    says which.

    Examples
    --------
    >>> from spe.exceptions import NotExplainableError
    >>> issubclass(NotExplainableError, ValueError)
    True
    """
