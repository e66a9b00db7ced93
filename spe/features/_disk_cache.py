"""ImageLoader's disk cache: a picture's key, the cache's index files, writes that never leave half a file.

A cache folder holds ``images-<settings>-<pictures>.npy`` (decoded
pictures, memory-mapped on read) and beside each an ``index-...npy`` of
the picture keys it holds, by row.
"""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ..exceptions import ImageLoadError

# Cache index files read in this process: {(path, mtime_ns): {picture key: row}}.
_INDEXES = {}


def write_npy(f, shape, dtype, chunks):
    """Write ``chunks`` (arrays along the first axis) to the open file ``f`` as one ``.npy``.

    Plain writes rather than a writable memory map, so pages already written
    do not stay resident in this process.
    """
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(f, header)
    for chunk in chunks:
        f.write(np.ascontiguousarray(chunk, dtype=dtype).tobytes())


def write_atomically(target, write):
    """Call ``write`` on a temporary file beside ``target``, then rename it into place."""
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def picture_keys(paths):
    """One key per picture: its absolute path, size and modification time (bytes of 32 hex digits)."""
    keys = []
    for p in paths:
        try:
            st = os.stat(p)
        except FileNotFoundError:
            raise ImageLoadError(f"Image file not found: {p}") from None
        except OSError as exc:
            raise ImageLoadError(f"Cannot read image {p}: {exc}") from exc
        text = f"{os.path.abspath(p)}\0{st.st_size}\0{st.st_mtime_ns}"
        keys.append(
            hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest().encode()
        )
    return keys


def index_path(target):
    return target.with_name(target.name.replace("images-", "index-", 1))


def read_index(target):
    """``{picture key: row}`` of a cached file, or None when it has no index (an older spe's)."""
    index = index_path(target)
    try:
        stamp = (str(index), index.stat().st_mtime_ns)
    except FileNotFoundError:
        return None
    if stamp not in _INDEXES:
        keys = np.load(index)
        _INDEXES[stamp] = {bytes(k): row for row, k in enumerate(keys)}
    return _INDEXES[stamp]
