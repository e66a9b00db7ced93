"""Messy real-world input: every bad case refused clearly, nothing lost or half-written.

Each bad case is tried through the library (a clear exception naming the
file, line or parameter) and through the command line (exit status 1, one
line on stderr, no output folder). Odd but valid input must simply work.
"""

import hashlib
import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.model_selection import GridSearchCV, KFold

from spe import CNNLikesRegressor, ImageLoader
from spe.cli import main
from spe.datasets import LIKES_FILE, load_folder
from spe.exceptions import ImageLoadError

from ._hang import finishes, make_fifo, needs_fifo

TRAIN = ["--size", "8", "--folds", "2", "--epochs", "1"]


def _noise(size=(12, 12), seed=0):
    rng = np.random.RandomState(seed)
    return Image.fromarray((rng.rand(size[1], size[0], 3) * 255).astype(np.uint8))


def _seed_folder(folder, n=6):
    folder.mkdir()
    for i in range(1, n + 1):
        _noise((32, 32), seed=i).save(folder / f"{i}.jpg")  # 32 px: the own model's backbone needs it
    (folder / LIKES_FILE).write_text("".join(f"{i}: {10 * i}\n" for i in range(1, n + 1)))
    return folder


def _expect_cli_error(tmp_path, capsys, data, *fragments, command="evaluate"):
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main([command, str(data), *TRAIN, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("spe: error:"), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no staging folder left
    return err


# -- images ------------------------------------------------------------------


def _truncated(path):
    _noise((64, 64)).save(path.with_suffix(".full.jpg"))
    data = path.with_suffix(".full.jpg").read_bytes()
    path.with_suffix(".full.jpg").unlink()
    path.write_bytes(data[: len(data) // 2])


BAD_IMAGES = {
    "zero-bytes": lambda p: p.write_bytes(b""),
    "truncated-jpeg": _truncated,
    "text-named-jpg": lambda p: p.write_text("I am not a picture"),
    "folder": lambda p: p.mkdir(),
    "symlink-loop": lambda p: p.symlink_to(p),
}


@pytest.mark.parametrize("kind", list(BAD_IMAGES))
def test_bad_image_library_error_names_the_file(tmp_path, kind):
    bad = tmp_path / "4.jpg"
    BAD_IMAGES[kind](bad)
    with pytest.raises(ImageLoadError, match="4.jpg"):
        ImageLoader(size=(8, 8)).transform([str(bad)])


@pytest.mark.parametrize("kind", ["zero-bytes", "truncated-jpeg", "text-named-jpg"])
def test_bad_image_cli_one_line_no_output(tmp_path, capsys, kind):
    data = _seed_folder(tmp_path / "data")
    (data / "4.jpg").unlink()
    BAD_IMAGES[kind](data / "4.jpg")
    _expect_cli_error(tmp_path, capsys, data, "4.jpg")


def test_decompression_bomb_cli(tmp_path, capsys, monkeypatch):
    data = _seed_folder(tmp_path / "data")
    _noise((200, 200)).save(data / "2.jpg")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    _expect_cli_error(tmp_path, capsys, data, "2.jpg", "limit")


@pytest.mark.parametrize("kind", ["missing", "folder", "symlink-loop"])
def test_csv_pointing_at_no_file_cli(tmp_path, capsys, kind):
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(5):
        _noise(seed=i).save(tmp_path / "img" / f"{i}.png")
        rows.append({"image": f"img/{i}.png", "likes": i + 1})
    target = tmp_path / "img" / "odd.jpg"
    if kind != "missing":
        BAD_IMAGES[kind](target)
    rows.append({"image": "img/odd.jpg", "likes": 9})
    pd.DataFrame(rows).to_csv(tmp_path / "posts.csv", index=False)
    _expect_cli_error(tmp_path, capsys, tmp_path / "posts.csv", "posts.csv, line 7", "odd.jpg")


def _valid_odd_images(folder):
    """Pictures that are odd but valid: each must load."""
    folder.mkdir()
    made = {}

    def add(name, img, **save):
        img.save(folder / name, **save)
        made[name] = folder / name

    add("tiny 1x1.png", Image.new("RGB", (1, 1), "red"))
    add("strip 10000x10.png", Image.new("RGB", (10000, 10), "blue"))
    add("deep 16-bit.png", Image.new("I;16", (20, 20), 50000))
    add("print cmyk.jpg", Image.new("CMYK", (20, 20), (0, 255, 255, 0)))
    add("screenshot rgba.png", Image.new("RGBA", (20, 20), (0, 255, 0, 128)))
    add("palette.png", _noise().convert("P"))
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "green")]
    add("animated.gif", frames[0], save_all=True, append_images=frames[1:])
    exif = Image.Exif()
    exif[0x0112] = 8
    add("phone exif.jpg", _noise((30, 20)), exif=exif)
    add("café ☕ été.webp", _noise())
    add("heic export.jpg", _noise((40, 30)))
    return made


def test_odd_but_valid_images_all_load(tmp_path):
    made = _valid_odd_images(tmp_path / "odd")
    X = ImageLoader(size=(8, 8)).transform([str(p) for p in made.values()])
    assert X.shape == (len(made), 8, 8, 3)
    assert np.isfinite(X).all() and X.min() >= 0 and X.max() <= 1


def test_odd_but_valid_images_work_from_the_command_line(tmp_path, capsys):
    made = _valid_odd_images(tmp_path / "odd")
    rows = [{"image": f"odd/{name}", "likes": 10 + i} for i, name in enumerate(made)]
    pd.DataFrame(rows).to_csv(tmp_path / "posts.csv", index=False, encoding="utf-8")
    assert main(["--quiet", "evaluate", str(tmp_path / "posts.csv"), *TRAIN]) == 0
    assert "recent average" in capsys.readouterr().out


# -- likes data ----------------------------------------------------------------

BAD_LIKES = {
    "missing line": ("1: 10\n2: 20\n3: 30\n4: 40\n5: 50\n", "no likes line for image 6.jpg"),
    "extra line": ("1: 1\n2: 2\n3: 3\n4: 4\n5: 5\n6: 6\n7: 7\n", "line 7: likes for post 7 but no image"),
    "duplicate": ("1: 1\n2: 2\n3: 3\n3: 3\n4: 4\n5: 5\n6: 6\n", "line 4: post number 3 appears again"),
    "text": ("1: 1\n2: many\n3: 3\n4: 4\n5: 5\n6: 6\n", "line 2: like count 'many' is not a number"),
    "negative": ("1: 1\n2: 2\n3: -3\n4: 4\n5: 5\n6: 6\n", "line 3: like count -3 is negative"),
    "nan": ("1: 1\n2: 2\n3: 3\n4: NaN\n5: 5\n6: 6\n", "line 4: like count is NaN"),
    "inf": ("1: 1\n2: 2\n3: 3\n4: 4\n5: inf\n6: 6\n", "line 5: like count is infinite"),
    "int64 overflow": ("1: 1\n2: 2\n3: 3\n4: 4\n5: 5\n6: 9223372036854775808\n", "line 6: like count"),
    "empty file": ("", "the likes file is empty"),
}


@pytest.mark.parametrize("kind", list(BAD_LIKES))
def test_bad_likes_cli_names_file_and_line(tmp_path, capsys, kind):
    text, message = BAD_LIKES[kind]
    data = _seed_folder(tmp_path / "data")
    (data / LIKES_FILE).write_text(text)
    _expect_cli_error(tmp_path, capsys, data, LIKES_FILE, message)


def test_missing_likes_file_cli(tmp_path, capsys):
    data = _seed_folder(tmp_path / "data")
    (data / LIKES_FILE).unlink()
    _expect_cli_error(tmp_path, capsys, data, "No likes file", LIKES_FILE)


def test_windows_line_endings_and_bom_simply_work(tmp_path, capsys):
    data = _seed_folder(tmp_path / "data")
    (data / LIKES_FILE).write_bytes(b"\xef\xbb\xbf" + b"".join(b"%d: %d\r\n" % (i, i) for i in range(1, 7)))
    assert load_folder(data)["likes"].tolist() == [1, 2, 3, 4, 5, 6]
    assert main(["--quiet", "evaluate", str(data), *TRAIN]) == 0


# -- estimator -----------------------------------------------------------------


def test_fewer_samples_than_folds(tmp_path, capsys):
    data = _seed_folder(tmp_path / "data", n=4)
    assert main(["evaluate", str(data), "--size", "8", "--folds", "5", "--epochs", "1"]) == 1
    assert "4 posts are too few for 5 folds" in capsys.readouterr().err
    X = np.zeros((4, 8, 8, 3))
    grid = GridSearchCV(CNNLikesRegressor(epochs=1), {"epochs": [1]}, cv=KFold(5))
    with pytest.raises(ValueError, match="n_splits=5"):
        grid.fit(X, np.arange(4.0))


@pytest.mark.parametrize(
    ("flag", "value", "name"), [("--epochs", "-1", "epochs"), ("--learning-rate", "0", "learning_rate")]
)
def test_cli_parameters_out_of_range(tmp_path, capsys, flag, value, name):
    data = _seed_folder(tmp_path / "data", n=30)
    args = ["fit", str(data), "--size", "8", flag, value, "--out", str(tmp_path / "m")]
    assert main([*args, "--model", "CNN on pixels"]) == 1
    assert name in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    assert main(args) == 1  # the default model trains no network
    assert "add --model 'CNN on pixels'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_dropout_of_one_is_refused():
    with pytest.raises(ValueError, match="dropout == 1.0, must be < 1"):
        CNNLikesRegressor(dropout=1.0).fit(np.zeros((4, 8, 8, 3)), np.arange(4.0))


def test_unknown_color_mode_is_named(tmp_path):
    with pytest.raises(ValueError, match="color_mode"):
        ImageLoader(color_mode="sepia").transform([str(tmp_path / "x.jpg")])


# -- nothing lost ----------------------------------------------------------------


def _digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_no_input_file_is_ever_modified(tmp_path, capsys):
    data = _seed_folder(tmp_path / "data", n=20)
    before = _digest(data)
    model = tmp_path / "model"
    assert main(["--quiet", "evaluate", str(data), *TRAIN, "--out", str(tmp_path / "ev")]) == 0
    assert (
        main(
            [
                "--quiet",
                "tune",
                str(data),
                "--size",
                "8",
                "--folds",
                "2",
                "--epochs",
                "1",
                "--learning-rate",
                "1e-3",
                "--out",
                str(tmp_path / "tu"),
            ]
        )
        == 0
    )
    assert main(["fit", str(data), "--size", "8", "--out", str(model)]) == 0
    assert main(["predict", str(model), str(data / "1.jpg")]) == 0
    assert _digest(data) == before


def test_predict_never_unpickles(tmp_path, capsys, monkeypatch):
    data = _seed_folder(tmp_path / "data", n=30)
    model = tmp_path / "model"
    assert main(["fit", str(data), "--size", "8", "--out", str(model)]) == 0

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    assert main(["predict", str(model), str(data / "2.jpg")]) == 0


# -- reproducible ------------------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from spe import CNNLikesRegressor
    rng = np.random.RandomState(0)
    X = rng.rand(24, 8, 8, 3).astype("float32")
    y = 100 + 50 * X.mean(axis=(1, 2, 3))
    reg = CNNLikesRegressor(epochs=3, batch_size=8, conv_filters=(4,), dense_units=8, random_state=7)
    pred = reg.fit(X, y)
    print(repr(pred.predict(X[:5]).tolist()))
    """
)


@pytest.mark.slow
def test_same_seed_same_predictions_in_two_processes():
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout == runs[1].stdout
    namespace = {}
    exec(
        SCRIPT.replace("print(repr(pred.predict(X[:5]).tolist()))", "out = pred.predict(X[:5]).tolist()"),
        namespace,
    )
    assert repr(namespace["out"]) == runs[0].stdout.strip()  # and the same here, in this process


@pytest.fixture(scope="module")
def fitted_pipeline(fitted_cnn):
    return fitted_cnn


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)), min_size=1, max_size=6),
    modes=st.lists(st.sampled_from(["RGB", "L", "RGBA", "P", "CMYK"]), min_size=6, max_size=6),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_property_predictions_finite_and_batch_order_free(
    fitted_pipeline, tmp_path_factory, sizes, modes, seed, data
):
    folder = tmp_path_factory.mktemp("batch")
    paths = []
    for i, (w, h) in enumerate(sizes):
        img = _noise((w, h), seed + i).convert(modes[i])
        path = folder / (f"{i}.jpg" if modes[i] == "CMYK" else f"{i}.png")
        img.save(path)
        paths.append(str(path))
    pred = fitted_pipeline.predict(paths)
    assert pred.shape == (len(paths),) and np.isfinite(pred).all()
    order = data.draw(st.permutations(range(len(paths))))
    shuffled = fitted_pipeline.predict([paths[i] for i in order])
    np.testing.assert_allclose(shuffled, pred[order], rtol=1e-5, atol=1e-3)


# -- instaloader folders and model folders, from the command line --------------


def test_instaloader_problems_cli(tmp_path, capsys):
    pytest.importorskip("instaloader")
    from .conftest import write_instaloader_post

    data = tmp_path / "profile"
    data.mkdir()
    for day in range(1, 5):
        write_instaloader_post(
            data, f"2024-01-0{day}_10-00-00_UTC", 10 * day, timestamp=1_704_103_200 + day * 86400
        )
    write_instaloader_post(data, "2024-01-05_10-00-00_UTC", 5, images=(), timestamp=1_704_103_200 + 5 * 86400)
    _expect_cli_error(tmp_path, capsys, data, "2024-01-05_10-00-00_UTC.json.xz", "no image")
    (data / "2024-01-05_10-00-00_UTC.json.xz").write_bytes(b"\xfd7zXZ\x00 broken")
    _expect_cli_error(tmp_path, capsys, data, "2024-01-05_10-00-00_UTC.json.xz", "corrupt")

    videos = tmp_path / "videos"
    videos.mkdir()
    write_instaloader_post(videos, "2024-02-01_10-00-00_UTC", 7, video=True, typename="GraphVideo", images=())
    write_instaloader_post(videos, "2024-02-02_10-00-00_UTC", -1)
    with pytest.warns(UserWarning) as record:  # what was dropped, before the error
        _expect_cli_error(tmp_path, capsys, videos, "no usable posts")
    messages = " ".join(str(w.message) for w in record)
    assert "skipped 1 video post(s)" in messages and "like count is hidden" in messages


def test_corrupt_model_folder_cli(tmp_path, capsys):
    data = _seed_folder(tmp_path / "data", n=30)
    model = tmp_path / "model"
    args = ["fit", str(data), "--size", "8", "--epochs", "1", "--model", "cnn-on-pixels"]
    assert main([*args, "--out", str(model)]) == 0
    (model / "network-0.keras").write_bytes(b"garbage")
    capsys.readouterr()
    assert main(["predict", str(model), str(data / "1.jpg")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network-0.keras" in err


# -- named pipes, hostile formats and sizes from the command line -----------------


def _spe(*args, timeout=300):
    """``spe ARGS`` in a subprocess with a deadline: a blocked read fails the test instead of hanging it."""
    return subprocess.run(
        [sys.executable, "-m", "spe.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


@needs_fifo
def test_predict_refuses_named_pipe_and_eps_candidates_in_one_line(tmp_path):
    data = _seed_folder(tmp_path / "data", n=30)
    model = tmp_path / "model"
    fit = ["--quiet", "fit", str(data), "--size", "8", "--model", "trend-x-picture", "--out", str(model)]
    assert main(fit) == 0
    fifo = make_fifo(tmp_path / "x.jpg")
    (tmp_path / "poster.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n%%EOF\n")
    for bad, message in [
        (fifo, "a named pipe (FIFO), not a regular file"),
        (tmp_path / "poster.jpg", "JPEG, PNG"),
    ]:
        done = _spe("predict", model, data / "1.jpg", bad, "--out", tmp_path / "out", timeout=120)
        assert done.returncode == 1, done.stderr
        one_line = done.stderr.count("\n") == 1
        assert one_line and str(bad) in done.stderr and message in done.stderr, done.stderr
        assert not (tmp_path / "out").exists()


@needs_fifo
def test_named_pipe_as_the_data_file_cli(tmp_path):
    fifo = make_fifo(tmp_path / "posts.csv")
    done = _spe("evaluate", fifo, *TRAIN, timeout=120)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"{fifo}: cannot read (a named pipe (FIFO), not a regular file)" in done.stderr


def test_picture_size_beyond_the_maximum_cli(tmp_path, capsys):
    data = _seed_folder(tmp_path / "data")
    assert main(["evaluate", str(data), *TRAIN, "--size", "15000", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("spe: error:"), err
    assert "from 1 to 2048, got (15000, 15000)" in err
    assert not (tmp_path / "out").exists()


def test_format_1_model_with_a_huge_loader_size_is_refused_before_decoding(tmp_path):
    from sklearn.pipeline import Pipeline

    from spe.persistence import META_FILE, load_model
    from spe.persistence.old._format1 import save_format1

    data = _seed_folder(tmp_path / "data")
    posts = load_folder(data)
    pipe = Pipeline(
        [
            ("load", ImageLoader(size=(8, 8))),
            (
                "cnn",
                CNNLikesRegressor(epochs=1, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0),
            ),
        ]
    ).fit(posts, posts["likes"])
    folder = save_format1(pipe, tmp_path / "model")
    meta = json.loads((folder / META_FILE).read_text())
    (folder / META_FILE).write_text(
        json.dumps({**meta, "loader": {**meta["loader"], "size": [20000, 20000]}})
    )
    with pytest.raises(ValueError, match=r"(unusable picture size|'size' must be .* from 1 to 2048)"):
        # 6.6 GB and most of a minute before the bound; refused at once now.
        finishes(lambda: load_model(folder).predict([str(data / "1.jpg")]), seconds=60)


# -- issue 28.6: pictures from a phone -------------------------------------------------------------


def _heic(path):
    from pillow_heif import from_pillow

    from_pillow(Image.new("RGB", (24, 16), (30, 160, 60))).save(path, quality=90)  # a real HEIC file
    return path


def test_heic_without_its_decoder_names_the_format_and_how_to_convert(tmp_path, monkeypatch):
    import spe._files

    path = _heic(tmp_path / "IMG_0001.heic")
    # An installation without pillow-heif: Pillow then knows only the base formats.
    monkeypatch.setattr(spe._files, "picture_formats", lambda: ("JPEG", "PNG", "WEBP", "GIF"))
    with pytest.raises(
        ImageLoadError, match=r"IMG_0001\.heic: a HEIC picture.*pip install pillow-heif.*JPEG"
    ):
        ImageLoader(size=(8, 8)).check([str(path)])


def test_heic_and_avif_in_a_seed_folder(tmp_path):
    from PIL import features

    folder = tmp_path / "phone"
    folder.mkdir()
    _heic(folder / "1.heic")
    Image.new("RGB", (24, 16), "red").save(folder / "2.png")
    if features.check("avif"):
        Image.new("RGB", (24, 16), "blue").save(folder / "3.avif")
    n = len(list(folder.iterdir()))
    (folder / LIKES_FILE).write_text("".join(f"{i}: {10 * i}\n" for i in range(1, n + 1)))
    posts = load_folder(folder)
    assert [p.rsplit("/", 1)[-1] for p in posts["image"]] == ["1.heic", "2.png", "3.avif"][:n]
    pixels = ImageLoader(size=(8, 8), dtype="uint8").fit_transform(posts)
    assert pixels.shape == (n, 8, 8, 3) and pixels[0, ..., 1].mean() > 120  # the HEIC's green
