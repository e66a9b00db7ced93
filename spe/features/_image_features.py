"""ImageFeatures: named, interpretable features of a picture."""

import numpy as np
from PIL import Image
from scipy import ndimage
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._files import crop_box
from ._loader import ImageLoader, check_size, float_images, is_image_array

__all__ = ["ImageFeatures"]

_HUES = ("red", "yellow", "green", "cyan", "blue", "magenta")
_BASE = (
    "brightness",
    "contrast",
    "saturation",
    "colourfulness",
    "sharpness",
    "symmetry",
    "edge_density",
    *(f"hue_{h}" for h in _HUES),
)
_FACES = ("face_count", "face_area")


def _face_detector():
    try:
        import cv2
    except ImportError:
        raise ImportError(
            "ImageFeatures(faces=True) needs OpenCV with its bundled Haar cascades: "
            "pip install 'opencv-python-headless>=4.8,<5'"
        ) from None
    import os

    cascade = cv2.CascadeClassifier(
        os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
    )
    if cascade.empty():
        raise ImportError(
            "OpenCV's frontal-face Haar cascade is missing (OpenCV 5 no longer bundles it); "
            "install 'opencv-python-headless>=4.8,<5'"
        )
    return cv2, cascade


def resize_images(X, size, owner="resize_images"):
    """Decoded pictures as float32 RGB at ``size``, the way ImageLoader sizes files.

    Centre crop to the aspect ratio of ``size``, then bilinear resampling,
    per channel in float; grey pictures get three equal channels. Pictures
    already at ``size`` are returned as they are. ``size`` is bounded as
    ImageLoader's is (2048 a side), before anything is allocated; a refusal
    names ``owner``.

    Examples
    --------
    >>> import numpy as np
    >>> resize_images(np.ones((2, 64, 48, 1), dtype=np.uint8), (32, 32)).shape
    (2, 32, 32, 3)
    """
    # A saved model's network input shape comes here: bounded like any size.
    height, width = check_size(tuple(size), owner)
    images = float_images(X)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    if images.shape[1:3] == (height, width):
        return images
    out = np.empty((len(images), height, width, images.shape[-1]), dtype=np.float32)
    for i, img in enumerate(images):
        box = crop_box(img.shape[1], img.shape[0], (width, height), "center")
        for c in range(img.shape[-1]):
            channel = Image.fromarray(np.ascontiguousarray(img[..., c]))
            out[i, ..., c] = channel.resize(
                (width, height), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0
            )
    return out


def _hsv(rgb):
    """Hue in [0, 1) and saturation in [0, 1] of float RGB pixels."""
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    delta = mx - mn
    saturation = np.where(mx > 0, delta / np.where(mx > 0, mx, 1), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.where(delta > 0, delta, 1)
    hue = np.select(
        [mx == r, mx == g],
        [((g - b) / safe) % 6, (b - r) / safe + 2],
        (r - g) / safe + 4,
    )
    return hue / 6.0, saturation


def _features(img):
    """The base features of one float RGB image of shape (h, w, 3) in [0, 1]."""
    luminance = img @ np.array([0.299, 0.587, 0.114], dtype=img.dtype)
    hue, saturation = _hsv(img)
    rg = img[..., 0] - img[..., 1]
    yb = 0.5 * (img[..., 0] + img[..., 1]) - img[..., 2]
    # Hasler and Süsstrunk (2003), on 0-1 pixel values.
    colourfulness = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    sharpness = ndimage.laplace(luminance).var()
    symmetry = 1.0 - np.abs(luminance - luminance[:, ::-1]).mean()
    gradient = np.hypot(ndimage.sobel(luminance, axis=0), ndimage.sobel(luminance, axis=1))
    edge_density = (gradient > 0.5).mean()
    # Share of the picture in each of six hue sectors, counting coloured pixels only.
    coloured = saturation > 0.25
    sector = np.floor((hue * 6 + 0.5) % 6).astype(int)
    hues = [(coloured & (sector == i)).mean() for i in range(6)]
    return [
        luminance.mean(),
        luminance.std(),
        saturation.mean(),
        colourfulness,
        sharpness,
        symmetry,
        edge_density,
        *hues,
    ]


class ImageFeatures(TransformerMixin, BaseEstimator):
    """Interpretable features of each picture, with names.

    The seed project's own ideas (symmetry, kind of shot) and the
    image-assessment features of the literature: brightness, contrast,
    saturation, colourfulness (Hasler and Süsstrunk), sharpness (variance
    of the Laplacian), left-right symmetry, edge density, a coarse hue
    histogram (share of coloured pixels in six hue sectors) and, with
    ``faces=True``, the number of frontal faces and the largest face's share
    of the picture, from OpenCV's bundled Haar cascade.

    Parameters
    ----------
    size : tuple of (int, int), default=(128, 128)
        Size the features are measured at, each side at most 2048 pixels
        (as :class:`~spe.ImageLoader`): pictures given as paths are
        loaded at it, arrays of another size are resized to it (sharpness
        and edge density depend on the scale, so a picture gives the same
        features whichever way it comes).
    faces : bool, default=True
        Add ``face_count`` and ``face_area`` (needs
        ``opencv-python-headless<5``, which still bundles the cascades).
    n_jobs : int, default=None
        Threads for decoding pictures.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        The names of the columns :meth:`transform` returns.
    n_features_in_ : int
        1 (a path per post) or the image shape's width for arrays.

    See Also
    --------
    spe.ImageLoader : How paths are decoded.
    spe.LikesRegressor : Uses these features to model what a picture adds to the trend.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> from spe import ImageFeatures
    >>> path = tempfile.mkdtemp() + "/red.png"
    >>> Image.new("RGB", (32, 32), "red").save(path)
    >>> features = ImageFeatures(faces=False).fit([path])
    >>> row = features.transform([path])[0]
    >>> dict(zip(features.get_feature_names_out(), row.round(2)))["hue_red"]
    np.float64(1.0)
    """

    _featurizes_pictures = True  # its output can be computed once per picture (precompute_pictures)

    def __init__(self, size=(128, 128), faces=True, n_jobs=None):
        self.size = size
        self.faces = faces
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Check the parameters; learn nothing.

        Parameters
        ----------
        X : sequence of path-like, DataFrame with an ``image`` column, or array of images
        y : None
            Ignored.

        Returns
        -------
        self : ImageFeatures
        """
        if self.faces:
            _face_detector()
        check_size(self.size, "ImageFeatures")
        self.feature_names_out_ = np.array(_BASE + (_FACES if self.faces else ()), dtype=object)
        self.n_features_in_ = 1
        return self

    def _images(self, X):
        size = check_size(self.size, "ImageFeatures")  # before anything is allocated at that size
        if is_image_array(X):
            return resize_images(X, size, "ImageFeatures")
        return ImageLoader(size=size, n_jobs=self.n_jobs).transform(X)

    def transform(self, X):
        """Compute the features.

        Parameters
        ----------
        X : sequence of path-like, DataFrame with an ``image`` column, or array of images
            Arrays are ``(n, height, width, channels)`` in ``[0, 1]``, as
            :class:`~spe.ImageLoader` returns them; another size than
            ``size`` is resized to it.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        images = self._images(X)
        rows = np.array([_features(img) for img in images], dtype=np.float64).reshape(len(images), len(_BASE))
        if not self.faces:
            return rows
        cv2, cascade = _face_detector()
        faces = np.zeros((len(images), 2))
        for i, img in enumerate(images):
            grey = cv2.cvtColor((img * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
            found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))
            if len(found):
                faces[i] = len(found), max(w * h for (_, _, w, h) in found) / grey.size
        return np.hstack([rows, faces])

    def get_feature_names_out(self, input_features=None):
        """Names of the features, in column order.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
