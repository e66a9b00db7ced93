"""Opening the files a user names: regular files only, never blocking, pictures in spe's formats only.

Every file spe reads because a user (or a model folder) named it goes through
:func:`open_regular`: a named pipe, device, socket or folder is refused at
once instead of blocking a read forever (a FIFO's ``open`` waits for a
writer; ``/dev/zero`` never ends). Pictures go through :func:`open_picture`,
which also bounds the picture's pixel count before anything is decoded and
lets Pillow try only the formats spe documents.
"""

import errno
import functools
import os
import stat
import threading
import warnings
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .exceptions import ImageLoadError

__all__ = [
    "PICTURE_FORMATS",
    "picture_formats",
    "NotRegularFileError",
    "crop_box",
    "load_picture",
    "open_picture",
    "open_regular",
]

#: The Pillow formats spe decodes: what phones and the web give. "JPEG" takes
#: in MPO, a phone JPEG carrying extra frames (Pillow's JPEG opener returns it);
#: "HEIF" is an iPhone's HEIC (through pillow-heif), "AVIF" where Pillow was
#: built with it (:func:`picture_formats` says which this Pillow has).
#: Anything else, such as EPS content named ``.jpg`` that Pillow would hand
#: to Ghostscript, is refused.
PICTURE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF", "AVIF")
# The brands of an ISO media file's "ftyp" box that mean a still picture (bytes 8-12).
_HEIF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"heim": "HEIC", b"heis": "HEIC", b"mif1": "HEIF"}
_HEIF_BRANDS.update({b"msf1": "HEIF", b"avif": "AVIF", b"avis": "AVIF"})
# Pillow's own default bound, used when a process has switched Pillow's off
# (MAX_IMAGE_PIXELS = None): a picture spe decodes is bounded either way.
_DEFAULT_MAX_PIXELS = 1024 * 1024 * 1024 // 4 // 3
# O_NONBLOCK makes opening a FIFO return at once instead of waiting for a
# writer; it changes nothing for a regular file. (Windows has no FIFOs.)
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
# Serialises Image.open, which reads a picture's header but not its pixels
# (decoding runs in parallel), so that the warnings filter turning Pillow's
# decompression-bomb warning into an error (catch_warnings changes
# process-wide state) is set and restored by one thread at a time and is
# never left behind in the user's process.
_HEADER_LOCK = threading.Lock()
# Modes whose pixel values are not 8-bit: scaled to 8 bits by hand, since
# Pillow's convert() clips them instead.
_WIDE_MODES = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I": 65535.0, "F": 1.0}


@functools.cache
def picture_formats():
    """The formats of :data:`PICTURE_FORMATS` this Pillow can open.

    HEIF (an iPhone's HEIC) through pillow-heif, a dependency of spe, which
    registers itself with Pillow on first use; AVIF where Pillow was built
    with it (Pillow >= 11.3's wheels are).

    Examples
    --------
    >>> picture_formats()[:4]
    ('JPEG', 'PNG', 'WEBP', 'GIF')
    """
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # an install without it: such pictures are named, with how to convert them
        pass
    else:
        register_heif_opener()
    Image.init()
    return tuple(f for f in PICTURE_FORMATS if f in Image.OPEN)


def _unreadable(f):
    """Why an unidentified picture was refused: its format named where spe knows it."""
    f.seek(0)
    head = f.read(16)
    kind = _HEIF_BRANDS.get(head[8:12]) if head[4:8] == b"ftyp" else None
    if kind is not None and ("AVIF" if kind == "AVIF" else "HEIF") not in picture_formats():
        how = (
            "pip install pillow-heif"
            if kind != "AVIF"
            else "a Pillow built with AVIF (pip install -U pillow)"
        )
        return (
            f"a {kind} picture, which this installation cannot decode: install {how}, or convert it to "
            "JPEG (e.g. `heif-convert a.heic a.jpg`, or on an iPhone Settings > Camera > Formats > Most "
            "Compatible)"
        )
    return f"not a picture in a format spe reads ({', '.join(picture_formats())})"


class NotRegularFileError(OSError):
    """A path names something other than a regular file: a FIFO, device, socket or folder."""


def _not_regular(mode):
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return NotRegularFileError(f"{kind}, not a regular file" if kind.startswith("a ") else kind)


def open_regular(path):
    """Open ``path`` for reading in binary if it is a regular file; refuse anything else at once.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    file object
        Buffered binary reader; close it (or use ``with``).

    Raises
    ------
    NotRegularFileError
        If ``path`` is a FIFO, device, socket or folder; the message says
        which, without the path (callers name it).
    OSError
        If the file cannot be opened (missing, no permission, ...).

    Examples
    --------
    >>> import tempfile
    >>> open_regular(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    spe._files.NotRegularFileError: a folder, not a regular file
    """
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: a socket, which cannot be opened at all
            raise
        raise _not_regular(os.stat(path).st_mode) from None
    try:
        mode = os.fstat(fd).st_mode  # the opened file itself: no race with a rename
        if not stat.S_ISREG(mode):
            raise _not_regular(mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def open_picture(path):
    """The Pillow image of a picture file, opened but not decoded, its size checked.

    Parameters
    ----------
    path : str or path-like

    Yields
    ------
    PIL.Image.Image
        Not yet decoded; call ``load`` or convert it inside the ``with``.

    Raises
    ------
    PIL.UnidentifiedImageError
        If the file is not a picture in one of :func:`picture_formats`.
    PIL.Image.DecompressionBombError
        If the picture has more pixels than Pillow's ``MAX_IMAGE_PIXELS``
        (its default when that is None); nothing is decoded, nothing warned.
    NotRegularFileError, OSError
        As :func:`open_regular`.
    """
    with open_regular(path) as f:
        try:
            with _HEADER_LOCK, warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(f, formats=picture_formats())
        except Image.DecompressionBombWarning as exc:
            raise Image.DecompressionBombError(str(exc)) from None
        except UnidentifiedImageError:
            raise UnidentifiedImageError(_unreadable(f)) from None
        with img:
            limit = Image.MAX_IMAGE_PIXELS or _DEFAULT_MAX_PIXELS
            if img.width * img.height > limit:
                raise Image.DecompressionBombError(
                    f"{img.width}x{img.height} pixels is more than the limit of {limit} "
                    "(PIL.Image.MAX_IMAGE_PIXELS)"
                )
            yield img


def _to_rgb_or_l(img, color_mode):
    """Convert any Pillow mode to ``RGB`` or ``L``."""
    target = "RGB" if color_mode == "rgb" else "L"
    if img.mode in _WIDE_MODES:
        arr = np.asarray(img, dtype=np.float32) / _WIDE_MODES[img.mode]
        img = Image.fromarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), "L")
    if img.mode == "P":
        # Palette images may carry transparency; RGBA keeps it for compositing.
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent pixels keep arbitrary colours; show them on white, as
        # an image viewer does.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert(target) if img.mode != target else img


def crop_box(width, height, size, crop):
    """The source box that ``crop`` maps onto the output ``size``."""
    if crop == "none":
        return (0, 0, width, height)
    target_ratio = size[0] / size[1]
    if width / height > target_ratio:
        new_w = height * target_ratio
        left = (width - new_w) / 2
        return (left, 0, left + new_w, height)
    new_h = width / target_ratio
    top = (height - new_h) / 2
    return (0, top, width, top + new_h)


def load_picture(path, size, color_mode, crop):
    """Decode one image to a uint8 array of shape (h, w, c)."""
    wh = (size[1], size[0])  # Pillow sizes are (width, height)
    try:
        with open_picture(path) as img:
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale, never below the
            # target in either orientation (EXIF rotation may swap sides).
            side = max(wh)
            img.draft(img.mode if img.mode in ("RGB", "L") else None, (side, side))
            img = ImageOps.exif_transpose(img)
            img = _to_rgb_or_l(img, color_mode)
            box = crop_box(img.width, img.height, wh, crop)
            img = img.resize(wh, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
            arr = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError:
        raise ImageLoadError(f"Image file not found: {path}") from None
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"Cannot read image {path}: {exc}") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"Refusing to decode image {path}: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Not a regular file, truncated or corrupt data, symlink loops, unreadable files.
        raise ImageLoadError(f"Cannot read image {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    return arr if arr.ndim == 3 else arr[:, :, np.newaxis]
