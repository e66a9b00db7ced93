"""Hostile model folders (issue 22): what a stranger's folder must not make ``spe predict`` do."""

import json
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
import skops.io
from PIL import Image
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import spe
from spe import ImageFeatures, ImageLoader, LikesRegressor
from spe._tree import every_part
from spe.evaluation import precompute_pictures
from spe.exceptions import ModelLoadError
from spe.model_selection._pictures import _PictureCache, _Table
from spe.persistence import load_model, save_model
from spe.persistence._checks import UnsafeModelError, check_parts
from spe.persistence._skops_io import _copy_tree, _is_pandas, _pandas_placeholder
from spe.persistence.old._format1 import save_format1


def _dump_raw(model, folder, data=None):
    """Write ``model`` as a format-2 folder the way a sender could: skops, no spe checks or conversions."""
    root = _copy_tree(model, lambda v: _pandas_placeholder(v) if _is_pandas(v) else v, {})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.skops").write_bytes(skops.io.dumps(root))
    meta = {"format_version": 2, "data": data or {"n_posts": 40, "post_index_range": [1, 40]}}
    (folder / "spe.json").write_text(json.dumps(meta))
    return folder


def _cli(args, cwd, timeout=300):
    code = "import sys; from spe.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _cached_transformer(memory):
    """What picks only ``post_index`` (fixed by spe.json) and caches the rest with joblib."""
    inner = Pipeline([("scale", StandardScaler()), ("again", StandardScaler())], memory=memory)
    return Pipeline([("index", ColumnTransformer([("i", "passthrough", ["post_index"])])), ("inner", inner)])


def _chain_model(posts, memory):
    X, y = posts.drop(columns="likes"), posts["likes"]
    cache = _PictureCache(
        transformer=_cached_transformer(memory), table=_Table(list(X["image"]), np.zeros((40, 1)))
    )
    return Pipeline([("pictures", cache), ("ridge", Ridge())]).fit(X, y)


def test_a_joblib_cache_shipped_in_a_model_folder_never_runs(posts, tmp_path, monkeypatch):
    """Item 1, end to end: the chain ran ``os.system`` on ``spe predict`` before."""
    parent = tmp_path / "sender"
    parent.mkdir()
    model = _chain_model(posts, memory="model/cache")  # relative: the victim's working folder
    model.spe_metadata_ = {"data": {"post_index_range": [1, 40]}}
    _dump_raw(model, parent / "model")  # before the fill below fits the model's picture transformer
    # The sender fills the joblib cache for the victim's call (it depends on post_index only) ...
    monkeypatch.chdir(parent)
    senders_picture = tmp_path / "any.png"
    Image.new("RGB", (16, 16), (0, 90, 30)).save(senders_picture)
    with pytest.raises(ValueError):  # the cache is filled when fitting; predicting then fails
        spe.predict_next(model, [senders_picture])
    outputs = list((parent / "model" / "cache").rglob("output.pkl"))
    assert outputs
    marker = tmp_path / "code-ran"
    for output in outputs:  # ... and swaps its results for code
        output.write_bytes(pickle.dumps(_Payload(marker)))
    victim_picture = tmp_path / "mine.png"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(victim_picture)

    run = _cli(["predict", "model", str(victim_picture)], cwd=parent)

    assert not marker.exists()
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1 and "model" in run.stderr, run.stderr


def _object_array(part):
    array = np.empty(2, dtype=object)  # filled after: numpy would unpack a Pipeline given in a list
    array[1] = part
    return array


@pytest.mark.parametrize(
    "hide",
    [
        pytest.param(lambda model, part: setattr(model, "extra_", _object_array(part)), id="object-array"),
        pytest.param(lambda model, part: setattr(model, "extra_", {part: 1}), id="dict-key"),
        pytest.param(lambda model, part: setattr(model, "extra_", [(0, {"x": part})]), id="nested"),
    ],
)
@pytest.mark.parametrize(
    "part, says",
    [
        (ImageLoader(size=(8, 8), cache_dir="/tmp/elsewhere"), "cache folder '/tmp/elsewhere'"),
        (make_pipeline(StandardScaler(), memory="/tmp/elsewhere"), "caching to '/tmp/elsewhere'"),
        (CountVectorizer(input="filename"), "opens the files its input names"),
        (ImageFeatures(size=(15000, 15000)), "unusable picture size"),
    ],
)
def test_a_harmful_part_is_found_wherever_it_hides(hide, part, says):
    """Item 3 (and 5): the walk enters object arrays, dict keys and nested containers."""
    model = make_pipeline(StandardScaler())
    hide(model, part)
    with pytest.raises(UnsafeModelError, match=says):
        check_parts(model)


def test_load_refuses_a_cache_folder_hidden_in_an_object_array(posts, tmp_path):
    """Item 3: predicting would have written the candidates' pixels to the sender's folder."""
    X, y = posts.drop(columns="likes"), posts["likes"]
    model = LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(8, 8)), Ridge())).fit(X, y)
    model.extra_ = _object_array(ImageLoader(size=(8, 8), cache_dir=str(tmp_path / "written")))
    folder = _dump_raw(model, tmp_path / "model")
    with pytest.raises(ModelLoadError, match="refused to load: it holds an ImageLoader with a cache folder"):
        load_model(folder)
    assert not (tmp_path / "written").exists()


def test_load_refuses_a_pipeline_memory_anywhere(posts, tmp_path):
    """Item 3: ``Pipeline(memory=dir)`` writes (and reads) joblib pickles there."""
    X, y = posts.drop(columns="likes"), posts["likes"]
    model = Pipeline([("index", _cached_transformer(None)), ("ridge", Ridge())]).fit(X, y)
    model.steps[0][1].steps[1][1].memory = str(tmp_path / "jar")  # set after fitting: fitting would write
    folder = _dump_raw(model, tmp_path / "model")
    with pytest.raises(ModelLoadError, match="caching to .*jar"):
        load_model(folder)
    assert not (tmp_path / "jar").exists()


def _format1_folder(posts, tmp_path, **loader):
    """A format-1 folder of a tiny CNN whose ``spe.json`` says ``loader`` settings of a sender's choosing."""
    pipe = make_pipeline(
        ImageLoader(size=(8, 8)),
        spe.CNNLikesRegressor(epochs=1, batch_size=8, conv_filters=(2,), dense_units=4, random_state=0),
    ).fit(posts, posts["likes"])
    folder = save_format1(pipe, tmp_path / "old")
    meta = json.loads((folder / "spe.json").read_text())
    meta["loader"].update(loader)
    (folder / "spe.json").write_text(json.dumps(meta))
    return folder


def test_format1_with_a_cache_folder_is_refused(posts, tmp_path):
    """Item 3: a format-1 ``spe.json`` naming ``loader.cache_dir``."""
    folder = _format1_folder(posts, tmp_path, cache_dir=str(tmp_path / "written"))
    with pytest.raises(ModelLoadError, match="loader.cache_dir"):
        load_model(folder)
    assert not (tmp_path / "written").exists()


@pytest.mark.parametrize("weights", ["imagenet", "/etc/passwd"])
def test_a_backbone_that_would_be_fitted_when_predicting_is_refused(posts, tmp_path, weights):
    """Item 4: a picture cache around an unfitted backbone downloaded, or opened any path, on predict."""
    X, y = posts.drop(columns="likes"), posts["likes"]
    backbone = spe.PretrainedEmbedder(weights=weights, size=(32, 32))
    cache = _PictureCache(transformer=backbone, table=_Table(list(X["image"]), np.zeros((40, 1))))
    folder = _dump_raw(Pipeline([("pictures", cache), ("ridge", Ridge())]).fit(X, y), tmp_path / "model")
    with pytest.raises(ModelLoadError, match="would fit a PretrainedEmbedder when predicting"):
        load_model(folder)


def test_a_picture_cache_around_something_else_is_refused(posts, tmp_path):
    X, y = posts.drop(columns="likes"), posts["likes"]
    cache = _PictureCache(transformer=StandardScaler(), table=_Table(list(X["image"]), np.zeros((40, 1))))
    folder = _dump_raw(Pipeline([("pictures", cache), ("ridge", Ridge())]).fit(X, y), tmp_path / "model")
    with pytest.raises(ModelLoadError, match="would fit a StandardScaler"):
        load_model(folder)


def test_a_replaced_training_picture_gets_its_own_prediction(posts, tmp_path):
    """Item 7: the saved model holds no table of training pictures by path, and no training path at all."""
    X, y = posts.drop(columns="likes"), posts["likes"]
    # as AutoLikesRegressor fits its choice: the training pictures' features computed once
    model = precompute_pictures(
        LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(16, 16)), Ridge())), X
    )
    model.fit(X, y)
    folder = save_model(model, tmp_path / "model", data=posts)
    with open(folder / "model.skops", "rb") as file:
        assert str(posts["image"].iloc[0]).encode() not in file.read()
    loaded = load_model(folder)
    first, other = posts["image"].iloc[0], posts["image"].iloc[5]
    copy = tmp_path / "copy.png"
    copy.write_bytes(open(other, "rb").read())
    before = spe.predict_next(loaded, [copy], when="2030-01-01")["predicted"].iloc[0]
    with open(first, "wb") as file:  # the training picture's file now holds another picture
        file.write(open(other, "rb").read())
    after = spe.predict_next(loaded, [first], when="2030-01-01")["predicted"].iloc[0]
    assert after == pytest.approx(before, rel=1e-9)


@pytest.mark.parametrize(
    "edit, says",
    [
        (lambda m: m.update(format_version=1e999), "format_version is inf"),
        (lambda m: m.update(format_version="2"), "format_version is '2'"),
        (lambda m: m.update(format_version=True), "format_version is True"),
        (lambda m: m.update(data="abc"), "data is 'abc'"),
        (lambda m: m["data"].update(post_index_range=[1]), r"data.post_index_range is \[1\]"),
        (lambda m: m["data"].update(post_index_range=[1, None]), r"data.post_index_range is \[1, None\]"),
        (lambda m: m["data"].update(timestamp_range=["2020", "yesterday-ish"]), "data.timestamp_range"),
        (lambda m: m.update(versions=[]), "versions is"),
        (lambda m: m.clear(), "no format_version"),
    ],
)
def test_a_lying_description_is_refused_in_one_line(posts, tmp_path, edit, says):
    """Item 8: each of these raised OverflowError, AttributeError, IndexError or TypeError."""
    model = spe.EWMARegressor(alpha=0.5).fit(posts, posts["likes"])
    folder = save_model(model, tmp_path / "model", data=posts)
    meta = json.loads((folder / "spe.json").read_text())
    edit(meta)
    (folder / "spe.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=f"spe.json: corrupt model description \\({says}") as caught:
        load_model(folder)
    assert "\n" not in str(caught.value)
    run = _cli(["predict", str(folder), str(posts["image"].iloc[0])], cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 1


def _returns_within(seconds, call):
    """Run ``call`` in a thread: a regression hangs the thread, not the suite."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    return outcome


@pytest.mark.parametrize("name", ["spe.json", "model.skops"])
def test_a_fifo_in_a_model_folder_is_refused_at_once(posts, tmp_path, name):
    """Item 6: a FIFO as ``spe.json`` or ``model.skops`` blocked forever."""
    folder = save_model(spe.EWMARegressor().fit(posts, posts["likes"]), tmp_path / "model")
    (folder / name).unlink()
    os.mkfifo(folder / name)
    outcome = _returns_within(20, lambda: load_model(folder))
    assert isinstance(outcome.get("error"), ModelLoadError)
    assert "not a plain file" in str(outcome["error"])


@pytest.mark.parametrize("extra", ["notes.txt", "cache/"])
def test_a_model_folder_with_other_entries_is_refused(posts, tmp_path, extra):
    folder = save_model(spe.EWMARegressor().fit(posts, posts["likes"]), tmp_path / "model")
    if extra.endswith("/"):
        (folder / extra).mkdir()
    else:
        (folder / extra).write_text("hello")
    with pytest.raises(ModelLoadError, match=extra.rstrip("/")):
        load_model(folder)


def test_every_part_reaches_every_part_once():
    shared = StandardScaler()
    model = make_pipeline(shared)
    model.extra_ = {"a": shared, shared: [np.array([shared, 3], dtype=object)]}
    parts = list(every_part(model))
    assert sum(part is shared for part in parts) == 1
    assert any(isinstance(part, int) and part == 3 for part in parts)


def test_a_picture_size_bomb_is_refused_at_load(posts, tmp_path):
    """Item 5: ``ImageLoader(size=(15000, 15000))`` in a 28 KB model took 5.5 GB for one picture."""
    X, y = posts.drop(columns="likes"), posts["likes"]
    model = LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(16, 16)), Ridge())).fit(X, y)
    model.image_model_.steps[0][1].size = (15000, 15000)  # what a sender can write in the file
    folder = _dump_raw(model, tmp_path / "model")
    with pytest.raises(ModelLoadError, match="unusable picture size"):
        load_model(folder)


def test_a_format1_size_bomb_is_refused_at_load(posts, tmp_path):
    folder = _format1_folder(posts, tmp_path, size=[20000, 20000])
    with pytest.raises(ModelLoadError, match="unusable picture size"):
        load_model(folder)


# -- issue 35: parallel jobs in a model folder --------------------------------------


def _bagging_model(posts):
    """A LikesRegressor whose picture model asks for two processes, as a sender can save it."""
    from sklearn.ensemble import BaggingRegressor

    X, y = posts.drop(columns="likes"), posts["likes"]
    bagging = BaggingRegressor(Ridge(), n_estimators=4, n_jobs=2, random_state=0)
    return LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(8, 8)), bagging)).fit(X, y)


def test_parts_asking_for_processes_predict_in_this_process(posts, tmp_path):
    """Item 1: a trusted estimator with ``n_jobs=2`` made joblib start worker processes at predict."""
    model = _bagging_model(posts)
    folder = save_model(model, tmp_path / "model")
    with pytest.warns(UserWarning, match=r"BaggingRegressor\(n_jobs=2\) set to n_jobs=None"):
        loaded = load_model(folder)
    jobs = [vars(part)["n_jobs"] for part in every_part(loaded) if "n_jobs" in getattr(part, "__dict__", {})]
    assert jobs and all(n is None for n in jobs)
    X = posts.drop(columns="likes").iloc[-3:]
    assert loaded.predict(X) == pytest.approx(model.predict(X))  # the same predictions, in one process


def test_a_thread_bomb_in_a_format1_loader_is_set_to_spes_threads(posts, tmp_path):
    """Item 5: ``ImageLoader(n_jobs=1000)``, here in a format-1 ``spe.json``, ran 1,013 threads."""
    folder = _format1_folder(posts, tmp_path, n_jobs=1000)
    with pytest.warns(UserWarning, match=r"ImageLoader\(n_jobs=1000\)"):
        loaded = load_model(folder)
    assert loaded.steps[0][1].n_jobs is None


def _spe_script():
    """The ``spe`` console script of this Python: its folder, not the working one, heads ``sys.path``."""
    script = os.path.join(os.path.dirname(sys.executable), "spe")
    if not os.path.exists(script):
        pytest.skip("no spe console script beside this Python")
    return script


@pytest.mark.slow
def test_a_joblib_package_beside_the_model_never_runs(posts, tmp_path):
    """Item 1, end to end: ``cd bundle && spe predict model pic.png`` ran ``bundle/joblib`` in each worker."""
    bundle = tmp_path / "bundle"
    (bundle / "joblib").mkdir(parents=True)
    marker = tmp_path / "ran"
    (bundle / "joblib" / "__init__.py").write_text(
        f"import os\nopen(os.path.join({str(marker)!r} + '-' + str(os.getpid())), 'w').close()\n"
        "raise ImportError('the sender's joblib')\n"
    )
    save_model(_bagging_model(posts), bundle / "model")
    picture = posts["image"].iloc[-1]
    run = subprocess.run(
        [_spe_script(), "predict", "model", picture], cwd=bundle, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "n_jobs=None" in run.stdout  # said, in one line
    assert not list(tmp_path.glob("ran-*")), "the sender's joblib ran"
