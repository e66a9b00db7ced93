"""Read the account's own Instagram download ("Download your information", JSON format).

Layouts and variants read, each kept in a fixture of tests/test_instagram.py
(checked against public projects that parse these downloads, see
docs/user_guide/own_data.rst):

- the insights file, the only place with like counts:
  ``logged_information/past_instagram_insights/posts.json`` (recent) or
  ``past_instagram_insights/posts.json`` (older), a dict whose
  ``organic_insights_posts`` lists one entry per post;
- the posts themselves (captions, every picture of a carousel):
  ``your_instagram_activity/media/posts_N.json`` (recent),
  ``your_instagram_activity/content/posts_N.json`` or
  ``content/posts_N.json`` (older); a list of posts, or a dict wrapping
  that list; ``media`` a list or a single object; the caption on the post
  or on its first picture;
- the files at the top of the zip or folder, or inside its one folder;
- text stored as UTF-8 bytes escaped one per character (mojibake),
  decoded back; numbers as strings, ``"--"`` or empty when unknown,
  sometimes with thousands separators; keys in English or, as some
  downloads write them, in the account's language (Portuguese here).

The files themselves are read by :mod:`spe._instagram_zip`.
"""

import math
import os
import re
import warnings
import zipfile

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ._instagram_zip import MARKERS, _relative, check_posts, folder_prefix, open_download, zip_prefix
from ._parsing import IMAGE_EXTENSIONS, _parse_likes, _real_path

__all__ = ["is_instagram_export", "load_instagram_export"]

INSIGHTS_FILES = (
    "logged_information/past_instagram_insights/posts.json",
    "past_instagram_insights/posts.json",
)
POSTS_FOLDERS = ("your_instagram_activity/media", "your_instagram_activity/content", "content")
_POSTS_FILE = re.compile(r"^posts_(\d+)\.json$")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv", ".3gp")

# string_map_data keys, compared casefolded. Instagram names them in the
# account's language; the Portuguese ones are those Petrus84/orbit reads.
_FIELDS = {
    "likes": ("likes", "curtidas"),
    "comments": ("comments",),
    "reach": ("accounts reached", "reach", "contas alcançadas"),
    "impressions": ("impressions", "impressões"),
    "saves": ("saves", "salvamentos"),
}
_CREATED = ("creation timestamp", "registro de data e hora da criação")
_GROUPED = re.compile(r"^\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+$")
# 2100-01-01: a later "creation time" is not one.
_LAST_SECOND = 4_102_444_800


def _unmojibake(text):
    """Instagram's text back from its UTF-8 bytes stored one per character.

    Text that is not such bytes (a character above U+00FF, or bytes that are
    not UTF-8, such as a genuine "café") is left as it is.
    """
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _caption(value):
    return _unmojibake(value) if isinstance(value, str) and value.strip() else None


def _seconds(value, where, what="creation timestamp"):
    """Unix seconds, checked; None when absent."""
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 <= value < _LAST_SECOND:
        raise DataError(f"{where}: {what} {str(value)[:40]!r} is not a time (Unix seconds)")
    return int(value)


def _count(entry, where, what):
    """One ``string_map_data`` count: int, or NaN for ``"--"``, empty or absent."""
    if not isinstance(entry, dict):
        raise DataError(f"{where}: {what} is not an object with a 'value'")
    value = entry.get("value")
    if value is None:
        return np.nan
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DataError(f"{where}: {what} {str(value)[:40]!r} is not a number")
    text = str(value).strip()
    if text in ("", "--"):
        return np.nan
    if _GROUPED.match(text):
        text = re.sub(r"\D", "", text)
    return _parse_likes(text, where, what=what)


def _insight(post, where):
    """One ``organic_insights_posts`` entry: its thumbnail's uri, time, title, counts and whether a video."""
    if not isinstance(post, dict):
        raise DataError(f"{where}: not an object")
    media_map = post.get("media_map_data", {})
    strings = post.get("string_map_data", {})
    if not isinstance(media_map, dict) or not isinstance(strings, dict):
        raise DataError(f"{where}: media_map_data and string_map_data must be objects")
    thumb = media_map.get("Media Thumbnail")
    if thumb is None and len(media_map) == 1:  # named in the account's language
        thumb = next(iter(media_map.values()))
    if thumb is not None and not isinstance(thumb, dict):
        raise DataError(f"{where}: 'Media Thumbnail' is not an object")
    thumb = thumb or {}
    fields = {_unmojibake(str(key)).casefold(): value for key, value in strings.items()}
    counts = {}
    for name, keys in _FIELDS.items():
        key = next((k for k in keys if k in fields), None)
        counts[name] = np.nan if key is None else _count(fields[key], where, f"{name} count")
    seconds = _seconds(thumb.get("creation_timestamp"), where)
    if seconds is None:
        created = next((fields[k] for k in _CREATED if k in fields), None)
        if created is not None and not isinstance(created, dict):
            raise DataError(f"{where}: 'Creation Timestamp' is not an object")
        seconds = _seconds((created or {}).get("timestamp"), where)
    metadata = thumb.get("media_metadata")
    video = (isinstance(metadata, dict) and "video_metadata" in metadata) or str(
        post.get("media_type", "")
    ).upper() in ("VIDEO", "REEL", "REELS")
    uri = thumb.get("uri")
    return {
        "uri": None if uri is None else _relative(uri, where),
        "seconds": seconds,
        "caption": _caption(thumb.get("title")),
        "video": video,
        **counts,
    }


def _post_list(data, where):
    if isinstance(data, dict):  # some downloads wrap the list
        lists = [v for v in data.values() if isinstance(v, list)]
        data = data.get("ig_posts", lists[0] if len(lists) == 1 else None)
    if not isinstance(data, list):
        raise DataError(f"{where}: expected a list of posts")
    return data


def _post_entry(post, where):
    """A post of posts_N.json: its media uris, caption and the times that identify it."""
    if not isinstance(post, dict):
        raise DataError(f"{where}: not a post (an object with 'media')")
    media = post.get("media", [])
    media = [media] if isinstance(media, dict) else media
    if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
        raise DataError(f"{where}: 'media' is not a list of objects")
    caption = _caption(post.get("title"))
    if caption is None:
        caption = next((c for m in media if (c := _caption(m.get("title"))) is not None), None)
    times = {_seconds(post.get("creation_timestamp"), where)}
    if media:
        times.add(_seconds(media[0].get("creation_timestamp"), where))
    return {
        "uris": [_relative(m.get("uri"), where) for m in media],
        "caption": caption,
        "times": times - {None},
        "matched": False,
    }


def _read_posts(source):
    """Every post of the posts files, and indexes by media uri and by time."""
    entries, by_uri, by_time = [], {}, {}
    for folder in POSTS_FOLDERS:
        numbered = sorted(
            (int(m[1]), name) for name in source.names_in(folder) if (m := _POSTS_FILE.match(name))
        )
        for _, name in numbered:
            rel = f"{folder}/{name}"
            posts = _post_list(source.read_json(rel), source.where(rel))
            check_posts(len(entries) + len(posts), source.where(rel))  # before each takes its memory
            for number, post in enumerate(posts, start=1):
                entry = _post_entry(post, f"{source.where(rel)}, post {number}")
                entries.append(entry)
                for uri in entry["uris"]:
                    by_uri.setdefault(uri, entry)
                for seconds in entry["times"]:
                    by_time.setdefault(seconds, []).append(entry)
        if numbered:  # one layout per download; an older copy beside it would count posts twice
            break
    return entries, by_uri, by_time


def _insights_file(source):
    """The insights file's path in the download, or the one-line refusal saying why there is none."""
    for rel in INSIGHTS_FILES:
        if source.is_file(rel):
            return rel
    html = [r[:-4] + "html" for r in INSIGHTS_FILES if source.is_file(r[:-4] + "html")]
    if html:
        why = f"it is in the HTML format ({html[0]}), which spe does not read"
    elif any(source.is_file(os.path.dirname(r) + "/no-data.txt") for r in INSIGHTS_FILES):
        why = "Instagram wrote no insights in it (no-data.txt), as for a personal account"
    else:
        why = f"it has no insights file ({INSIGHTS_FILES[0]})"
    raise DataError(
        f"{source.label}: no like counts: {why}. Only the download of a professional (creator or "
        "business) account holds them, in the JSON format: request it again choosing JSON, or read the "
        "account with instaloader (spe.datasets.load_instaloader) or from a CSV of image,likes "
        "(spe.datasets.load_csv)"
    )


def _kind(uris):
    """``(first photo, number of photos)``, or ``(None, "video" | "other")``."""
    photos = [u for u in uris if os.path.splitext(u)[1].lower() in IMAGE_EXTENSIONS]
    if photos:
        return photos[0], len(photos)
    videos = any(os.path.splitext(u)[1].lower() in VIDEO_EXTENSIONS for u in uris)
    return None, "video" if videos else "other"


def _picture(insight, entry):
    """``(first photo, number of photos)`` of an insights post, or ``(None, "video" | "other")``.

    From its post in the posts files where there is one (a carousel's every
    picture, a video's own file); else from the insights' thumbnail alone,
    the number of pictures then unknown (NaN).
    """
    if entry is not None:
        entry["matched"] = True
        return _kind(entry["uris"] or [insight["uri"] or ""])
    if insight["video"]:
        return None, "video"
    photo, count = _kind([insight["uri"] or ""])
    return (photo, np.nan) if photo else (None, count)


def _rows(source, rel, posts):
    """The rows of the posts with a picture and a like count, and the counts of those skipped."""
    entries, by_uri, by_time = posts
    data = source.read_json(rel)
    listed = data.get("organic_insights_posts") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        raise DataError(
            f"{source.where(rel)}: no 'organic_insights_posts' list; not Instagram's insights file"
        )
    check_posts(len(listed), source.where(rel))
    rows, skipped = [], {"video": 0, "likes": 0, "other": []}
    for number, post in enumerate(listed, start=1):
        where = f"{source.where(rel)}, post {number}"
        insight = _insight(post, where)
        if insight["seconds"] is None:
            raise DataError(f"{where}: no creation time (Media Thumbnail creation_timestamp)")
        same_time = by_time.get(insight["seconds"], [])
        entry = by_uri.get(insight["uri"]) or (same_time[0] if len(same_time) == 1 else None)
        photo, pictures = _picture(insight, entry)
        if pictures == "video":
            skipped["video"] += 1
        elif np.isnan(insight["likes"]):
            skipped["likes"] += 1
        elif photo is None:
            skipped["other"].append(insight["uri"] or "(no uri)")
        else:
            caption = entry["caption"] if entry and entry["caption"] is not None else insight["caption"]
            counts = {k: insight[k] for k in _FIELDS}
            rows.append(
                {"image": photo, "where": where, "seconds": insight["seconds"], "caption": caption}
                | {"pictures": pictures, **counts}
            )
    skipped["likes"] += sum(not e["matched"] for e in entries)
    return rows, skipped


def _skip_warning(label, skipped, total):
    parts = [f"{skipped['video']} video(s)"] if skipped["video"] else []
    if skipped["likes"]:
        parts.append(f"{skipped['likes']} without a like count ('--', or not in the insights file)")
    if skipped["other"]:
        parts.append(f"{len(skipped['other'])} whose picture spe does not read, e.g. {skipped['other'][0]}")
    if parts:
        n = skipped["video"] + skipped["likes"] + len(skipped["other"])
        warnings.warn(
            f"{label}: skipped {n} of {total} post(s): {', '.join(parts)}", UserWarning, stacklevel=3
        )


def is_instagram_export(path):
    """Whether ``path`` is an Instagram download, as a folder or a .zip, judged by its layout.

    Cheap: it looks for the folders only Instagram's downloads have (such as
    ``your_instagram_activity/``) at the top or inside the one folder there,
    listing the zip's members without reading any.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    bool

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> is_instagram_export(folder)
    False
    >>> (folder / "your_instagram_activity" / "media").mkdir(parents=True)
    >>> is_instagram_export(folder)
    True
    """
    try:
        p = _real_path(path)
    except DataError:
        return False
    if os.path.isdir(p):
        return folder_prefix(p) is not None
    if p.suffix.lower() != ".zip" or not os.path.isfile(p):
        return False
    try:
        with zipfile.ZipFile(p) as z:
            return zip_prefix(z.namelist()) is not None
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def load_instagram_export(path, *, media_dir=None):
    """Read the account's own Instagram download ("Download your information", JSON format).

    Like counts are only in the insights file of a professional (creator
    or business) account's download, in the JSON format; a download without
    it (a personal account's, or the HTML format) is refused, saying what to
    use instead. One row per photo post with a like count, oldest first.
    A carousel uses its first picture and keeps how many it has in
    ``pictures``. Videos, posts whose like count is ``"--"`` or missing,
    and posts the insights file does not cover are skipped, with one
    warning counting them.

    The download may be the folder it unzips to or the ``.zip`` Instagram
    sends. A zip is read in memory, never extracted: only the pictures of
    the rows returned are copied out, into ``media_dir``, because spe's
    models read pictures from files, again on every fit and in every
    report, and a temporary copy would be gone by then. Pictures already
    there with the same content are not written again.

    Parameters
    ----------
    path : str or path-like
        The download: a folder, or a ``.zip`` file.
    media_dir : str or path-like, default=None
        Only for a zip: the folder for its pictures, kept with their paths
        in the download (``media/posts/...``). Default: beside the zip,
        named after it, ``instagram-you-2024-01-01.zip`` →
        ``instagram-you-2024-01-01-pictures/``.

    Returns
    -------
    DataFrame
        ``image`` (absolute path), ``likes``, ``post_index``, ``timestamp``
        (UTC), ``caption``, ``pictures`` (the post's number of pictures;
        missing for a post the posts files do not hold) and the other
        insights, ``comments``, ``reach`` (accounts reached),
        ``impressions`` and ``saves``, missing where Instagram shows
        ``"--"``. Like the likes, these are counted after posting: a model
        must never be fed them as features (spe's models take only the
        ``image``, ``timestamp`` and ``caption`` columns).
        ``DataFrame.attrs["media_dir"]`` is the folder the pictures of a
        zip were copied to.

    Raises
    ------
    spe.exceptions.DataError
        If the download has no insights file, a value is invalid, or the
        download is not one Instagram writes (member names leaving it,
        symlinks, a zip bomb, a ``uri`` outside it, JSON nested too deeply,
        more posts, members or bytes than a download holds): one line naming
        the file, and for a zip nothing written.
    ValueError
        If ``media_dir`` is given for a folder.

    Warns
    -----
    UserWarning
        Counting the posts skipped: videos, no like count, or a picture
        format spe does not read.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from PIL import Image
    >>> from spe.datasets import load_instagram_export
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "media/posts/202401").mkdir(parents=True)
    >>> Image.new("RGB", (8, 8), "red").save(root / "media/posts/202401/a.jpg")
    >>> insights = root / "logged_information/past_instagram_insights"
    >>> insights.mkdir(parents=True)
    >>> post = {
    ...     "media_map_data": {"Media Thumbnail": {"uri": "media/posts/202401/a.jpg",
    ...         "creation_timestamp": 1704103200, "title": "Caf\\u00c3\\u00a9 time"}},
    ...     "string_map_data": {"Likes": {"value": "80"}, "Saves": {"value": "--"}},
    ... }
    >>> _ = (insights / "posts.json").write_text(json.dumps({"organic_insights_posts": [post]}))
    >>> posts = load_instagram_export(root)
    >>> posts[["likes", "caption"]].to_dict("records")
    [{'likes': 80, 'caption': 'Café time'}]
    >>> str(posts["timestamp"].iloc[0])
    '2024-01-01 10:00:00+00:00'
    """
    root = _real_path(path)
    if not os.path.exists(root):
        raise DataError(f"No such file or folder: {root}")
    folder = os.path.isdir(root)
    if folder and media_dir is not None:
        raise ValueError("media_dir is for a .zip download; a folder's pictures are read where they are")
    source, prefix = open_download(root)
    try:
        if prefix is None:
            raise DataError(f"{root}: not an Instagram download (none of {', '.join(MARKERS)} in it)")
        rows, skipped = _rows(source, _insights_file(source), _read_posts(source))
        total = len(rows) + skipped["video"] + skipped["likes"] + len(skipped["other"])
        if not rows:
            raise DataError(f"{source.label}: no photo post with a like count among its {total} post(s)")
        rows.sort(key=lambda row: row["seconds"])
        rels, wheres = [r["image"] for r in rows], [r["where"] for r in rows]
        if folder:
            images = source.pictures(rels, wheres)
        else:
            media_dir = _real_path(
                root.with_name(root.stem + "-pictures") if media_dir is None else media_dir
            )
            images = source.pictures(rels, wheres, media_dir)
    finally:
        source.close()
    _skip_warning(source.label, skipped, total)
    return _frame(rows, images, None if folder else str(media_dir))


def _frame(rows, images, media_dir):
    out = pd.DataFrame(rows).drop(columns="where")
    out["image"] = images
    out.insert(1, "likes", out.pop("likes").astype(np.int64))
    out.insert(2, "post_index", np.arange(1, len(out) + 1, dtype=np.int64))
    out.insert(3, "timestamp", pd.to_datetime(out.pop("seconds"), unit="s", utc=True))
    for name in ("pictures", "comments", "reach", "impressions", "saves"):
        values = pd.to_numeric(out[name])
        out[name] = values.astype(np.int64) if values.notna().all() else values.astype(float)
    if media_dir is not None:
        out.attrs["media_dir"] = media_dir
    return out
