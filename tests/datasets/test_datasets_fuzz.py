"""Fuzzed readers: whatever the files hold, a valid frame or spe's own DataError.

Hypothesis writes likes files, CSVs and instaloader metadata with a valid
structure and hostile values, and raw bytes, then runs them through the
readers. The outcome must be either a frame meeting the documented
invariants (one row per post, likes int64 >= 0, posting order ascending,
image paths that exist) or a :class:`~spe.exceptions.DataError` naming the
file; any other exception fails. Each defect found is kept as a plain test
in tests/datasets/test_datasets.py.
"""

import csv
import io
import json
import lzma
import os
import re
import socket
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from spe.datasets import LIKES_FILE, load_csv, load_data, load_folder, load_instaloader
from spe.exceptions import DataError

from ..conftest import write_instaloader_post

# SPE_FUZZ_EXAMPLES=2000 for a longer hunt by hand.
FUZZ = settings(
    max_examples=int(os.environ.get("SPE_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_buffer = io.BytesIO()
Image.new("RGB", (1, 1), "red").save(_buffer, format="PNG")
PNG = _buffer.getvalue()


@contextmanager
def _folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name).resolve()


@contextmanager
def _no_network():
    """Fail loudly if a reader tries to reach the network (it reads files only)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a reader tried to connect: {args[:2]}")

    with (
        mock.patch.object(socket, "getaddrinfo", refuse),
        mock.patch.object(socket, "create_connection", refuse),
    ):
        yield


def _read(reader, path, must_name, **kwargs):
    """The frame the reader returns, or None when it raises DataError naming ``must_name``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            df = reader(path, **kwargs)
    except DataError as exc:
        assert str(must_name) in str(exc), f"{exc} does not name {must_name}"
        event(f"{reader.__name__}: DataError")
        return None
    _check_invariants(df)
    event(f"{reader.__name__}: a frame of {min(len(df), 3)}{'+' if len(df) >= 3 else ''} posts")
    return df


def _check_invariants(df):
    assert isinstance(df, pd.DataFrame) and len(df) >= 1
    assert isinstance(df.index, pd.RangeIndex) and df.index.start == 0
    assert df["likes"].dtype == np.int64 and (df["likes"] >= 0).all()
    assert df["post_index"].dtype == np.int64
    assert df["post_index"].is_unique and df["post_index"].is_monotonic_increasing
    for image in df["image"]:
        assert isinstance(image, str) and os.path.isabs(image) and os.path.isfile(image), image
    if "timestamp" in df:
        assert str(df["timestamp"].dt.tz) == "UTC"
        assert df["timestamp"].notna().all() and df["timestamp"].is_monotonic_increasing


# -- hostile values -----------------------------------------------------------

_digits = st.text(alphabet="0123456789", min_size=1, max_size=25)
_unicode_digits = st.text(alphabet="0123456789²³¹١٢٣०१੧߁𝟙", min_size=1, max_size=6)
_hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from('\n\r,":#\x00\t~'),
    max_size=20,
)
_hostile_count = st.one_of(
    st.integers(-5, -1).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    _digits,
    _unicode_digits,
    st.sampled_from(["", " ", "1_000", "+5", "0x10", "1e3", "12.0", "-0", "NaN", "-inf", "9" * 5000]),
    _hostile_text,
)


def _mostly(valid, hostile):
    """Valid values nine times in ten, so the readers' success paths get fuzzed too."""
    return st.integers(0, 9).flatmap(lambda roll: hostile if roll == 0 else valid)


_count_text = _mostly(st.integers(0, 10**6).map(str), _hostile_count)


# -- likes files --------------------------------------------------------------


@FUZZ
@given(
    numbers=st.lists(st.integers(0, 40), max_size=6, unique=True),
    extensions=st.lists(st.sampled_from([".jpg", ".PNG", ".webp", ".jpeg", ".gif", ".txt"]), min_size=6),
    counts=st.lists(_count_text, min_size=6),
    odd_stems=_mostly(st.just([]), st.lists(st.one_of(_digits, _unicode_digits), max_size=2)),
    odd_lines=_mostly(
        st.just([]), st.lists(st.tuples(st.one_of(_digits, _unicode_digits, _hostile_text), _count_text))
    ),
    extras=st.lists(_mostly(st.sampled_from(["", "# a comment", "  "]), _hostile_text), max_size=3),
    newline=_mostly(st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(["\x0c", "\u2028"])),
    bom=st.booleans(),
    directory_named_like_an_image=st.booleans(),
)
def test_fuzz_load_folder(
    numbers, extensions, counts, odd_stems, odd_lines, extras, newline, bom, directory_named_like_an_image
):
    with _folder() as folder:
        stems = [str(n) for n in numbers] + odd_stems
        for stem, ext in zip(stems, extensions):
            try:
                (folder / f"{stem}{ext}").write_bytes(PNG)
            except OSError:  # a name the file system refuses
                pass
        lines = [f"{n}: {count}" for n, count in zip(numbers, counts)] + [f"{n}: {c}" for n, c in odd_lines]
        if directory_named_like_an_image:
            (folder / "41.jpg").mkdir()
            lines.append("41: 5")
        text = newline.join(lines + extras)
        (folder / LIKES_FILE).write_text(("\ufeff" if bom else "") + text, encoding="utf-8", newline="")
        df = _read(load_folder, folder, folder.name)
        if df is not None:
            assert len(df) <= len(stems)
        _read(load_data, folder, folder.name)


@FUZZ
@given(content=st.binary(max_size=200), stems=st.lists(st.integers(1, 5), max_size=4))
def test_fuzz_load_folder_raw_bytes(content, stems):
    with _folder() as folder:
        for n in stems:
            (folder / f"{n}.png").write_bytes(PNG)
        (folder / LIKES_FILE).write_bytes(content)
        _read(load_folder, folder, folder.name)


# -- CSV files ----------------------------------------------------------------

_image_cell = _mostly(
    st.sampled_from(["a.png", "img/b.png", "ABS", "c.png", " c.png ", "../outside.png"]),
    st.one_of(
        st.sampled_from(["", " ", "img", "~no_such_user_spe/x.png", "a.png\x00", "x" * 300 + ".png"]),
        st.sampled_from(["a.png/", "loop.png"]),
        _hostile_text,
    ),
)
_timestamp_cell = _mostly(
    st.one_of(
        st.datetimes().map(lambda d: d.isoformat()),
        st.integers(0, 2 * 10**9).map(str),
        st.sampled_from(["2024-01-01", "2024-01-01T10:00:00+01:00", "2024-01-01 10:00:00Z"]),
    ),
    st.one_of(
        st.integers(-(10**20), 10**20).map(str),
        st.floats().map(repr),
        st.sampled_from(["", "99999-01-01", "yesterday", "NaT", "nan"]),
        _hostile_text,
    ),
)
_row = st.fixed_dictionaries(
    {
        "image": _image_cell,
        "likes": _count_text,
        "timestamp": _timestamp_cell,
        "post_index": _mostly(st.integers(0, 20).map(str), _hostile_count),
        "comments": _mostly(st.sampled_from(["", "0", "3"]), _hostile_count),
        "followers": _count_text,
        "caption": st.one_of(
            st.sampled_from(["", "sunset", 'a "quoted", caption', "two\nlines"]), _hostile_text
        ),
    }
)


def _write_csv(folder, rows, columns, blank_lines=()):
    """Write rows as csv.writer does, blank lines after the rows numbered in
    ``blank_lines``; return the line each row starts on."""
    (folder / "img").mkdir()
    for name in ("a.png", "img/b.png", "c.png", "outside.png"):
        (folder / name).write_bytes(PNG)
    os.symlink("loop.png", folder / "loop.png")
    data = folder / "data"
    data.mkdir()
    for name in ("a.png", "c.png"):
        os.symlink(folder / name, data / name)
    (data / "img").mkdir()
    (data / "img" / "b.png").write_bytes(PNG)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    starts = []
    for i, row in enumerate(rows):
        starts.append(len(re.findall(r"\r\n|\r|\n", buffer.getvalue())) + 1)
        cells = [row.get(c, "") for c in columns]
        writer.writerow([str(data / "a.png") if c == "ABS" else c for c in cells])
        buffer.write("\n" * blank_lines.count(i))
    path = data / "posts.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path, starts


@FUZZ
@given(
    rows=st.lists(_row, max_size=6),
    optional=st.sets(st.sampled_from(["timestamp", "post_index", "comments", "followers", "caption"])),
    extra_columns=_mostly(
        st.just([]), st.lists(st.sampled_from(["timestamp", "post_index", "caption", "likes"]), max_size=1)
    ),
    blank_lines=st.lists(st.integers(0, 8), max_size=2),
)
def test_fuzz_load_csv(rows, optional, extra_columns, blank_lines):
    columns = ["image", "likes", *sorted(optional), *extra_columns]
    with _folder() as folder:
        path, starts = _write_csv(folder, rows, columns, blank_lines)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                df = load_csv(path)
        except DataError as exc:
            assert str(path) in str(exc)
            named = [int(n) for n in re.findall(r"line (\d+)", str(exc))]
            # A line named is where a row starts (1 is the header), not a count that
            # blank lines or line breaks inside quoted captions have thrown off.
            assert set(named) <= {1, *starts}, (str(exc), starts)
            event("load_csv: DataError")
            return
        _check_invariants(df)
        event(f"load_csv: a frame of {min(len(df), 3)}{'+' if len(df) >= 3 else ''} posts")
        assert len(df) == len(rows)
        expected = sorted(float(r["likes"].replace("_", "")) for r in rows)
        assert np.allclose(sorted(df["likes"]), expected, rtol=1e-12)
        _read(load_data, path, path.name)


@FUZZ
@given(content=st.binary(max_size=300), header=st.booleans())
def test_fuzz_load_csv_raw_bytes(content, header):
    with _folder() as folder:
        (folder / "a.png").write_bytes(PNG)
        path = folder / "posts.csv"
        path.write_bytes((b"image,likes\n" if header else b"") + content)
        _read(load_csv, path, path.name)
        _read(load_data, path, path.name)


# -- instaloader metadata ----------------------------------------------------

instaloader = pytest.importorskip("instaloader")

_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_hostile_text, inner, max_size=3),
    max_leaves=6,
)
_post = st.fixed_dictionaries(
    {},
    optional={
        "likes": _mostly(st.integers(-3, 10**6), st.one_of(st.integers(), st.floats(), _json_value)),
        "timestamp": _mostly(st.integers(0, 2**31), st.one_of(st.integers(), st.floats(), _json_value)),
        "is_video": _mostly(st.booleans(), _json_value),
        "typename": _mostly(st.sampled_from(["GraphImage", "GraphSidecar", "GraphVideo"]), _json_value),
        "comments": _mostly(st.integers(0, 100), _json_value),
        "caption": _mostly(_hostile_text, _json_value),
        "images": st.sampled_from([("",), ("_1", "_2"), (), ("_x",), ("_10", "_9")]),
    },
)


def _write_hostile_post(folder, stem, post):
    """Instaloader's own writer for a node whose fields may be missing or odd."""
    write_instaloader_post(folder, stem, post.get("likes", 1), images=post.get("images", ("",)))
    path = folder / f"{stem}.json.xz"
    structure = json.loads(lzma.decompress(path.read_bytes()))
    node = structure["node"]
    for key, field in [("likes", "edge_media_preview_like"), ("comments", "edge_media_to_comment")]:
        if key in post:
            node[field] = {"count": post[key]}
        elif not post:
            del node[field]  # missing: instaloader would ask Instagram for it
    for key, field in [
        ("timestamp", "taken_at_timestamp"),
        ("is_video", "is_video"),
        ("typename", "__typename"),
    ]:
        if key in post:
            node[field] = post[key]
    if "caption" in post:
        node["edge_media_to_caption"] = {"edges": [{"node": {"text": post["caption"]}}]}
    post_obj = instaloader.Post(instaloader.Instaloader(quiet=True).context, node)
    instaloader.save_structure_to_file(post_obj, str(path))


@pytest.mark.slow
@FUZZ
@given(posts=st.lists(_post, min_size=1, max_size=4), include_videos=st.booleans())
def test_fuzz_load_instaloader(posts, include_videos):
    with _folder() as folder, _no_network():
        for i, post in enumerate(posts):
            _write_hostile_post(folder, f"2024-01-0{i + 1}_10-00-00_UTC", post)
        df = _read(load_instaloader, folder, folder.name, include_videos=include_videos)
        if df is not None:
            assert len(df) <= len(posts)
        _read(load_data, folder, folder.name)


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=200),
        _json_value.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"node": _json_value, "instaloader": _json_value}).map(
            lambda v: json.dumps(v).encode()
        ),
        st.integers(1, 20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    ),
    compress=st.booleans(),
    stem=st.sampled_from(["2024-01-01_10-00-00_UTC", "[a]_UTC", "*_UTC"]),
)
def test_fuzz_load_instaloader_raw(content, compress, stem):
    with _folder() as folder, _no_network():
        name = f"{stem}.json.xz" if compress else f"{stem}.json"
        (folder / name).write_bytes(lzma.compress(content) if compress else content)
        (folder / f"{stem}.jpg").write_bytes(PNG)
        _read(load_instaloader, folder, folder.name)
