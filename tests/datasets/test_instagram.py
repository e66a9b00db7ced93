"""spe.datasets.load_instagram_export: Instagram's own download, as a folder or as its zip.

Every download here is written at test time, in the layouts public projects
that parse these downloads rely on (see the module docstring of
spe/datasets/_instagram.py): recent and older paths, folder and zip, files at the top
or inside one folder. Hostile downloads are refused in one line naming the
file, with nothing written.
"""

import io
import json
import os
import random
import re
import stat
import struct
import tempfile
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from spe.cli import main
from spe.datasets import load_data, load_instagram_export, make_posts
from spe.datasets._instagram import is_instagram_export
from spe.exceptions import DataError

LAYOUTS = {
    "recent": (
        "logged_information/past_instagram_insights/posts.json",
        "your_instagram_activity/media/posts_1.json",
    ),
    "content": (
        "logged_information/past_instagram_insights/posts.json",
        "your_instagram_activity/content/posts_1.json",
    ),
    "old": ("past_instagram_insights/posts.json", "content/posts_1.json"),
}


def _jpeg(colour="red", size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def mojibake(text):
    """Text as Instagram stores it: each UTF-8 byte as one character."""
    return text.encode("utf-8").decode("latin-1")


def insight(uri, seconds, likes, title="", **counts):
    """One organic_insights_posts entry; ``likes=None`` leaves the key out."""
    strings = {"Creation Timestamp": {"timestamp": seconds}}
    if likes is not None:
        strings["Likes"] = {"value": str(likes)}
    names = {
        "comments": "Comments",
        "reach": "Accounts reached",
        "impressions": "Impressions",
        "saves": "Saves",
    }
    for name, value in counts.items():
        strings[names[name]] = {"value": str(value)}
    thumb = {"uri": uri, "creation_timestamp": seconds, "title": mojibake(title)}
    return {"media_map_data": {"Media Thumbnail": thumb}, "string_map_data": strings}


def write(files, root=None, zip_path=None, top="", compression=zipfile.ZIP_DEFLATED):
    """Write ``{relative path: bytes or JSON}`` as a folder or a zip, under ``top`` inside it."""
    blobs = {top + rel: v if isinstance(v, bytes) else json.dumps(v).encode() for rel, v in files.items()}
    if zip_path is not None:
        with zipfile.ZipFile(zip_path, "w", compression) as z:
            for name, data in blobs.items():
                z.writestr(name, data)
        return Path(zip_path)
    for name, data in blobs.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_instagram_download(posts, path, *, layout="recent", as_zip=False, top=""):
    """Write a make_posts account as Instagram's download, as a folder or (``as_zip``) a zip at ``path``.

    Insights newest first, as Instagram lists them; captions as mojibake;
    the caption on the picture, as older downloads put it.
    """
    insights_rel, posts_rel = LAYOUTS[layout]
    files, listed, entries = {}, [], []
    for i, row in enumerate(posts.itertuples()):
        seconds = int(row.timestamp.timestamp())
        uri = f"media/posts/{row.timestamp:%Y%m}/{i + 1}_{seconds}.jpg"
        files[uri] = Path(row.image).read_bytes()
        listed.append(insight(uri, seconds, row.likes, row.caption, reach=3 * row.likes, saves="--"))
        entries.append(
            {"media": [{"uri": uri, "creation_timestamp": seconds, "title": mojibake(row.caption)}]}
        )
    files[insights_rel] = {"organic_insights_posts": listed[::-1]}
    files[posts_rel] = entries
    return write(files, zip_path=path, top=top) if as_zip else write(files, root=Path(path), top=top)


def single(name, seconds, title, ext=".jpg"):
    """A one-picture post of posts_1.json, its caption on the picture as older downloads put it."""
    return {
        "media": [{"uri": f"media/posts/202401/{name}{ext}", "creation_timestamp": seconds, "title": title}]
    }


def special_files(layout="recent"):
    """Six posts: a plain photo, a carousel, a video, one with '--' likes, one without Likes, a reel-free
    photo with thousands separators; and one post the insights file does not cover."""
    insights_rel, posts_rel = LAYOUTS[layout]
    t = 1_704_103_200  # 2024-01-01 10:00 UTC
    files = {
        f"media/posts/202401/{name}.jpg": _jpeg() for name in ("a", "c1", "c2", "c3", "v", "d", "n", "k", "o")
    }
    files["media/posts/202401/v.mp4"] = b"\x00" * 64
    files[insights_rel] = {
        "organic_insights_posts": [
            insight(
                "media/posts/202401/k.jpg", t + 5 * 86400, "1,234", "big one", reach="12,500", comments=7
            ),
            insight("media/posts/202401/n.jpg", t + 4 * 86400, None, "no likes key"),
            insight("media/posts/202401/d.jpg", t + 3 * 86400, "--", "dashes"),
            insight("media/posts/202401/v.jpg", t + 2 * 86400, 50, "a video"),
            insight("media/posts/202401/c1.jpg", t + 86400, 90, "", reach="--", impressions="", saves=4),
            insight(
                "media/posts/202401/a.jpg", t, 80, "Café ☕ #morning", reach=300, impressions=400, saves=2
            ),
        ]
    }
    files[posts_rel] = [
        single("o", t - 86400, "too old"),
        single("a", t, mojibake("Café ☕ #morning")),
        {
            "title": mojibake("Carousel 🎠 of three"),
            "creation_timestamp": t + 86400,
            "media": [single(name, t + 86400, "")["media"][0] for name in ("c1", "c2", "c3")],
        },
        single("v", t + 2 * 86400, "a video", ".mp4"),
        single("d", t + 3 * 86400, "dashes"),
        single("n", t + 4 * 86400, "no likes"),
        single("k", t + 5 * 86400, "big one"),
    ]
    return files


def _load(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = load_instagram_export(path, **kwargs)
    return df, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


# -- what is read -------------------------------------------------------------


def test_special_download_reads_expected_rows(tmp_path):
    root = write(special_files(), root=tmp_path / "download")
    df, caught = _load(root)
    assert list(df.columns) == ["image", "likes", "post_index", "timestamp", "caption", "pictures"] + [
        "comments",
        "reach",
        "impressions",
        "saves",
    ]
    assert df["likes"].tolist() == [80, 90, 1234] and df["likes"].dtype == np.int64
    assert df["post_index"].tolist() == [1, 2, 3]
    assert df["timestamp"].dt.strftime("%m-%d %H:%M").tolist() == [
        "01-01 10:00",
        "01-02 10:00",
        "01-06 10:00",
    ]
    # Mojibake decoded; the carousel's caption is the post's, not its pictures' empty one.
    assert df["caption"].tolist() == ["Café ☕ #morning", "Carousel 🎠 of three", "big one"]
    assert df["image"].tolist() == [str(root / f"media/posts/202401/{n}.jpg") for n in ("a", "c1", "k")]
    assert df["pictures"].tolist() == [1, 3, 1] and df["pictures"].dtype == np.int64
    assert df["reach"].tolist()[0] == 300 and np.isnan(df["reach"].iloc[1]) and df["reach"].iloc[2] == 12500
    assert np.isnan(df["impressions"].iloc[1]) and df["saves"].tolist()[:2] == [2, 4]
    skipped = "1 video(s), 3 without a like count ('--', or not in the insights file)"
    assert caught == [f"{root}: skipped 4 of 7 post(s): {skipped}"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("top", ["", "instagram-you-2024-01-07/"])
@pytest.mark.parametrize("as_zip", [False, True])
def test_every_layout_reads_the_same_rows(tmp_path, layout, top, as_zip):
    files = special_files(layout)
    path = tmp_path / ("download.zip" if as_zip else "download")
    write(files, **({"zip_path": path} if as_zip else {"root": path}), top=top)
    assert is_instagram_export(path)
    df, _ = _load(path)
    expected, _ = _load(write(special_files(), root=tmp_path / "reference"))
    pd.testing.assert_frame_equal(df.drop(columns="image"), expected.drop(columns="image"))
    base = tmp_path / "download-pictures" if as_zip else path / top
    assert df["image"].tolist() == [str(base / f"media/posts/202401/{n}.jpg") for n in ("a", "c1", "k")]
    for image in df["image"]:
        assert Path(image).read_bytes() == files[image.split(f"{base}{os.sep}")[1]]


def test_make_posts_round_trip(tmp_path):
    posts = make_posts(12, directory=tmp_path / "posts", image_size=(16, 16), random_state=0)
    for layout in ("recent", "old"):
        df, caught = _load(write_instagram_download(posts, tmp_path / layout, layout=layout))
        assert caught == []
        assert df["likes"].tolist() == posts["likes"].tolist()
        assert df["caption"].fillna("").tolist() == posts["caption"].tolist()
        assert (df["timestamp"] == posts["timestamp"].dt.floor("s")).all()
        assert df["reach"].tolist() == (3 * posts["likes"]).tolist() and df["saves"].isna().all()
        for ours, theirs in zip(df["image"], posts["image"]):
            assert Path(ours).read_bytes() == Path(theirs).read_bytes()


def test_an_older_posts_file_beside_the_recent_one_is_not_counted_twice(tmp_path):
    files = special_files()
    files["content/posts_1.json"] = files[LAYOUTS["recent"][1]] + [single("x", 1_600_000_000, "older")]
    df, caught = _load(write(files, root=tmp_path / "both"))
    assert len(df) == 3 and "skipped 4 of 7 post(s)" in caught[0]


def test_zip_pictures_go_to_a_named_folder_once(tmp_path):
    zip_path = write(special_files(), zip_path=tmp_path / "instagram-you.zip")
    df, _ = _load(zip_path)
    media = tmp_path / "instagram-you-pictures"
    assert df.attrs["media_dir"] == str(media)
    # Only the pictures of the rows returned, nothing else of the zip.
    copied = sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())
    assert copied == [f"media/posts/202401/{n}.jpg" for n in ("a", "c1", "k")]
    stamps = [os.stat(p).st_mtime_ns for p in df["image"]]
    os.utime(df["image"][0], ns=(1, 1))
    again, _ = _load(zip_path)
    assert again["image"].tolist() == df["image"].tolist()
    assert os.stat(df["image"][0]).st_mtime_ns == 1  # same content: kept, not written again
    assert [os.stat(p).st_mtime_ns for p in df["image"]][1:] == stamps[1:]
    Path(df["image"][1]).write_bytes(b"changed")
    _load(zip_path)
    assert Path(df["image"][1]).read_bytes() == special_files()["media/posts/202401/c1.jpg"]

    elsewhere = tmp_path / "my pictures"
    df, _ = _load(zip_path, media_dir=elsewhere)
    assert df["image"][0] == str(elsewhere / "media/posts/202401/a.jpg") and os.path.isfile(df["image"][0])
    with pytest.raises(ValueError, match="media_dir is for a .zip"):
        load_instagram_export(write(special_files(), root=tmp_path / "folder"), media_dir=elsewhere)


def test_variants_from_other_parsers(tmp_path):
    """Portuguese keys, a wrapped posts list, ``media`` as one object, no posts file, "1.234"."""
    t = 1_704_103_200
    thumb = {"uri": "media/posts/202401/a.jpg", "creation_timestamp": t, "title": mojibake("Olá")}
    strings = {
        "Curtidas": {"value": "1.234"},
        "Contas alcan\u00c3\u00a7adas": {"value": "2.000"},  # a key stored as mojibake
        "Impress\u00f5es": {"value": "3000"},
        "Salvamentos": {"value": "5"},
    }
    files = {
        "media/posts/202401/a.jpg": _jpeg(),
        "media/posts/202401/b.jpg": _jpeg("blue"),
        LAYOUTS["recent"][0]: {
            "organic_insights_posts": [
                {"media_map_data": {"Miniatura": thumb}, "string_map_data": strings},
                {
                    "media_map_data": {},
                    "string_map_data": {
                        "Creation timestamp": {"timestamp": t + 60},
                        "likes": {"value": "7"},
                    },
                },
            ]
        },
        LAYOUTS["recent"][1]: {
            "ig_posts": [
                {"media": {"uri": "media/posts/202401/b.jpg", "creation_timestamp": t + 60}, "title": "B"}
            ]
        },
    }
    df, _ = _load(write(files, root=tmp_path / "pt"))
    assert df["likes"].tolist() == [1234, 7]
    assert df["reach"].tolist()[0] == 2000 and df["impressions"].tolist()[0] == 3000
    assert df["caption"].tolist() == ["Olá", "B"]
    assert df["image"].str.endswith("b.jpg").tolist() == [False, True]  # matched by time, not by uri
    assert np.isnan(df["pictures"].iloc[0]) and df["pictures"].iloc[1] == 1
    del files[LAYOUTS["recent"][1]]
    files[LAYOUTS["recent"][0]]["organic_insights_posts"].pop()
    df, _ = _load(write(files, root=tmp_path / "insights only"))
    assert df["caption"].tolist() == ["Olá"] and np.isnan(df["pictures"].iloc[0])


def test_a_video_without_posts_file_is_known_by_its_metadata(tmp_path):
    post = insight("media/posts/202401/v.jpg", 1_704_103_200, 5)
    post["media_map_data"]["Media Thumbnail"]["media_metadata"] = {"video_metadata": {"exif_data": []}}
    files = {"media/posts/202401/v.jpg": _jpeg(), LAYOUTS["old"][0]: {"organic_insights_posts": [post]}}
    with pytest.raises(DataError, match=r"no photo post with a like count among its 1 post"):
        _load(write(files, root=tmp_path / "d"))


# -- refused, with the reason -------------------------------------------------


@pytest.mark.parametrize(
    "extra, why",
    [
        ({"logged_information/past_instagram_insights/no-data.txt": b"No data"}, "no-data.txt"),
        ({"logged_information/past_instagram_insights/posts.html": b"<html>"}, "HTML format"),
        ({"your_instagram_activity/media/posts_1.json": []}, "no insights file"),
    ],
)
@pytest.mark.parametrize("as_zip", [False, True])
def test_download_without_like_counts_is_refused_saying_what_to_use(tmp_path, extra, why, as_zip):
    path = tmp_path / ("d.zip" if as_zip else "d")
    write(extra, **({"zip_path": path} if as_zip else {"root": path}))
    with pytest.raises(DataError) as info:
        load_data(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for needed in (why, "professional", "JSON", "instaloader", "CSV"):
        assert needed in message, needed
    assert not (tmp_path / "d-pictures").exists()


def _zip_with(tmp_path, entries):
    """A zip of the special download plus raw ``(ZipInfo or name, bytes)`` entries."""
    path = write(special_files(), zip_path=tmp_path / "hostile.zip")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return path


def _symlink(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize(
    "entries, says",
    [
        ([("../evil.jpg", b"x")], "'../evil.jpg' has a name leaving the download"),
        ([("media/../../evil.jpg", b"x")], "has a name leaving the download"),
        ([("/etc/evil.jpg", b"x")], "'/etc/evil.jpg' has an absolute name"),
        ([("C:/evil.jpg", b"x")], "has an absolute name"),
        ([_symlink("media/posts/202401/link.jpg", b"/etc/passwd")], "is a symlink"),
        ([("media/posts/202401/a.jpg", b"again")], "appears twice"),
        ([("media/zeros.bin", b"\x00" * 20 * 2**20)], "a zip bomb"),
    ],
)
def test_hostile_zip_is_refused_and_nothing_written(tmp_path, entries, says):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        path = _zip_with(tmp_path, entries)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(DataError) as info:
        load_data(path)
    assert str(info.value).startswith(f"{path}: member ") and says in str(info.value)
    assert "\n" not in str(info.value)
    assert sorted(tmp_path.rglob("*")) == before


def test_zip_whose_sizes_lie_is_refused_and_nothing_written(tmp_path):
    """A bomb that declares 100 bytes: only 100 are ever decompressed, its CRC fails, all is undone."""
    files = special_files()
    files["media/posts/202401/k.jpg"] = b"\x00" * 10 * 2**20  # the last picture copied
    path = write(files, zip_path=tmp_path / "liar.zip")
    name = b"media/posts/202401/k.jpg"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        struct.pack_into("<I", data, z.getinfo(name.decode()).header_offset + 22, 100)
    central = data.index(b"PK\x01\x02")  # the central directory's first entry
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, 100)
    path.write_bytes(bytes(data))
    with pytest.raises(
        DataError, match=r"liar\.zip:media/posts/202401/k\.jpg: cannot read it from the zip \(Bad CRC"
    ):
        load_instagram_export(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["liar.zip"]


@pytest.mark.parametrize("uri", ["../outside.jpg", "/etc/passwd", "media/../../outside.jpg", "C:\\x.jpg"])
@pytest.mark.parametrize("as_zip", [False, True])
def test_uri_outside_the_download_is_refused(tmp_path, uri, as_zip):
    (tmp_path / "outside.jpg").write_bytes(_jpeg())
    files = special_files()
    files[LAYOUTS["recent"][0]]["organic_insights_posts"][0]["media_map_data"]["Media Thumbnail"]["uri"] = uri
    path = tmp_path / ("d.zip" if as_zip else "d")
    write(files, **({"zip_path": path} if as_zip else {"root": path}))
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(DataError, match=r"posts\.json, post 1: uri .* points outside the download") as info:
        load_instagram_export(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    assert sorted(tmp_path.rglob("*")) == before


def test_folder_symlink_out_of_the_download_is_refused(tmp_path):
    (tmp_path / "secret.jpg").write_bytes(_jpeg())
    root = write(special_files(), root=tmp_path / "d")
    picture = root / "media/posts/202401/a.jpg"
    picture.unlink()
    picture.symlink_to(tmp_path / "secret.jpg")
    with pytest.raises(DataError, match=r"a\.jpg: a symlink to .*secret\.jpg, outside the download; refused"):
        load_instagram_export(root)


@pytest.mark.parametrize("as_zip", [False, True])
def test_json_larger_than_the_bound_is_refused_before_parsing(tmp_path, as_zip, monkeypatch):
    import spe.datasets._instagram_zip

    monkeypatch.setattr(spe.datasets._instagram_zip, "MAX_JSON_BYTES", 1000)  # the real bound is 64 MiB
    path = tmp_path / ("d.zip" if as_zip else "d")
    write(special_files(), **({"zip_path": path} if as_zip else {"root": path}))
    with pytest.raises(
        DataError, match=r"posts(_1)?\.json: .*(more than|bytes, more than the) 1,000"
    ) as info:
        load_instagram_export(path)
    assert str(info.value).startswith(str(path)) and "refused" in str(info.value)


def test_pictures_folder_with_a_symlink_out_is_refused(tmp_path):
    zip_path = write(special_files(), zip_path=tmp_path / "you.zip")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "you-pictures").mkdir()
    (tmp_path / "you-pictures" / "media").symlink_to(outside, target_is_directory=True)
    made = []
    real_mkdir = Path.mkdir

    def watched(self, *args, **kwargs):
        made.append(self)
        return real_mkdir(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", watched)
        with pytest.raises(
            DataError, match=r"media: a symlink out of the pictures folder .*you-pictures; refused"
        ):
            load_instagram_export(zip_path)
    assert list(outside.iterdir()) == []
    assert not any(Path(os.path.realpath(p)).is_relative_to(outside) for p in made)


@pytest.mark.parametrize("as_zip", [False, True])
def test_deep_json_is_refused(tmp_path, as_zip):
    files = special_files()
    # Blanks at random between the brackets, or the zip would be refused first, as a bomb.
    blanks = random.Random(0).choices(" \n\t\r", k=200_000)
    files[LAYOUTS["recent"][1]] = ("".join(f"[{b}" for b in blanks) + "]" * 200_000).encode()
    path = tmp_path / ("d.zip" if as_zip else "d")
    write(files, **({"zip_path": path} if as_zip else {"root": path}))
    with pytest.raises(DataError, match=r"posts_1\.json: JSON nested too deeply") as info:
        load_instagram_export(path)
    assert str(info.value).startswith(str(path))


def test_picture_missing_from_the_zip_says_the_download_has_parts(tmp_path):
    files = special_files()
    del files["media/posts/202401/c1.jpg"]
    path = write(files, zip_path=tmp_path / "part1.zip")
    says = r"c1\.jpg is not in .*part1\.zip; Instagram splits large downloads into parts"
    with pytest.raises(DataError, match=says):
        load_instagram_export(path)
    assert not (tmp_path / "part1-pictures").exists()


def test_not_a_zip_and_not_a_download(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK not really")
    with pytest.raises(DataError, match=r"fake\.zip: not a readable zip file"):
        load_data(fake)
    other = write({"notes/a.txt": b"hello"}, zip_path=tmp_path / "other.zip")
    with pytest.raises(DataError, match=r"other\.zip: not an Instagram download"):
        load_data(other)
    assert not is_instagram_export(fake) and not is_instagram_export(other)


# -- bombs: what a download may cost, and copies refused half way -------------


def _refused(path, **kwargs):
    """The one-line refusal of ``path``, checked to name it."""
    with pytest.raises(DataError) as info:
        load_instagram_export(path, **kwargs)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    return message


@pytest.mark.parametrize("as_zip", [False, True])
def test_json_of_millions_of_empty_objects_is_refused_before_parsing(tmp_path, as_zip):
    """32 MB of ``{},`` parsed to 6 GB; refused at the fewest that parse to more than ~600 MB."""
    from spe.datasets._instagram_zip import MAX_JSON_VALUES

    files = special_files()
    files[LAYOUTS["recent"][1]] = b"[" + b"{}," * (MAX_JSON_VALUES // 2) + b"{}]"  # 6 MB
    path = tmp_path / ("d.zip" if as_zip else "d")
    # Stored, as a zip whose JSON compresses only 11 times would be: not refused as a bomb first.
    write(files, **({"zip_path": path, "compression": zipfile.ZIP_STORED} if as_zip else {"root": path}))
    tracemalloc.start()
    try:
        message = _refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"posts_1.json: up to {MAX_JSON_VALUES + 2:,} JSON values" in message
    assert peak < 3 * len(files[LAYOUTS["recent"][1]])  # the file's bytes, nothing parsed


@pytest.mark.parametrize("as_zip", [False, True])
@pytest.mark.parametrize("where", ["posts files together", "insights file"])
def test_more_posts_than_an_account_has_are_refused(tmp_path, as_zip, where):
    from spe.datasets._instagram_zip import MAX_POSTS

    files = special_files()
    many = [{"title": str(i)} for i in range(MAX_POSTS // 2 + 1)]  # unique, not a bomb to the zip
    if where == "insights file":  # posts without likes, read and skipped before
        times = [
            {"string_map_data": {"Creation Timestamp": {"timestamp": 10**9 + i}}} for i, _ in enumerate(many)
        ]
        files[LAYOUTS["recent"][0]]["organic_insights_posts"] += times + times
        says = rf"posts\.json: {MAX_POSTS + 8:,} posts read, more than the {MAX_POSTS:,}"
    else:
        files["your_instagram_activity/media/posts_2.json"] = many
        files["your_instagram_activity/media/posts_3.json"] = many
        says = rf"posts_3\.json: {MAX_POSTS + 9:,} posts read, more than the {MAX_POSTS:,}"
    path = tmp_path / ("d.zip" if as_zip else "d")
    write(files, **({"zip_path": path} if as_zip else {"root": path}))
    assert re.search(says, _refused(path))
    assert not (tmp_path / "d-pictures").exists()


def test_many_pictures_each_a_small_bomb_are_refused_before_any_is_written(tmp_path):
    """1 MiB pictures of padding expand 600 times: each one is refused, not only those over 1 MiB."""
    files = special_files()
    padded = _jpeg() + b"\x00" * (2**20 - len(_jpeg()))
    names = [f"media/posts/202401/p{i}.jpg" for i in range(30)]  # 1,000 wrote 1 GB from 1.7 MB
    files.update(dict.fromkeys(names, padded))
    listed = files[LAYOUTS["recent"][0]]["organic_insights_posts"]
    listed += [insight(name, 1_600_000_000 + i, 5) for i, name in enumerate(names)]
    path = write(files, zip_path=tmp_path / "padded.zip")
    before = sorted(tmp_path.rglob("*"))
    message = _refused(path)
    assert re.search(r"member 'media/posts/202401/p\d+\.jpg' expands \d{3},?\d* times .*a zip bomb", message)
    assert sorted(tmp_path.rglob("*")) == before


def test_small_members_that_compress_well_are_still_read(tmp_path):
    files = special_files()
    files["your_instagram_activity/messages/blank.json"] = b"[" + b" " * 60_000 + b"]"  # 1,000 times
    df, _ = _load(write(files, zip_path=tmp_path / "d.zip"))
    assert df["likes"].tolist() == [80, 90, 1234]


@pytest.mark.parametrize(
    "cap, value, says",
    [
        ("MAX_MEMBERS", 10, r"d\.zip: 1[0-9] members, more than the 10 spe reads; refused"),
        ("MAX_DOWNLOAD_BYTES", 1_000, r"d\.zip: its members expand to [\d,]+ bytes together, more than the "),
    ],
)
def test_zip_of_more_members_or_bytes_than_a_download_is_refused(tmp_path, monkeypatch, cap, value, says):
    import spe.datasets._instagram_zip

    monkeypatch.setattr(spe.datasets._instagram_zip, cap, value)  # 200,000 members, 4 GiB
    path = write(special_files(), zip_path=tmp_path / "d.zip")
    assert re.search(says, _refused(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.zip"]


@pytest.mark.parametrize("as_zip", [False, True])
def test_json_read_together_is_bounded(tmp_path, monkeypatch, as_zip):
    import spe.datasets._instagram_zip

    files = special_files()
    sizes = [len(json.dumps(files[rel]).encode()) for rel in LAYOUTS["recent"]]
    monkeypatch.setattr(spe.datasets._instagram_zip, "MAX_JSON_TOTAL_BYTES", sum(sizes) - 1)  # 128 MiB
    path = tmp_path / ("d.zip" if as_zip else "d")
    write(files, **({"zip_path": path} if as_zip else {"root": path}))
    # The posts file is read first, then the insights file, whose bytes go over.
    says = rf"posts\.json: the JSON files read hold more than {sum(sizes) - 1:,} bytes together; refused"
    assert re.search(says, _refused(path))


def test_member_names_deep_in_folders_are_listed_in_linear_memory(tmp_path):
    """Every folder of a name 10,000 levels deep was a set of 100 MB of names."""
    path = write({"a/" * 10_000 + f"{i}.json": b"[]" for i in range(3)}, zip_path=tmp_path / "deep.zip")
    tracemalloc.start()
    try:
        assert not is_instagram_export(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def _posts_of(names, start=1_600_000_000):
    """Insights posts for the pictures ``names``, in that order of time."""
    return [insight(name, start + i, 5) for i, name in enumerate(names)]


def test_member_both_a_picture_and_a_folder_is_refused_and_nothing_written(tmp_path):
    """``0.jpg`` and ``0.jpg/x.jpg``: the copy failed half way and left the pictures before them."""
    files = special_files()
    names = [f"media/posts/p{i}.jpg" for i in range(12)] + ["media/posts/0.jpg", "media/posts/0.jpg/x.jpg"]
    files.update(dict.fromkeys(names, _jpeg()))
    files[LAYOUTS["recent"][0]]["organic_insights_posts"] += _posts_of(names)
    path = write(files, zip_path=tmp_path / "both.zip")
    message = _refused(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["both.zip"]
    assert "member 'media/posts/0.jpg' is a file and also the folder of 'media/posts/0.jpg/x.jpg'" in message
    assert message.endswith("; refused")


def test_copy_refused_half_way_by_the_folder_leaves_nothing_new(tmp_path):
    """A folder already where the last picture goes: the pictures copied before it are removed."""
    path = write(special_files(), zip_path=tmp_path / "you.zip")
    mine = tmp_path / "you-pictures/media/posts/202401/k.jpg/mine.txt"  # k.jpg: the last one copied
    mine.parent.mkdir(parents=True)
    mine.write_text("mine")
    before = sorted(tmp_path.rglob("*"))
    message = _refused(path)
    assert sorted(tmp_path.rglob("*")) == before and mine.read_text() == "mine"
    assert re.search(r"you\.zip: cannot write its pictures into .*you-pictures \(Is a directory\)", message)


def test_copy_interrupted_half_way_leaves_nothing_new(tmp_path, monkeypatch):
    """Ctrl-C (or any exception) during the copy: what it wrote is removed, then it goes on up."""
    from spe.datasets._instagram_zip import _ZipDownload

    path = write(special_files(), zip_path=tmp_path / "you.zip")
    copy, calls = _ZipDownload._copy, []

    def interrupted(self, *args):
        calls.append(args[1])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return copy(self, *args)

    monkeypatch.setattr(_ZipDownload, "_copy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_instagram_export(path)
    assert len(calls) == 3 and sorted(p.name for p in tmp_path.iterdir()) == ["you.zip"]


def test_a_picture_named_by_many_posts_is_copied_once(tmp_path, monkeypatch):
    """Else each post would read it again (its CRC): 100,000 posts of one 64 MiB picture, 6 TB."""
    from spe.datasets._instagram_zip import _ZipDownload

    files = special_files()
    files[LAYOUTS["recent"][0]]["organic_insights_posts"] += _posts_of(["media/posts/202401/a.jpg"] * 5)
    path = write(files, zip_path=tmp_path / "you.zip")
    copy, calls = _ZipDownload._copy, []
    monkeypatch.setattr(_ZipDownload, "_copy", lambda self, *args: calls.append(args[1]) or copy(self, *args))
    df, _ = _load(path)
    assert len(df) == 8 and sorted(calls) == [f"media/posts/202401/{n}.jpg" for n in ("a", "c1", "k")]


# -- recognition --------------------------------------------------------------


def test_recognised_by_layout_and_read_by_load_data(tmp_path, posts):
    folder = write(special_files("old"), root=tmp_path / "d")
    zipped = write(special_files(), zip_path=tmp_path / "d.zip")
    assert is_instagram_export(folder) and is_instagram_export(zipped)
    assert not is_instagram_export(posts.attrs["directory"])
    assert not is_instagram_export(tmp_path / "missing") and not is_instagram_export("bad\x00path")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert load_data(folder)["likes"].tolist() == [80, 90, 1234]
        assert load_data(zipped)["likes"].tolist() == [80, 90, 1234]


# -- fuzzed -------------------------------------------------------------------

_text = st.text(max_size=12)
_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    _text,
    st.sampled_from(["--", "", "1,234", "12.500", "1e3", "-5", "0x1", "١٢", "9" * 40]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(_text, st.integers(), max_size=2),
)


def _mostly(valid, hostile):
    """Valid values nine times in ten, so the success path gets fuzzed too."""
    # Hostile at 9, not 0: hypothesis draws the simplest value, 0, far more than one time in ten.
    return st.integers(0, 9).flatmap(lambda roll: hostile if roll == 9 else valid)


_seconds = _mostly(st.integers(1_600_000_000, 1_800_000_000), _value)
_uri = _mostly(
    st.sampled_from(["media/posts/202401/a.jpg", "media/posts/202401/v.mp4", "media/posts/202401/x.heic"]),
    st.one_of(_value, st.sampled_from(["../a.jpg", "/a.jpg", "media/missing.jpg", "media"])),
)
_count = _mostly(
    st.fixed_dictionaries({"value": _mostly(st.integers(0, 10**6).map(str), _value)}),
    _value,
)
_thumbnail = st.fixed_dictionaries(
    {"uri": _uri, "creation_timestamp": _seconds},
    optional={"title": _mostly(_text.map(mojibake), _value)},
)
_insight_entry = st.fixed_dictionaries(
    {
        "media_map_data": _mostly(st.fixed_dictionaries({"Media Thumbnail": _thumbnail}), _value),
        "string_map_data": _mostly(
            st.fixed_dictionaries(
                {"Likes": _count},
                optional={
                    **{name: _count for name in ("Comments", "Saves", "Impressions", "Accounts reached")},
                    "Creation Timestamp": st.fixed_dictionaries({"timestamp": _seconds}),
                },
            ),
            _value,
        ),
    }
)
_post = _mostly(
    st.fixed_dictionaries(
        {
            "media": _mostly(
                st.lists(st.fixed_dictionaries({"uri": _uri, "creation_timestamp": _seconds}), max_size=3),
                _value,
            )
        },
        optional={"title": _mostly(_text.map(mojibake), _value), "creation_timestamp": _seconds},
    ),
    _value,
)


# SPE_FUZZ_EXAMPLES=2000 for a longer hunt by hand, as in tests/test_datasets_fuzz.py.
@settings(
    max_examples=int(os.environ.get("SPE_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    insights=_mostly(st.lists(_insight_entry, min_size=1, max_size=3), _value),
    posts=_mostly(st.lists(_post, max_size=3), _value),
    as_zip=st.booleans(),
)
def test_fuzz_load_instagram_export(insights, posts, as_zip):
    """Whatever the JSON holds: a valid frame, or a DataError naming the download."""
    files = {
        "media/posts/202401/a.jpg": _jpeg(),
        "media/posts/202401/v.mp4": b"\x00" * 16,
        "media/posts/202401/x.heic": b"\x00" * 16,
        LAYOUTS["recent"][0]: {"organic_insights_posts": insights},
        LAYOUTS["recent"][1]: posts,
    }
    with tempfile.TemporaryDirectory() as name:
        base = Path(name).resolve()
        path = base / ("d.zip" if as_zip else "d")
        write(files, **({"zip_path": path} if as_zip else {"root": path}))
        try:
            df, _ = _load(path)
        except DataError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc), str(exc)
            event("DataError")
            return
        event(f"a frame of {min(len(df), 2)}{'+' if len(df) >= 2 else ''} posts")
        assert len(df) >= 1 and df["likes"].dtype == np.int64 and (df["likes"] >= 0).all()
        assert df["post_index"].tolist() == list(range(1, len(df) + 1))
        assert df["timestamp"].is_monotonic_increasing and str(df["timestamp"].dt.tz) == "UTC"
        assert all(os.path.isfile(p) and Path(p).is_relative_to(base) for p in df["image"])


# -- end to end ---------------------------------------------------------------


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """The done-when account: 120 realistic posts, small pictures (32 px: the backbone's least)."""
    folder = tmp_path_factory.mktemp("account")
    return make_posts(120, directory=folder, image_size=(32, 32), realistic=True, random_state=0)


def _summary(posts):
    likes = posts["likes"]
    return (
        f"120 posts; likes mean {likes.mean():.1f}, sd {likes.std():.1f}, "
        f"min {likes.min()}, max {likes.max()}"
    )


def test_spe_fit_reads_the_zip(account, tmp_path, capsys):
    zip_path = write_instagram_download(account, tmp_path / "instagram-you.zip", as_zip=True)
    model = tmp_path / "model"
    assert main(["--quiet", "fit", str(zip_path), "--size", "8", "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert f"Pictures of {zip_path} are in {tmp_path / 'instagram-you-pictures'}" in out
    assert _summary(account) in out and "Chose " in out
    picture = next((tmp_path / "instagram-you-pictures").rglob("*.jpg"))
    assert main(["--quiet", "predict", str(model), str(picture)]) == 0


@pytest.mark.slow
def test_spe_evaluate_reads_the_folder(account, tmp_path, capsys):
    folder = write_instagram_download(account, tmp_path / "download", layout="old", top="instagram-you/")
    args = [
        "--quiet",
        "evaluate",
        str(folder),
        "--cv",
        "time",
        "--folds",
        "2",
        "--epochs",
        "1",
        "--size",
        "8",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert _summary(account) in out and "Pictures of" not in out
    assert not any(tmp_path.glob("*-pictures"))
