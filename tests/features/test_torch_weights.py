"""Reading a PyTorch state dict without PyTorch, and refusing anything else without running it."""

import io
import os
import pickle
import sys
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
    def __init__(self, storage_type, key, array, offset, shape, stride):
        self.storage = (storage_type, key, array)
        self.args = (offset, shape, stride)

    def __reduce__(self):
        return sys.modules["torch._utils"]._rebuild_tensor_v2, (self.storage, *self.args, False, {})


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, tuple) and len(obj) == 3 and isinstance(obj[2], np.ndarray):
            return ("storage", obj[0], obj[1], "cpu", obj[2].size)
        return None


def _write_zip(path, state, storages):
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        for key, array in storages.items():
            archive.writestr(f"archive/data/{key}", array.astype(array.dtype.newbyteorder("<")).tobytes())


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
