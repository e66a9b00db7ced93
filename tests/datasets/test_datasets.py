import lzma
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spe import ImageLoader
from spe.datasets import LIKES_FILE, load_csv, load_data, load_folder, load_instaloader, make_posts
from spe.exceptions import DataError

from .._hang import finishes, make_fifo, needs_fifo
from ..conftest import write_instaloader_post


def _folder(tmp_path, n=3, likes_text=None, ext=".jpg"):
    for i in range(1, n + 1):
        Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(tmp_path / f"{i}{ext}")
    if likes_text is None:
        likes_text = "".join(f"{i}: {10 * i}\n" for i in range(1, n + 1))
    (tmp_path / LIKES_FILE).write_bytes(
        likes_text.encode("utf-8") if isinstance(likes_text, str) else likes_text
    )
    return tmp_path


def test_load_folder_reads_posting_order(tmp_path):
    _folder(
        tmp_path,
        n=11,
        likes_text="# my likes\n" + "".join(f"{i}: {i}  # post {i}\n\n" for i in range(11, 0, -1)),
    )
    df = load_folder(tmp_path)
    assert df["post_index"].tolist() == list(range(1, 12))  # numeric, not 1, 10, 11, 2
    assert df["likes"].tolist() == list(range(1, 12))
    assert df["likes"].dtype == np.int64
    assert all(p.startswith(str(tmp_path)) for p in df["image"])


def test_likes_file_beside_the_image_folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    _folder(images)
    (images / LIKES_FILE).rename(tmp_path / LIKES_FILE)
    assert len(load_folder(images)) == 3


def test_windows_line_endings_and_bom(tmp_path):
    _folder(tmp_path, likes_text="\ufeff1: 10\r\n2: 20\r\n3: 30\r\n")
    assert load_folder(tmp_path)["likes"].tolist() == [10, 20, 30]


def test_mixed_extensions(tmp_path):
    _folder(tmp_path, n=2)
    Image.new("RGB", (8, 8)).save(tmp_path / "3.PNG")
    (tmp_path / LIKES_FILE).write_text("1: 1\n2: 2\n3: 3\n")
    assert load_folder(tmp_path)["image"].str.endswith("3.PNG").iloc[-1]


@pytest.mark.parametrize(
    ("likes_text", "message"),
    [
        ("1: 10\n2: 20\n", r"no likes line for image 3\.jpg"),
        ("1: 10\n2: 20\n3: 30\n4: 40\n", r"line 4: likes for post 4 but no image"),
        ("1: 10\n2: 20\n2: 25\n3: 30\n", r"line 3: post number 2 appears again \(first on line 2\)"),
        ("1: 10\n2: lots\n3: 30\n", r"line 2: like count 'lots' is not a number"),
        ("1: 10\n2: -5\n3: 30\n", r"line 2: like count -5 is negative"),
        ("1: 10\n2: nan\n3: 30\n", r"line 2: like count is NaN"),
        ("1: 10\n2: inf\n3: 30\n", r"line 2: like count is infinite"),
        ("1: 10\n2: 12.5\n3: 30\n", r"line 2: like count '12.5' is not a whole number"),
        ("1: 10\n2: 99999999999999999999\n3: 30\n", r"line 2: .*too large"),
        ("1: 10\n2 20\n3: 30\n", r"line 2: expected 'N: likes'"),
        ("", "empty"),
        ("# only a comment\n", "empty"),
    ],
)
def test_bad_likes_file_names_file_and_line(tmp_path, likes_text, message):
    _folder(tmp_path, likes_text=likes_text)
    with pytest.raises(DataError, match=message) as err:
        load_folder(tmp_path)
    assert LIKES_FILE in str(err.value)


def test_missing_likes_file_and_empty_folder(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "1.jpg")
    with pytest.raises(DataError, match="No likes file"):
        load_folder(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / LIKES_FILE).write_text("1: 3\n")
    with pytest.raises(DataError, match="no numbered images"):
        load_folder(empty)
    with pytest.raises(DataError, match="Not a folder"):
        load_folder(tmp_path / "nowhere")


def test_load_csv_relative_absolute_and_order(tmp_path):
    (tmp_path / "img").mkdir()
    for name in ("a", "b"):
        Image.new("RGB", (8, 8)).save(tmp_path / "img" / f"{name}.png")
    pd.DataFrame(
        {
            "image": ["img/b.png", str(tmp_path / "img" / "a.png")],
            "likes": [20, 10],
            "timestamp": ["2024-02-01T10:00:00+01:00", "2024-01-01"],
            "comments": [2, 1],
        }
    ).to_csv(tmp_path / "posts.csv", index=False)
    df = load_csv(tmp_path / "posts.csv")
    assert df["likes"].tolist() == [10, 20]  # sorted by time
    assert df["image"].iloc[1] == str(tmp_path / "img" / "b.png")
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert df["post_index"].tolist() == [1, 2]
    assert df["comments"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"image": ["x.png"], "likes": [3]}, r"line 2: image file not found"),
        ({"image": ["a.png"], "likes": ["many"]}, r"line 2: like count 'many'"),
        ({"image": ["a.png", "a.png"], "likes": [1, None]}, r"line 3: like count is empty"),
        ({"picture": ["a.png"], "likes": [1]}, r"missing column\(s\) \['image'\]"),
    ],
)
def test_bad_csv(tmp_path, rows, message):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    pd.DataFrame(rows).to_csv(tmp_path / "posts.csv", index=False)
    with pytest.raises(DataError, match=message):
        load_csv(tmp_path / "posts.csv")


def test_csv_paths_outside_its_folder_warn(tmp_path):
    (tmp_path / "data").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")
    pd.DataFrame({"image": ["../outside.png"], "likes": [1]}).to_csv(tmp_path / "data" / "p.csv", index=False)
    with pytest.warns(UserWarning, match="outside the CSV's folder"):
        df = load_csv(tmp_path / "data" / "p.csv")
    assert df["image"].iloc[0] == str(tmp_path / "outside.png")


# -- instaloader: fixtures written by instaloader's own writer --------------

instaloader = pytest.importorskip("instaloader")
_post = write_instaloader_post


def test_load_instaloader(tmp_path):
    _post(tmp_path, "2024-01-02_10-00-00_UTC", 50, timestamp=1_704_189_600)
    _post(
        tmp_path,
        "2024-01-01_10-00-00_UTC",
        40,
        typename="GraphSidecar",
        images=("_2", "_1"),
        timestamp=1_704_103_200,
    )
    _post(
        tmp_path,
        "2024-01-03_10-00-00_UTC",
        60,
        video=True,
        typename="GraphVideo",
        images=(),
        timestamp=1_704_276_000,
    )
    _post(tmp_path, "2024-01-04_10-00-00_UTC", -1, timestamp=1_704_362_400)
    with pytest.warns(UserWarning) as record:
        df = load_instaloader(tmp_path)
    messages = " ".join(str(w.message) for w in record)
    assert "dropped 1 post(s) whose like count is hidden" in messages
    assert "skipped 1 video post(s)" in messages
    assert df["likes"].tolist() == [40, 50]
    assert df["image"].iloc[0].endswith("2024-01-01_10-00-00_UTC_1.jpg")  # carousel: first image
    assert df["caption"].iloc[1] == "caption 2024-01-02_10-00-00_UTC"
    assert df["comments"].tolist() == [2, 2]
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert df["post_index"].tolist() == [1, 2]
    assert ImageLoader(size=(4, 4)).transform(df).shape == (2, 4, 4, 3)
    with pytest.warns(UserWarning) as record:
        assert len(load_data(tmp_path)) == 2
    assert {"hidden", "video"} <= {
        word for w in record for word in ("hidden", "video") if word in str(w.message)
    }


def test_instaloader_missing_image_and_corrupt_metadata(tmp_path):
    _post(tmp_path, "2024-01-01_10-00-00_UTC", 5, images=())
    with pytest.raises(DataError, match=r"2024-01-01_10-00-00_UTC\.json\.xz: no image"):
        load_instaloader(tmp_path)
    _post(tmp_path, "2024-01-02_10-00-00_UTC", 6)
    with pytest.warns(UserWarning, match="with no image"):
        assert len(load_instaloader(tmp_path, missing_image="skip")) == 1
    (tmp_path / "2024-01-03_10-00-00_UTC.json.xz").write_bytes(lzma.compress(b"{not json")[:20])
    with pytest.raises(DataError, match=r"2024-01-03_10-00-00_UTC\.json\.xz: corrupt"):
        load_instaloader(tmp_path, missing_image="skip")


def test_instaloader_keeps_what_is_known_before_posting(tmp_path):
    _post(
        tmp_path, "2024-01-01_10-00-00_UTC", 5, caption="Dusk #Lake #sunset with @Anna.B", location="Berlin"
    )
    _post(
        tmp_path,
        "2024-01-02_10-00-00_UTC",
        6,
        typename="GraphSidecar",
        images=("_1",),
        timestamp=1_800_000_000,
    )
    df = load_instaloader(tmp_path)
    assert df["hashtags"].tolist() == ["lake sunset", ""]
    assert df["mentions"].tolist() == ["anna.b", ""]
    assert df["carousel"].tolist() == [False, True]
    assert df["location"].iloc[0] == "Berlin" and df["location"].isna().tolist() == [False, True]
    assert df["caption"].iloc[0] == "Dusk #Lake #sunset with @Anna.B"


# -- make_posts ---------------------------------------------------------------


def test_make_posts_times_captions_and_time_effect(tmp_path):
    plain = make_posts(60, directory=tmp_path / "a", image_size=(8, 8), random_state=1)
    timed = make_posts(60, directory=tmp_path / "b", image_size=(8, 8), random_state=1, time_effect=0.3)
    times = plain["timestamp"]
    assert str(times.dt.tz) == "UTC" and times.is_monotonic_increasing
    gaps = times.diff().dt.days.dropna()
    assert gaps.min() >= 0 and gaps.max() <= 15
    hour = times.dt.hour + times.dt.minute / 60 + times.dt.second / 3600
    assert hour.between(7, 24).all()
    assert plain["caption"].map(type).eq(str).all() and plain["caption"].str.contains("#").any()
    pd.testing.assert_series_equal(times, timed["timestamp"])
    pd.testing.assert_series_equal(plain["caption"], timed["caption"])
    # The documented effect: likes times exp(0.3 cos(2 pi (hour - 20) / 24)), up to rounding.
    factor = np.exp(0.3 * np.cos(2 * np.pi * (hour - 20) / 24))
    np.testing.assert_allclose(timed["likes"], plain["likes"] * factor, atol=0.5 + 0.5 * factor.max())
    assert np.corrcoef(np.log(timed["likes"] / plain["likes"]), np.log(factor))[0, 1] > 0.9


def test_make_posts_round_trips_and_is_reproducible(tmp_path):
    a = make_posts(30, directory=tmp_path / "a", image_size=(16, 12), random_state=1)
    b = make_posts(30, directory=tmp_path / "b", image_size=(16, 12), random_state=1)
    assert a["likes"].tolist() == b["likes"].tolist()
    assert load_folder(tmp_path / "a")["likes"].tolist() == a["likes"].tolist()
    with Image.open(a["image"].iloc[0]) as img:
        assert img.size == (12, 16)


def test_make_posts_statistics_resemble_a_real_account(tmp_path):
    likes = make_posts(200, directory=tmp_path, random_state=0)["likes"]
    # The seed's account: mean 118, sd 48, min 16, max 296 over 185 posts.
    assert 80 < likes.mean() < 150
    assert 30 < likes.std() < 70
    assert likes.skew() > 0.3  # heavy upper tail


def test_make_posts_likes_follow_the_pixels(tmp_path):
    posts, truth = make_posts(200, directory=tmp_path, image_size=(16, 16), random_state=0, return_truth=True)
    # The documented pixel score explains most of the variance of log-likes.
    r = np.corrcoef(truth["pixel_score"], np.log(posts["likes"]))[0, 1]
    assert r > 0.8
    red = ImageLoader(size=(16, 16)).transform(posts["image"])[..., 0].mean(axis=(1, 2))
    assert red[truth["red"]].mean() > red[~truth["red"]].mean() + 0.1


def test_make_posts_keeps_its_hidden_truth_out_of_the_posts(tmp_path):
    # As columns, radius and pixel_score would be features any dtype selector trains on.
    posts = make_posts(6, directory=tmp_path / "a", image_size=(8, 8), random_state=3)
    assert list(posts.columns) == ["image", "likes", "post_index", "timestamp", "caption"]
    again, truth = make_posts(
        6, directory=tmp_path / "b", image_size=(8, 8), random_state=3, return_truth=True
    )
    assert again["likes"].tolist() == posts["likes"].tolist()
    assert list(truth.columns) == ["radius", "red", "pixel_score"]
    assert truth.index.equals(again.index) and truth["radius"].between(0.8, 3.6).all()


def test_make_posts_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError):
        make_posts(3, directory=tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_load_data_detects_formats(tmp_path, posts):
    assert len(load_data(posts.attrs["directory"])) == len(posts)
    with pytest.raises(DataError, match="No such file"):
        load_data(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="not a recognised data source"):
        load_data(tmp_path / "notes.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_data(posts.attrs["directory"])


# -- cases the fuzzer found (tests/datasets/test_datasets_fuzz.py), kept as plain tests --


def test_superscript_digits_and_folders_are_not_pictures(tmp_path):
    _folder(tmp_path, n=2)
    (tmp_path / "².jpg").write_bytes(b"")  # str.isdigit() is True, int() refuses it
    assert load_folder(tmp_path)["post_index"].tolist() == [1, 2]
    (tmp_path / "3.jpg").mkdir()  # a folder named like a picture is no picture
    (tmp_path / LIKES_FILE).write_text("1: 1\n2: 2\n3: 3\n")
    with pytest.raises(DataError, match=r"line 3: likes for post 3 but no image"):
        load_folder(tmp_path)


@pytest.mark.parametrize(
    ("likes_text", "message"),
    [
        ("1: 1\n" + "7" * 5000 + ": 3\n", r"line 2: post number '7777.*' is too large"),
        ("1: " + "9" * 5000 + "\n", r"line 1: like count 9999.* is too large"),
        ("1: 1\x0c2: 2\n", r"line 1: expected 'N: likes'"),  # a form feed does not end a line
    ],
)
def test_likes_file_numbers_beyond_int(tmp_path, likes_text, message):
    _folder(tmp_path, n=1, likes_text=likes_text)
    with pytest.raises(DataError, match=message):
        load_folder(tmp_path)


def test_image_number_beyond_int64(tmp_path):
    _folder(tmp_path, n=1, likes_text="1: 1\n99999999999999999999: 2\n")
    Image.new("RGB", (8, 8)).save(tmp_path / "99999999999999999999.jpg")
    with pytest.raises(DataError, match=r"99999999999999999999\.jpg: post number .* too large"):
        load_folder(tmp_path)


def _csv(tmp_path, text):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    (tmp_path / "posts.csv").write_text(text, encoding="utf-8")
    return tmp_path / "posts.csv"


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("~no_such_user_spe/a.png", "image file not found"),
        ("a.png\x00", "NUL"),
        ("x" * 300 + ".png", "image file not found"),
    ],
)
def test_csv_image_paths_the_os_refuses(tmp_path, image, message):
    path = _csv(tmp_path, f"image,likes\na.png,1\n{image},2\n")
    with pytest.raises(DataError, match=rf"posts\.csv, line 3: .*{message}"):
        load_csv(path)


def test_csv_line_numbers_survive_blank_lines_and_multiline_captions(tmp_path):
    path = _csv(tmp_path, 'image,likes,caption\na.png,1,"two\nlines"\n\na.png,1,\nmissing.png,3,\n')
    with pytest.raises(DataError, match=r"line 6: image file not found"):
        load_csv(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("image,likes,likes\na.png,1,2\n", r"line 1: column 'likes' appears twice"),
        ("image,likes,timestamp\na.png,1,2024-01-01\na.png,2,\n", r"line 3: empty timestamp"),
        ("image,likes,timestamp\na.png,1,2024-01-01\na.png,2,soon\n", r"line 3: timestamp 'soon'"),
        ("image,likes,post_index\na.png,1,1\na.png,2,\n", r"line 3: post_index is empty"),
        ("image,likes,post_index\na.png,1,1\na.png,2,1\n", r"line 3: post_index 1 appears again"),
        ("image,likes,comments\na.png,1,lots\n", r"line 2: comments 'lots' is not a number"),
        ("image,likes\na.png,1,extra\n", r"line 2: 3 fields, but the header names 2"),
    ],
)
def test_bad_csv_values_name_the_line(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load_csv(_csv(tmp_path, text))


def test_csv_post_index_that_contradicts_timestamp_is_refused(tmp_path):
    # Issue 18.4: the user's post_index was kept although the timestamps order
    # the posts the other way round.
    path = _csv(
        tmp_path,
        "image,likes,timestamp,post_index\n"
        "a.png,10,2024-01-01,1\na.png,20,2024-03-01,2\na.png,30,2024-02-01,3\n",
    )
    with pytest.raises(DataError, match=r"posts\.csv, line 3: post_index 2 .* line 4.*disagree"):
        load_csv(path)


def test_csv_post_index_that_agrees_with_timestamp_is_kept(tmp_path):
    path = _csv(
        tmp_path,
        "image,likes,timestamp,post_index\n"
        "a.png,30,2024-02-01,7\na.png,10,2024-01-01,2\na.png,20,2024-01-01,5\n",
    )
    df = load_csv(path)
    assert df["post_index"].tolist() == [2, 5, 7]  # ties in time ordered by post_index
    assert df["likes"].tolist() == [10, 20, 30]
    assert df["post_index"].dtype == np.int64


def test_csv_numeric_timestamps_are_unix_seconds(tmp_path):
    df = load_csv(_csv(tmp_path, "image,likes,timestamp\na.png,1,1700000000\na.png,2,1600000000\n"))
    assert df["timestamp"].dt.year.tolist() == [2020, 2023]
    assert df["likes"].tolist() == [2, 1]


def test_instaloader_missing_field_never_queries_instagram(tmp_path, monkeypatch):
    import json
    import socket

    _post(tmp_path, "2024-01-01_10-00-00_UTC", 5)
    path = tmp_path / "2024-01-01_10-00-00_UTC.json.xz"
    structure = json.loads(lzma.decompress(path.read_bytes()))
    del structure["node"]["edge_media_preview_like"]
    path.write_bytes(lzma.compress(json.dumps(structure).encode()))
    connections = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: connections.append(a) or [])
    with pytest.raises(DataError, match=r"2024-01-01_10-00-00_UTC\.json\.xz: incomplete"):
        load_instaloader(tmp_path)
    assert connections == []


@pytest.mark.parametrize("likes", [float("nan"), "12", 10**30, 2.5, [1]])
def test_instaloader_odd_like_counts(tmp_path, likes):
    _post(tmp_path, "2024-01-01_10-00-00_UTC", likes)
    if likes == "12":
        assert load_instaloader(tmp_path)["likes"].tolist() == [12]
        return
    with pytest.raises(DataError, match=r"2024-01-01_10-00-00_UTC\.json\.xz: like count"):
        load_instaloader(tmp_path)


def test_instaloader_post_written_twice_is_one_post(tmp_path):
    _post(tmp_path, "2024-01-01_10-00-00_UTC", 5)
    json_text = lzma.decompress((tmp_path / "2024-01-01_10-00-00_UTC.json.xz").read_bytes())
    (tmp_path / "2024-01-01_10-00-00_UTC.json").write_bytes(json_text)
    with pytest.raises(DataError, match=r"the same post as 2024-01-01_10-00-00_UTC\.json\.xz"):
        load_instaloader(tmp_path)


def test_instaloader_file_names_with_glob_characters(tmp_path):
    _post(tmp_path, "[a]_UTC", 5, images=("_2", "_1"))
    Image.new("RGB", (8, 8)).save(tmp_path / "a_UTC_0.jpg")  # what the glob "[a]_UTC_*" matched
    assert load_instaloader(tmp_path)["image"].iloc[0].endswith("[a]_UTC_1.jpg")


def test_instaloader_metadata_is_read_with_a_size_bound(tmp_path, monkeypatch):
    # A small .json.xz can expand to gigabytes; the reader stops at a bound.
    import spe.datasets._parsing

    _post(tmp_path, "2024-01-01_10-00-00_UTC", 5)
    path = tmp_path / "2024-01-01_10-00-00_UTC.json.xz"
    padded = lzma.decompress(path.read_bytes()) + b" " * 5000
    path.write_bytes(lzma.compress(padded))
    assert len(load_instaloader(tmp_path)) == 1
    monkeypatch.setattr(spe.datasets._parsing, "_MAX_METADATA_BYTES", 4000)
    with pytest.raises(DataError, match=r"UTC\.json\.xz: corrupt .*more than"):
        load_instaloader(tmp_path)


# -- a named pipe anywhere a reader opens a file is refused at once ----------------


@needs_fifo
@pytest.mark.parametrize("reader", [load_csv, load_data])
def test_named_pipe_as_the_csv_file(tmp_path, reader):
    fifo = make_fifo(tmp_path / "posts.csv")
    with pytest.raises(DataError) as err:
        finishes(lambda: reader(fifo), fifos=[fifo])
    assert str(err.value) == f"{fifo}: cannot read (a named pipe (FIFO), not a regular file)"


@needs_fifo
def test_named_pipe_as_a_csv_rows_picture(tmp_path):
    path = _csv(tmp_path, "image,likes\na.png,1\npipe.jpg,2\n")
    fifo = make_fifo(tmp_path / "pipe.jpg")
    with pytest.raises(DataError, match=r"posts\.csv, line 3: image is not a regular file: .*pipe\.jpg$"):
        finishes(lambda: load_csv(path), fifos=[fifo])


@needs_fifo
def test_named_pipe_as_the_likes_file(tmp_path):
    _folder(tmp_path)
    (tmp_path / LIKES_FILE).unlink()
    fifo = make_fifo(tmp_path / LIKES_FILE)
    for reader in (load_folder, load_data):
        with pytest.raises(DataError) as err:
            finishes(lambda reader=reader: reader(tmp_path), fifos=[fifo])
        assert str(err.value) == f"{fifo}: cannot read (a named pipe (FIFO), not a regular file)"


@needs_fifo
@pytest.mark.parametrize("suffix", [".json", ".json.xz"])
def test_named_pipe_as_instaloader_metadata(tmp_path, suffix):
    _post(tmp_path, "2024-01-01_10-00-00_UTC", 5)
    fifo = make_fifo(tmp_path / f"2024-01-02_10-00-00_UTC{suffix}")
    for reader in (load_instaloader, load_data):
        with pytest.raises(DataError) as err:
            finishes(lambda reader=reader: reader(tmp_path), fifos=[fifo])
        assert str(err.value) == f"{fifo}: cannot read (a named pipe (FIFO), not a regular file)"


def test_folder_named_like_a_data_file_is_refused_by_name(tmp_path):
    (tmp_path / "posts.csv").mkdir()
    with pytest.raises(DataError, match=r"posts\.csv: cannot read \(a folder, not a regular file\)"):
        load_csv(tmp_path / "posts.csv")


def test_faint_pictures_rank_posts_but_barely_move_their_likes(tmp_path):
    likes = {}
    for name, options in {"realistic": {"realistic": True}, "faint": {"faint_pictures": True}}.items():
        posts, truth = make_posts(
            100, directory=tmp_path / name, image_size=(8, 8), random_state=0, return_truth=True, **options
        )
        likes[name] = np.log(posts["likes"].to_numpy(dtype=float))
    # The same draws: the two accounts differ by the picture's weight (0.7 against 0.3) and the noise.
    slope = np.polyfit(truth["pixel_score"], likes["realistic"] - likes["faint"], 1)[0]
    assert 0.3 < slope < 0.5, slope
