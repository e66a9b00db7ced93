"""ImageLoader: image paths in, a float32 ``(n, height, width, channels)`` array out."""

import os
import tempfile
from numbers import Integral
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin

from .._files import load_picture as _load_one  # the name benchmarks/bench_cache.py counts calls of
from ._disk_cache import index_path as _index_path
from ._disk_cache import picture_keys as _picture_keys
from ._disk_cache import read_index as _read_index
from ._disk_cache import write_atomically as _write_atomically
from ._disk_cache import write_npy as _write_npy

__all__ = ["MAX_SIZE", "ImageLoader", "check_size", "float_images", "image_paths", "is_image_array"]

#: Largest picture side spe decodes to, in pixels: far above what networks read
#: (224) and spe's own models (64 to 128), and it bounds what one picture costs
#: (48 MiB at float32) whatever a saved model asks; 15000 x 15000 cost 5.5 GB.
MAX_SIZE = 2048

_COLOR_MODES = {"rgb": 3, "grayscale": 1}
_CROPS = ("center", "none")
_DTYPES = ("float32", "uint8")
# Images decoded and written to a cache file at a time: bounds the memory a
# transform with ``cache_dir`` needs, whatever the number of images.
_CHUNK = 512


def image_paths(X):
    """Return the image paths in ``X`` as a list of strings.

    Parameters
    ----------
    X : sequence of path-like, 1-D array, pandas Series or DataFrame
        A DataFrame must have a single column or an ``image`` column.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If ``X`` is not one path per sample.

    Examples
    --------
    >>> import pandas as pd
    >>> image_paths(pd.DataFrame({"image": ["a.jpg", "b.jpg"], "likes": [1, 2]}))
    ['a.jpg', 'b.jpg']
    """
    if isinstance(X, pd.DataFrame):
        if "image" in X.columns:
            X = X["image"]
        elif X.shape[1] == 1:
            X = X.iloc[:, 0]
        else:
            raise ValueError(
                f"X is a DataFrame with several columns and no 'image' column; got columns {list(X.columns)}."
            )
    if isinstance(X, (str, Path)):
        raise ValueError(
            f"X must be a sequence of image paths, got a single path {str(X)!r}; wrap it in a list."
        )
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            "X must be a 1-D sequence of image paths (one per sample), got an "
            f"array of shape {arr.shape}. Numeric image arrays go straight to "
            "the regressor, without ImageLoader."
        )
    bad = [p for p in arr if not isinstance(p, (str, Path))]
    if bad:
        raise ValueError(
            f"X must hold image paths (str or pathlib.Path); got {type(bad[0]).__name__} value {bad[0]!r}."
        )
    return [str(p) for p in arr]


def is_image_array(X):
    """Whether ``X`` is already decoded images, ``(n, height, width, channels)`` numbers."""
    return isinstance(X, np.ndarray) and X.ndim == 4 and X.dtype.kind in "fiu"


def float_images(X):
    """Decoded images as float32 in ``[0, 1]``; uint8 pixels are divided by 255.

    Examples
    --------
    >>> float_images(np.array([[[[0, 255]]]], dtype=np.uint8))
    array([[[[0., 1.]]]], dtype=float32)
    """
    X = np.asarray(X)
    if X.dtype == np.uint8:
        out = X.astype(np.float32)
        out /= np.float32(255.0)  # in place: one float copy, not two
        return out
    return np.asarray(X, dtype=np.float32)


def check_size(size, owner):
    """``size`` as a ``(height, width)`` tuple of ints, each in 1 to :data:`MAX_SIZE`.

    Raises
    ------
    ValueError
        Naming ``owner``'s parameter ``size``, on one line.

    Examples
    --------
    >>> check_size([32, 48], "ImageLoader")
    (32, 48)
    """
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, Integral) and not isinstance(s, bool) and 1 <= s <= MAX_SIZE for s in size)
    ):
        raise ValueError(
            f"{owner} parameter 'size' must be a (height, width) pair of "
            f"integers from 1 to {MAX_SIZE}, got {_cut(size)}."
        )
    return (int(size[0]), int(size[1]))


def _cut(value, limit=60):
    """A parameter's repr cut short, so a hostile one cannot flood the message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class ImageLoader(TransformerMixin, BaseEstimator):
    """Load image files into a float32 array scaled to ``[0, 1]``.

    A stateless transformer: the first step of a likes pipeline, turning
    image paths into what :class:`~spe.CNNLikesRegressor` takes. JPEGs are
    decoded at reduced scale (Pillow's ``draft``) and files are decoded in
    parallel threads, so loading phone-sized photos is fast.

    Parameters
    ----------
    size : tuple of (int, int), default=(64, 64)
        Output ``(height, width)`` in pixels, each at most 2048: far above
        what networks read (224), and it bounds what one picture costs.
    color_mode : {"rgb", "grayscale"}, default="rgb"
        Three channels or one.
    crop : {"center", "none"}, default="center"
        ``"center"`` keeps the aspect ratio and crops the middle;
        ``"none"`` squashes the whole picture to ``size``, as the seed
        project did.
    n_jobs : int, default=None
        Threads used to decode. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context; ``-1`` uses all cores.
    dtype : {"float32", "uint8"}, default="float32"
        ``"float32"`` gives pixel values in ``[0, 1]``; ``"uint8"`` gives
        the raw 0-255 values in a quarter of the memory. Every spe
        estimator reads both (uint8 is divided by 255), and
        :class:`~spe.CNNLikesRegressor` streams uint8 input to the network
        batch by batch instead of converting all of it at once.
    cache_dir : str or path-like, default=None
        Folder for decoded images. When set, :meth:`transform` decodes in
        chunks of 512 into a ``.npy`` file there, with an index of its
        pictures (path, size and modification time), and returns it
        memory-mapped, read-only, so the decoded images never all sit in
        memory. A later transform with the same settings whose pictures
        are all in one cached file decodes nothing and writes nothing: a
        run of consecutive rows of it (a time-ordered fold's training or
        test posts) comes back as a memory-mapped view, other selections
        (shuffled folds) as those rows copied into memory. So transform
        the whole account once (the ``spe`` command does, when it checks
        the pictures) and every fold is served from that one file. A
        picture no cached file holds is decoded once, into a new file
        with the request's other pictures copied from the cache. Delete
        the folder to free the space: ``n * height * width * channels``
        bytes per picture with uint8 (four times that with float32).

    Attributes
    ----------
    n_features_in_ : int
        Always 1 after :meth:`fit`: one path per sample.

    See Also
    --------
    spe.CNNLikesRegressor : The regressor that takes these arrays.

    Notes
    -----
    JPEG (MPO included), PNG, WebP and GIF files are read; other formats,
    and anything but a regular file (a named pipe, a device), are refused.
    So is a picture of more than Pillow's ``MAX_IMAGE_PIXELS`` pixels, before
    it is decoded. EXIF orientation is honoured. Palette, grey, alpha, CMYK and 16-bit
    images are converted; transparent areas are shown on white. GIFs and
    other animations give their first frame. A file that cannot be decoded
    raises :class:`~spe.exceptions.ImageLoadError` naming it: nothing is
    skipped, since that would misalign images and their like counts.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> from spe import ImageLoader
    >>> path = tempfile.mkdtemp() + "/red.png"
    >>> Image.new("RGB", (40, 20), "red").save(path)
    >>> X = ImageLoader(size=(8, 8)).fit_transform([path, path])
    >>> X.shape, X.dtype, float(X[0, 0, 0, 0])
    ((2, 8, 8, 3), dtype('float32'), 1.0)

    Large accounts: uint8 pixels in a disk cache, memory-mapped.

    >>> loader = ImageLoader(size=(8, 8), dtype="uint8", cache_dir=tempfile.mkdtemp())
    >>> X = loader.fit_transform([path, path])
    >>> type(X).__name__, X.dtype, int(X[0, 0, 0, 0])
    ('memmap', dtype('uint8'), 255)
    """

    def __init__(
        self, size=(64, 64), color_mode="rgb", crop="center", n_jobs=None, dtype="float32", cache_dir=None
    ):
        self.size = size
        self.color_mode = color_mode
        self.crop = crop
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.cache_dir = cache_dir

    def _check_settings(self):
        size = check_size(self.size, "ImageLoader")
        if self.color_mode not in _COLOR_MODES:
            raise ValueError(
                f"ImageLoader parameter 'color_mode' must be one of "
                f"{sorted(_COLOR_MODES)}, got {self.color_mode!r}."
            )
        if self.crop not in _CROPS:
            raise ValueError(
                f"ImageLoader parameter 'crop' must be one of {list(_CROPS)}, got {self.crop!r}."
            )
        if self.dtype not in _DTYPES:
            raise ValueError(
                f"ImageLoader parameter 'dtype' must be one of {list(_DTYPES)}, got {self.dtype!r}."
            )
        if self.cache_dir is not None and not isinstance(self.cache_dir, (str, os.PathLike)):
            raise ValueError(
                f"ImageLoader parameter 'cache_dir' must be a folder path or None, got {self.cache_dir!r}."
            )
        return size

    def fit(self, X, y=None):
        """Check the parameters and the input; learn nothing.

        Parameters
        ----------
        X : sequence of path-like
            Image paths.
        y : None
            Ignored.

        Returns
        -------
        self : ImageLoader
        """
        self._check_settings()
        image_paths(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        """Decode the images.

        Parameters
        ----------
        X : sequence of path-like, 1-D array, pandas Series or DataFrame
            Image paths; a DataFrame must have one column or an ``image``
            column.

        Returns
        -------
        ndarray of shape (n_samples, height, width, channels)
            float32 pixel values in ``[0, 1]``, or uint8 values in
            ``[0, 255]`` with ``dtype="uint8"``; a read-only
            :class:`numpy.memmap` with ``cache_dir``.

        Raises
        ------
        spe.exceptions.ImageLoadError
            If a file is missing or cannot be decoded; the message names it.
        """
        if self.cache_dir is not None:
            return self._cached(image_paths(X), self._check_settings())
        images = self.load_uint8(X)  # validates the parameters
        return images if self.dtype == "uint8" else float_images(images)

    def load_uint8(self, X):
        """Decode the images to uint8, a quarter of the memory of :meth:`transform`.

        Parameters
        ----------
        X : sequence of path-like
            Image paths.

        Returns
        -------
        ndarray of shape (n_samples, height, width, channels), dtype uint8

        Examples
        --------
        >>> import tempfile
        >>> from PIL import Image
        >>> path = tempfile.mkdtemp() + "/grey.png"
        >>> Image.new("L", (8, 8), 128).save(path)
        >>> ImageLoader(size=(4, 4)).load_uint8([path]).max()
        np.uint8(128)
        """
        size = self._check_settings()
        paths = image_paths(X)
        out = np.empty((len(paths), *size, _COLOR_MODES[self.color_mode]), dtype=np.uint8)
        for i, arr in enumerate(self._decode(paths, size)):
            out[i] = arr
        return out

    def check(self, X):
        """Decode every image once and keep none: a bad file fails now, naming it.

        Images are decoded one at a time (a few per thread), so the check
        holds no decoded set whatever the number of images. With
        ``cache_dir`` they are decoded into the cache instead, which later
        transforms of these images (or any part of them) then read.

        Parameters
        ----------
        X : sequence of path-like
            Image paths.

        Returns
        -------
        int
            The number of images checked.

        Raises
        ------
        spe.exceptions.ImageLoadError
            If a file is missing or cannot be decoded; the message names it.

        Examples
        --------
        >>> import tempfile
        >>> from PIL import Image
        >>> path = tempfile.mkdtemp() + "/blue.png"
        >>> Image.new("RGB", (8, 8), "blue").save(path)
        >>> ImageLoader(size=(4, 4)).check([path, path])
        2
        """
        size = self._check_settings()
        paths = image_paths(X)
        if self.cache_dir is not None:
            self._cached(paths, size)
        else:
            for _ in self._decode(paths, size):
                pass
        return len(paths)

    def _decode(self, paths, size):
        # Threads, always (require="sharedmem"), even under a process or Dask
        # backend: Pillow releases the GIL while decoding, and a picture
        # never needs to travel to another process.
        return Parallel(n_jobs=self.n_jobs, require="sharedmem", return_as="generator")(
            delayed(_load_one)(p, size, self.color_mode, self.crop) for p in paths
        )

    def _cached(self, paths, size):
        """Serve the images from a cached file that holds them all, or write one; memory-mapped."""
        keys = _picture_keys(paths)
        shape = (len(paths), *size, _COLOR_MODES[self.color_mode])
        if not paths:
            return np.empty(shape, dtype=self.dtype)  # a memory map cannot be empty
        folder = Path(self.cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        settings = joblib.hash((self.color_mode, self.crop, self.dtype, shape[1:]))
        cached = []
        for target in sorted(folder.glob(f"images-{settings}-*.npy"), key=lambda f: -f.stat().st_size):
            index = _read_index(target)
            if index is None:
                continue
            rows = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
            if (rows >= 0).all():
                images = np.load(target, mmap_mode="r")
                if (np.diff(rows) == 1).all():  # consecutive rows: a view, nothing read
                    return images[rows[0] : rows[-1] + 1]
                return np.take(images, rows, axis=0)
            cached.append((target, rows))
        target = folder / f"images-{settings}-{joblib.hash(keys)}.npy"
        chunks = self._fill(paths, size, cached)
        if self.dtype == "float32":
            chunks = ((float_images(c) if c.dtype == np.uint8 else c) for c in chunks)
        # Written under a temporary name and renamed into place, after its
        # index, so an error or Ctrl-C never leaves a half-written file to
        # be reused, and a file is only ever read with its index.
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                _write_npy(f, shape, self.dtype, chunks)
            _write_atomically(_index_path(target), lambda f: np.save(f, np.array(keys, dtype="S32")))
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
        return np.load(target, mmap_mode="r")

    def _fill(self, paths, size, cached):
        """The images in chunks of 512: rows already in cached files copied, the others decoded."""
        found = np.full(len(paths), -1)
        source = [None] * len(paths)
        for target, rows in cached:
            new = (rows >= 0) & (found < 0)
            found[new] = rows[new]
            for i in np.flatnonzero(new):
                source[i] = target
        missing = [p for p, r in zip(paths, found) if r < 0]
        decoded = iter(self._decode(missing, size))
        maps = {t: np.load(t, mmap_mode="r") for t, _ in cached}
        for start in range(0, len(paths), _CHUNK):
            yield np.stack(
                [
                    np.asarray(maps[source[i]][found[i]]) if found[i] >= 0 else next(decoded)
                    for i in range(start, min(start + _CHUNK, len(paths)))
                ]
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
