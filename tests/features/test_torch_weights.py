"""Reading a PyTorch state dict without PyTorch, and refusing anything else without running it."""

import collections
import io
import os
import pickle
import struct
import sys
import tracemalloc
import types
import zipfile

import numpy as np
import pytest

from spe.features._embedder import offline_weights
from spe.features._torch_weights import read_state_dict


@pytest.fixture
def fake_torch(monkeypatch):
    """Stand-ins named like PyTorch's globals, so that pickle writes what torch.save writes."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    class LongStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called when writing")

    for obj, module in ((FloatStorage, torch), (LongStorage, torch), (_rebuild_tensor_v2, utils)):
        obj.__module__, obj.__qualname__ = module.__name__, obj.__name__
        setattr(module, obj.__name__, obj)
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch, utils


class _Tensor:
    """Pickles as torch.save pickles a tensor; ``array`` may be an int, a size the storage only declares."""

    def __init__(self, storage_type, key, array, offset, shape, stride, build=None):
        self.storage = (storage_type, key, array)
        self.args, self.build = (offset, shape, stride), build

    def __reduce__(self):
        return (
            sys.modules["torch._utils"]._rebuild_tensor_v2,
            (self.storage, *self.args, False, {}),
            self.build,
        )


class _Pickler(pickle.Pickler):
    view = ()  # legacy files add the view metadata

    def persistent_id(self, obj):
        if isinstance(obj, tuple) and len(obj) == 3 and isinstance(obj[0], type):
            size = obj[2] if isinstance(obj[2], int) else obj[2].size
            return ("storage", obj[0], obj[1], "cpu", size, *self.view)
        return None


class _LegacyPickler(_Pickler):
    view = (None,)


def _little_endian(array):
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


def _write_zip(path, state, storages, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        for key, array in storages.items():
            archive.writestr(f"archive/data/{key}", _little_endian(array))


def _write_legacy(path, state, storages, counts=None):
    """torch.save(..., _use_new_zipfile_serialization=False)'s layout, counts from ``counts`` if given."""
    buffer = io.BytesIO()
    info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (0x1950A86A20F9469CFC6C, 1001, info):
        pickle.dump(header, buffer, protocol=2)
    _LegacyPickler(buffer, protocol=2).dump(state)
    pickle.dump(list(storages), buffer, protocol=2)
    for key, array in storages.items():
        buffer.write(struct.pack("<q", (counts or {}).get(key, array.size)) + _little_endian(array))
    path.write_bytes(buffer.getvalue())


def _refused(path, match):
    """read_state_dict(path) fails in one line naming the file, having allocated under 64 MiB."""
    tracemalloc.start()  # numpy reports its arrays to tracemalloc too
    try:
        with pytest.raises(ValueError, match=match) as caught:
            read_state_dict(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
    assert peak < 2**26, f"{peak} bytes allocated"


def test_the_wheels_weights_are_read_without_torch():
    state = read_state_dict(offline_weights())
    assert "torch" not in sys.modules
    assert len(state) == 296 and state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280) and state["_fc.weight"].dtype == np.float32
    assert np.isfinite(state["_bn1.running_var"]).all() and (state["_bn1.running_var"] > 0).all()


def test_a_zip_state_dict_with_strided_tensors(fake_torch, tmp_path):
    torch, _ = fake_torch
    data = np.arange(12, dtype=np.float32)
    counts = np.array([7], dtype=np.int64)
    state = {
        "w": _Tensor(torch.FloatStorage, "0", data, 0, (3, 4), (4, 1)),
        "w_t": _Tensor(torch.FloatStorage, "0", data, 0, (4, 3), (1, 4)),  # a transposed view
        "tail": _Tensor(torch.FloatStorage, "0", data, 10, (2,), (1,)),
        "n": _Tensor(torch.LongStorage, "1", counts, 0, (), ()),
    }
    _write_zip(tmp_path / "w.pth", state, {"0": data, "1": counts})
    out = read_state_dict(tmp_path / "w.pth")
    np.testing.assert_array_equal(out["w"], data.reshape(3, 4))
    np.testing.assert_array_equal(out["w_t"], data.reshape(3, 4).T)
    np.testing.assert_array_equal(out["tail"], [10.0, 11.0])
    assert out["n"] == 7 and out["n"].dtype == np.int64


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("layout", ["plain", "zip"])
def test_a_pickle_naming_another_global_is_refused_never_run(tmp_path, layout):
    marker = tmp_path / "ran"
    payload = pickle.dumps({"w": _Evil(marker)}, protocol=2)
    path = tmp_path / "evil.pth"
    if layout == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", payload)
    else:
        path.write_bytes(payload)
    with pytest.raises(ValueError, match=r"evil\.pth.*(posix|nt)\.system"):
        read_state_dict(path)
    assert not marker.exists()


def test_other_files_are_refused_with_their_name(fake_torch, tmp_path):
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(ValueError, match=r"text\.pth"):
        read_state_dict(tmp_path / "text.pth")
    with pytest.raises(FileNotFoundError, match=r"missing\.pth"):
        read_state_dict(tmp_path / "missing.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(offline_weights().read_bytes()[:100_000])
    with pytest.raises(ValueError, match=r"truncated\.pth"):
        read_state_dict(truncated)
    _write_zip(tmp_path / "ints.pth", {"a": 1, "b": [2, 3]}, {})
    with pytest.raises(ValueError, match=r"ints\.pth is not a state dict"):
        read_state_dict(tmp_path / "ints.pth")


@pytest.mark.parametrize(
    "storage, stride",
    [(np.zeros(1, np.float32), (0, 0)), (np.zeros(50_000, np.float32), (1, 1))],
    ids=["zero-strides", "overlapping"],
)
def test_a_tensor_larger_than_its_storage_is_refused_before_it_is_copied(
    fake_torch, tmp_path, storage, stride
):
    # Each stands for 25000 x 25000 floats (2.5 GB) within its storage's extent.
    torch, _ = fake_torch
    state = {"w": _Tensor(torch.FloatStorage, "0", storage, 0, (25_000, 25_000), stride)}
    _write_zip(tmp_path / "big.pth", state, {"0": storage})
    _refused(
        tmp_path / "big.pth", r"big\.pth is not a plain tensor state dict: tensor 'w' (repeats|holds more)"
    )


def test_a_deflated_member_inflating_far_past_its_size_is_refused_before_it_is_read(
    fake_torch, tmp_path, monkeypatch
):
    torch, _ = fake_torch
    zeros = np.zeros(2**20, np.float32)  # 4 MiB, deflated to 4 kB: torch.save never compresses
    state = {"w": _Tensor(torch.FloatStorage, "0", zeros, 0, zeros.shape, (1,))}
    _write_zip(tmp_path / "bomb.pth", state, {"0": zeros}, compression=zipfile.ZIP_DEFLATED)
    opened, open_member = [], zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: opened.append(name) or open_member(self, name, *a, **k),
    )
    _refused(
        tmp_path / "bomb.pth", r"bomb\.pth is not a PyTorch state dict: member 'archive/data/0' inflates"
    )
    assert opened == []


@pytest.mark.parametrize("opcode", ["BUILD", "REDUCE"])
def test_a_tensor_made_of_something_else_than_a_storage_is_refused_in_one_line(fake_torch, tmp_path, opcode):
    torch, _ = fake_torch
    data = np.zeros(1, np.float32)
    if opcode == "BUILD":  # a storage set after the tensor is built
        tensor = _Tensor(
            torch.FloatStorage, "0", data, 0, (1,), (1,), build={"storage": collections.OrderedDict()}
        )
    else:  # the tensor built from an OrderedDict
        tensor = _Tensor(torch.FloatStorage, "0", data, 0, (1,), (1,))
        tensor.storage = collections.OrderedDict()
    _write_zip(tmp_path / "b.pth", {"w": tensor}, {"0": data})
    _refused(tmp_path / "b.pth", r"b\.pth is not a plain tensor state dict: (it sets|tensor 'w' is not made)")


def test_a_storage_declaring_more_than_the_file_holds_is_refused_before_it_is_read(fake_torch, tmp_path):
    torch, _ = fake_torch
    data = np.arange(3, dtype=np.int64)
    _write_legacy(
        tmp_path / "ok.pth", {"n": _Tensor(torch.LongStorage, "0", data, 0, (3,), (1,))}, {"0": data}
    )
    np.testing.assert_array_equal(read_state_dict(tmp_path / "ok.pth")["n"], data)  # the layout is right
    # 2 GiB of int64 declared, in the pickle and in the storage's own header, over 24 bytes
    state = {"n": _Tensor(torch.LongStorage, "0", 2**28, 0, (3,), (1,))}
    _write_legacy(tmp_path / "short.pth", state, {"0": data}, counts={"0": 2**28})
    _refused(tmp_path / "short.pth", r"short\.pth.*storage")


def test_a_zip_storage_must_be_exactly_its_members_bytes(fake_torch, tmp_path):
    torch, _ = fake_torch
    data = np.arange(4, dtype=np.float32)
    state = {"w": _Tensor(torch.FloatStorage, "0", 2, 0, (2,), (1,))}  # 8 bytes declared, 16 stored
    _write_zip(tmp_path / "long.pth", state, {"0": data})
    _refused(
        tmp_path / "long.pth", r"long\.pth is not a readable .*storage '0' holds 16 bytes, its header says 8"
    )


def test_a_pickle_asking_for_a_huge_memo_is_refused_before_it_is_run(tmp_path):
    # 9 bytes that make the C unpickler allocate 2**26 memo slots (512 MiB) for one object
    with zipfile.ZipFile(tmp_path / "memo.pth", "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02Nr" + struct.pack("<I", 2**25) + b".")
    _refused(tmp_path / "memo.pth", r"memo\.pth is not a readable .*its pickle stores object 33554432 of 2")
