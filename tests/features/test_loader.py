import os
import socket
import struct
import subprocess
import sys
import tempfile
import tracemalloc
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import KFold, TimeSeriesSplit
from sklearn.utils import estimator_checks

import spe.features._loader
from spe import ImageLoader
from spe._files import picture_formats
from spe.exceptions import ImageLoadError
from spe.features._loader import MAX_SIZE

from .._hang import finishes, make_fifo, needs_fifo
from ..conftest import API_CHECKS

# ImageLoader takes paths, not 2-D arrays, so parametrize_with_checks skips
# every check for it (scikit-learn only runs them on 2-D numeric input).
# These are the API checks that apply to a path transformer; the data checks
# (fit on random floats, sparse input, NaN handling, ...) cannot.


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    getattr(estimator_checks, check)("ImageLoader", ImageLoader())


def _save(path, mode="RGB", size=(30, 20), color="red", **kw):
    Image.new(mode, size, color).save(path, **kw)
    return str(path)


def test_output_shape_dtype_and_range(tmp_path):
    paths = [_save(tmp_path / f"{i}.png", color=(i * 40, 0, 0)) for i in range(4)]
    X = ImageLoader(size=(8, 6)).fit_transform(paths)
    assert X.shape == (4, 8, 6, 3)
    assert X.dtype == np.float32
    assert X.min() >= 0.0 and X.max() <= 1.0
    np.testing.assert_allclose(X[3, :, :, 0], 120 / 255, atol=1e-6)


@pytest.mark.parametrize(
    "wrap",
    [
        list,
        np.array,
        pd.Series,
        lambda p: pd.DataFrame({"image": p, "likes": 1}),
        lambda p: pd.DataFrame({"x": p}),
    ],
)
def test_accepts_path_containers(tmp_path, wrap):
    paths = [_save(tmp_path / "a.png"), _save(tmp_path / "b.png")]
    assert ImageLoader(size=(4, 4)).transform(wrap(paths)).shape == (2, 4, 4, 3)


def test_grayscale_and_stateless(tmp_path):
    path = _save(tmp_path / "a.png")
    loader = ImageLoader(size=(4, 4), color_mode="grayscale")
    # No fit needed: the transformer is stateless.
    X = loader.transform([path])
    assert X.shape == (1, 4, 4, 1)
    assert loader.fit([path]) is loader


def test_center_crop_keeps_middle(tmp_path):
    img = Image.new("RGB", (30, 10), "blue")
    img.paste((255, 0, 0), (10, 0, 20, 10))  # red middle third
    img.save(tmp_path / "wide.png")
    centre = ImageLoader(size=(4, 4)).transform([str(tmp_path / "wide.png")])
    squash = ImageLoader(size=(4, 4), crop="none").transform([str(tmp_path / "wide.png")])
    assert np.all(centre[0, :, :, 0] > 0.8)  # all red, up to edge blending
    assert centre[0, :, :, 2].mean() < 0.1
    assert squash[0, :, 0, 2].mean() > 0.9  # the blue left edge survives


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("RGB", (40, 20), "white")
    img.paste((255, 0, 0), (0, 0, 20, 20))  # red left half
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    X = ImageLoader(size=(20, 10), crop="none").transform([str(tmp_path / "rot.jpg")])
    # Displayed upright the picture is 20 wide, 40 tall, red on top.
    assert X[0, :5, :, 1].mean() < 0.2
    assert X[0, -5:, :, 1].mean() > 0.8


@pytest.mark.parametrize(
    ("mode", "fmt", "color"),
    [
        ("L", "PNG", 128),
        ("LA", "PNG", (128, 255)),
        ("P", "PNG", 3),
        ("RGBA", "PNG", (255, 0, 0, 255)),
        ("CMYK", "JPEG", (0, 255, 255, 0)),
        ("I;16", "PNG", 40000),
        ("RGB", "WEBP", (0, 0, 255)),
        ("RGB", "GIF", (0, 255, 0)),
    ],
)
def test_modes_and_formats(tmp_path, mode, fmt, color):
    path = tmp_path / f"img.{fmt.lower()}"
    Image.new(mode, (12, 12), color).save(path, format=fmt)
    X = ImageLoader(size=(6, 6)).transform([str(path)])
    assert X.shape == (1, 6, 6, 3)
    assert np.isfinite(X).all() and X.min() >= 0 and X.max() <= 1


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    Image.new("I;16", (8, 8), 32768).save(tmp_path / "deep.png")
    X = ImageLoader(size=(4, 4), color_mode="grayscale").transform([str(tmp_path / "deep.png")])
    np.testing.assert_allclose(X, 128 / 255, atol=1 / 255)


def test_transparent_pixels_become_white(tmp_path):
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    X = ImageLoader(size=(4, 4)).transform([str(tmp_path / "clear.png")])
    np.testing.assert_allclose(X, 1.0)


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    X = ImageLoader(size=(4, 4)).transform([str(tmp_path / "anim.gif")])
    assert X[0, :, :, 0].mean() > 0.9 and X[0, :, :, 2].mean() < 0.1


def test_jpeg_draft_matches_full_decode(tmp_path):
    rng = np.random.RandomState(0)
    big = Image.fromarray((rng.rand(27, 36, 3) * 255).astype(np.uint8)).resize((1080, 1350))
    big.save(tmp_path / "phone.jpg", quality=90)
    fast = ImageLoader(size=(64, 64)).transform([str(tmp_path / "phone.jpg")])[0]
    with Image.open(tmp_path / "phone.jpg") as img:
        full = np.asarray(img.convert("RGB").resize((64, 64), box=(0, 135, 1080, 1215))) / 255
    assert np.abs(fast - full).mean() < 0.03


def test_parallel_equals_serial(posts):
    serial = ImageLoader(size=(16, 16)).transform(posts["image"])
    parallel = ImageLoader(size=(16, 16), n_jobs=2).transform(posts["image"])
    np.testing.assert_array_equal(serial, parallel)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "not found"),
        (lambda p: p.write_bytes(b""), "Cannot read image"),
        (lambda p: p.write_text("hello, not a picture"), "Cannot read image"),
        (lambda p: p.mkdir(), "folder"),
    ],
    ids=["missing", "zero-bytes", "text", "folder"],
)
def test_bad_files_name_the_file(tmp_path, make, message):
    bad = tmp_path / "bad file é.jpg"
    make(bad)
    good = _save(tmp_path / "good.png")
    with pytest.raises(ImageLoadError, match=message) as err:
        ImageLoader(size=(4, 4)).transform([good, str(bad)])
    assert str(bad) in str(err.value)


def test_truncated_jpeg(tmp_path):
    rng = np.random.RandomState(0)
    Image.fromarray((rng.rand(64, 64, 3) * 255).astype(np.uint8)).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "half.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="half.jpg"):
        ImageLoader(size=(8, 8)).transform([str(tmp_path / "half.jpg")])


def test_decompression_bomb(tmp_path, monkeypatch):
    _save(tmp_path / "big.png", size=(100, 100))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    with (
        warnings.catch_warnings(),
        pytest.raises(ImageLoadError, match=r"big\.png.*limit") as err,
    ):
        warnings.simplefilter("error")  # Pillow's warning is a refusal, not a warning and a refusal
        ImageLoader(size=(8, 8)).transform([str(tmp_path / "big.png")])
    assert "\n" not in str(err.value)


def _png_header(path, width, height):
    """A PNG that claims ``width`` x ``height`` pixels in a few bytes: a decompression bomb's header."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(1 + 3 * width)) * 2  # a couple of rows of zeros, then nothing
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat))
    return str(path)


@pytest.mark.parametrize(
    ("side", "max_pixels"),
    # Between Pillow's limit and twice it Pillow only warns; above, it refuses;
    # with the limit switched off spe still refuses, at Pillow's default.
    [(10_000, "default"), (20_000, "default"), (20_000, None)],
)
def test_decompression_bomb_file_is_refused_in_one_line(tmp_path, monkeypatch, side, max_pixels):
    if max_pixels is None:
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    bomb = _png_header(tmp_path / "bomb é.png", side, side)
    filters, limit = list(warnings.filters), Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageLoadError, match="pixels") as err:
            finishes(lambda: ImageLoader(size=(8, 8), n_jobs=2).transform([bomb, bomb, bomb]), seconds=5)
    assert str(err.value).startswith(f"Refusing to decode image {bomb}: ") and "\n" not in str(err.value)
    # Pillow's settings and the warnings filters are the user's, as they were.
    assert list(warnings.filters) == filters and Image.MAX_IMAGE_PIXELS == limit


@pytest.mark.parametrize("size", [(2049, 64), (64, 2049), (15_000, 15_000), [20_000, 20_000]])
def test_sizes_beyond_the_maximum_are_refused_before_decoding(tmp_path, size):
    path = _save(tmp_path / "a.png", size=(32, 32))
    loader = ImageLoader(size=size)
    for call in (loader.transform, loader.load_uint8, loader.check, loader.fit):
        with pytest.raises(
            ValueError, match=r"ImageLoader parameter 'size' must be .* from 1 to 2048"
        ) as err:
            finishes(lambda call=call: call([path]), seconds=5)
        assert "\n" not in str(err.value)
    cached = ImageLoader(size=size, cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match="'size'"):
        cached.transform([path])
    assert not (tmp_path / "cache").exists()


def test_the_maximum_size_itself_is_allowed(tmp_path):
    path = _save(tmp_path / "a.png", size=(4, 4))
    assert ImageLoader(size=(MAX_SIZE, 1), dtype="uint8").transform([path]).shape == (1, MAX_SIZE, 1, 3)


# -- anything but a regular file is refused at once, never read ----------------------


@needs_fifo
@pytest.mark.parametrize("method", ["transform", "check", "load_uint8"])
def test_named_pipe_is_refused_at_once(tmp_path, method):
    good = _save(tmp_path / "good.png")
    fifo = str(make_fifo(tmp_path / "x.jpg"))
    loader = ImageLoader(size=(4, 4), n_jobs=2)
    with pytest.raises(ImageLoadError, match="named pipe") as err:
        finishes(lambda: getattr(loader, method)([good, fifo]), fifos=[fifo])
    assert str(err.value) == f"Cannot read image {fifo}: a named pipe (FIFO), not a regular file"


@needs_fifo
def test_named_pipe_is_refused_with_cache_dir(tmp_path):
    fifo = str(make_fifo(tmp_path / "x.jpg"))
    loader = ImageLoader(size=(4, 4), cache_dir=tmp_path / "cache")
    with pytest.raises(ImageLoadError, match=r"x\.jpg: a named pipe"):
        finishes(lambda: loader.transform([fifo]), fifos=[fifo])


def test_devices_and_sockets_are_refused(tmp_path):
    kinds = {}
    if os.path.exists("/dev/zero"):
        kinds["/dev/zero"] = "a character device"  # read as a file, it never ends
    if hasattr(socket, "AF_UNIX"):
        short = tempfile.mkdtemp()  # socket paths are limited to about 100 bytes
        server = socket.socket(socket.AF_UNIX)
        server.bind(os.path.join(short, "s.jpg"))
        kinds[os.path.join(short, "s.jpg")] = "a socket"
    if not kinds:
        pytest.skip("no device or socket to try")
    for path, kind in kinds.items():
        with pytest.raises(ImageLoadError, match=f"{kind}, not a regular file"):
            finishes(lambda path=path: ImageLoader(size=(4, 4)).transform([path]), seconds=5)


# -- formats: only those spe documents ------------------------------------------------

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n0 0 moveto 16 16 lineto stroke\n%%EOF\n"


def test_eps_named_jpg_is_refused_without_running_ghostscript(tmp_path):
    # A real EPS file named .jpg, and a "gs" first on PATH that leaves a mark
    # when run: Pillow, trying every format, would hand the file to it.
    (tmp_path / "bin").mkdir()
    gs = tmp_path / "bin" / "gs"
    gs.write_text(f"#!/bin/sh\ntouch {tmp_path / 'ghostscript-ran'}\nexit 1\n")
    gs.chmod(0o755)
    (tmp_path / "photo.jpg").write_bytes(EPS)
    code = (
        "from spe import ImageLoader\n"
        f"ImageLoader(size=(8, 8)).transform([{str(tmp_path / 'photo.jpg')!r}])\n"
    )
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"spe.exceptions.ImageLoadError: Cannot read image {tmp_path / 'photo.jpg'}: "
        f"not a picture in a format spe reads ({', '.join(picture_formats())})"
    )
    assert not (tmp_path / "ghostscript-ran").exists()


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "PPM", "ICO"])
def test_formats_spe_does_not_document_are_refused(tmp_path, fmt):
    path = _save(tmp_path / "a.jpg", size=(16, 16), format=fmt)
    with pytest.raises(ImageLoadError, match=r"a\.jpg: not a picture in a format spe reads \(JPEG, PNG"):
        ImageLoader(size=(4, 4)).transform([path])


def test_phone_mpo_jpeg_is_read(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "phone.jpg", format="MPO", save_all=True, append_images=frames[1:])
    with Image.open(tmp_path / "phone.jpg") as img:
        assert img.format == "MPO"
    X = ImageLoader(size=(4, 4)).transform([str(tmp_path / "phone.jpg")])
    assert X[0, :, :, 0].mean() > 0.9 and X[0, :, :, 2].mean() < 0.1


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"size": (0, 4)}, "size"),
        ({"size": 64}, "size"),
        ({"size": (2049, 4)}, "size"),
        ({"color_mode": "cmyk"}, "color_mode"),
        ({"crop": "top"}, "crop"),
        ({"dtype": "float64"}, "dtype"),
        ({"cache_dir": 3}, "cache_dir"),
    ],
)
def test_bad_parameters_are_named(tmp_path, params, name):
    with pytest.raises(ValueError, match=name):
        ImageLoader(**params).fit_transform([_save(tmp_path / "a.png")])


@pytest.mark.parametrize("X", [[[1.0, 2.0]], "one.jpg", np.zeros((2, 2, 2))])
def test_numeric_or_single_path_input_is_refused(X):
    with pytest.raises(ValueError, match="X must"):
        ImageLoader().transform(X)


def test_clone_keeps_parameters():
    loader = ImageLoader(size=(8, 8), color_mode="grayscale")
    assert clone(loader).get_params() == loader.get_params()


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 60),
    height=st.integers(1, 60),
    mode=st.sampled_from(["L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"]),
    out=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    color_mode=st.sampled_from(["rgb", "grayscale"]),
    crop=st.sampled_from(["center", "none"]),
    seed=st.integers(0, 2**16),
)
def test_property_shape_dtype_range(tmp_path_factory, width, height, mode, out, color_mode, crop, seed):
    rng = np.random.RandomState(seed)
    base = Image.fromarray((rng.rand(height, width, 3) * 255).astype(np.uint8))
    img = base.convert(mode) if mode != "I;16" else base.convert("L").convert("I;16")
    path = tmp_path_factory.mktemp("prop") / ("img.jpg" if mode == "CMYK" else "img.png")
    img.save(path)
    X = ImageLoader(size=out, color_mode=color_mode, crop=crop).transform([str(path)])
    assert X.shape == (1, *out, 3 if color_mode == "rgb" else 1)
    assert X.dtype == np.float32
    assert np.isfinite(X).all() and X.min() >= 0.0 and X.max() <= 1.0


def test_uint8_output_is_the_float_output_times_255(posts):
    as_float = ImageLoader(size=(16, 16)).transform(posts["image"])
    as_uint8 = ImageLoader(size=(16, 16), dtype="uint8").transform(posts["image"])
    assert as_uint8.dtype == np.uint8
    np.testing.assert_array_equal(as_uint8.astype(np.float32) / np.float32(255), as_float)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_cache_dir_gives_a_read_only_memory_map_equal_to_memory(posts, tmp_path, monkeypatch, dtype):
    monkeypatch.setattr(spe.features._loader, "_CHUNK", 7)  # 40 pictures: 5 full chunks and a partial one
    in_memory = ImageLoader(size=(16, 16), dtype=dtype).transform(posts["image"])
    cached = ImageLoader(size=(16, 16), dtype=dtype, cache_dir=tmp_path / "cache").transform(posts["image"])
    assert isinstance(cached, np.memmap) and not cached.flags.writeable
    assert cached.dtype == in_memory.dtype
    np.testing.assert_array_equal(cached, in_memory)
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()) == ["images", "index"]


def test_cache_is_reused_until_a_file_or_setting_changes(tmp_path, count_decodes):
    paths = [_save(tmp_path / f"{i}.png", color=c) for i, c in enumerate(["red", "blue"])]
    loader = ImageLoader(size=(4, 4), dtype="uint8", cache_dir=tmp_path / "cache")
    first = loader.transform(paths)
    np.testing.assert_array_equal(loader.transform(paths), first)
    assert count_decodes == [2]  # the second transform read the file

    ImageLoader(size=(4, 4), cache_dir=tmp_path / "cache").transform(paths)  # float32: another file
    assert count_decodes == [2, 2]

    Image.new("RGB", (30, 20), "green").save(paths[1])  # same name, new picture
    os.utime(paths[1], ns=(1, 1))  # a different modification time, whatever the clock
    changed = loader.transform(paths)
    assert count_decodes == [2, 2, 1]  # only the new picture; the other is copied from the cache
    np.testing.assert_array_equal(changed[0], first[0])
    assert tuple(changed[1, 0, 0]) == (0, 128, 0)
    assert len(list((tmp_path / "cache").glob("images-*.npy"))) == 3


@pytest.mark.parametrize("missing", [True, False], ids=["missing", "corrupt"])
def test_cache_errors_name_the_file_and_leave_nothing_behind(tmp_path, missing):
    good = _save(tmp_path / "good.png")
    bad = tmp_path / "bad.jpg"
    if not missing:
        bad.write_text("not a picture")
    with pytest.raises(ImageLoadError, match="bad.jpg"):
        ImageLoader(size=(4, 4), cache_dir=tmp_path / "cache").transform([good, str(bad)])
    assert list((tmp_path / "cache").glob("*")) == []


def test_cache_of_no_pictures(tmp_path):
    X = ImageLoader(size=(4, 5), dtype="uint8", cache_dir=tmp_path).transform([])
    assert X.shape == (0, 4, 5, 3) and X.dtype == np.uint8


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_folds_are_served_from_the_account_cache(posts, tmp_path, count_decodes, dtype):
    # The account is decoded once into one file; every fold's training and
    # test part is then read from it: no decoding, no new file.
    cache = tmp_path / "cache"
    loader = ImageLoader(size=(8, 8), dtype=dtype, cache_dir=cache)
    assert loader.check(posts["image"]) == len(posts)
    whole = ImageLoader(size=(8, 8), dtype=dtype).transform(posts["image"])
    splits = [*TimeSeriesSplit(3).split(posts), *KFold(3, shuffle=True, random_state=0).split(posts)]
    for train, test in splits:
        for rows in (train, test):
            part = clone(loader).fit(posts.iloc[rows]).transform(posts.iloc[rows])
            np.testing.assert_array_equal(part, whole[rows])
    for train, _ in splits[:3]:  # time-ordered: consecutive rows, views of the file
        part = loader.transform(posts["image"].iloc[train])
        assert isinstance(part, np.memmap) and not part.flags.owndata
    assert count_decodes == [len(posts)] * 2  # the check, and the in-memory reference
    assert len(list(cache.glob("images-*.npy"))) == 1


def test_checking_pictures_keeps_no_decoded_set(posts):
    # 40 pictures at 128x128 are 7.9 MB as float32; one at a time is far less.
    loader = ImageLoader(size=(128, 128))
    tracemalloc.start()
    try:
        assert loader.check(posts["image"]) == len(posts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(posts) * 128 * 128 * 3 * 4 / 4
    with pytest.raises(ImageLoadError, match="nope.jpg"):
        loader.check([*posts["image"], "nope.jpg"])
