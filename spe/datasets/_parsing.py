"""Private helpers of :mod:`spe.datasets`: values, paths, CSV rows, instaloader files.

Everything read from a file goes through here, so each bad value becomes a
:class:`~spe.exceptions.DataError` naming its file and line.
"""

import csv
import io
import json
import lzma
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import open_regular
from ..exceptions import DataError

_INT64_MAX = np.iinfo(np.int64).max
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif")
#: Name of the likes file in the seed project's folder format.
LIKES_FILE = "y_likes_data.txt"
_LIKES_LINE = re.compile(r"^\s*(\d+)\s*:\s*(\S+)\s*$")


def _cut(text, limit=40):
    """A value from a file, cut short so a huge one cannot flood a message."""
    s = str(text)
    return s if len(s) <= limit else s[:limit] + "..."


def _show(text, limit=40):
    return repr(_cut(text, limit))


def _parse_likes(text, where, what="like count"):
    """Parse one count (likes by default); ``where`` names the file and line for errors."""
    s = str(text).strip()
    try:
        value = int(s)
    except ValueError:
        if s.lstrip("+-").isdecimal():  # more digits than int() converts
            value = -1 if s.startswith("-") else _INT64_MAX + 1
        else:
            try:
                number = float(s)
            except ValueError:
                raise DataError(f"{where}: {what} {_show(s)} is not a number") from None
            if math.isnan(number):
                raise DataError(f"{where}: {what} is NaN") from None
            if math.isinf(number):
                raise DataError(f"{where}: {what} is infinite") from None
            if not number.is_integer():
                raise DataError(f"{where}: {what} {_show(s)} is not a whole number") from None
            value = int(number)
    if value < 0:
        raise DataError(f"{where}: {what} {_cut(s)} is negative")
    if value > _INT64_MAX:
        raise DataError(f"{where}: {what} {_cut(s)} is too large (more than int64 holds)")
    return value


def _real_path(path):
    """``path`` made absolute with ``~`` and symlinks resolved.

    Unlike ``Path.expanduser().resolve()`` this never raises for an unknown
    ``~user`` or a symlink loop (the loop then reads as a missing file); a
    NUL character, which no path can hold, is a DataError.
    """
    text = os.fspath(path)
    if "\x00" in str(text):
        raise DataError(f"{_show(text, 80)}: a path cannot contain a NUL character")
    return Path(os.path.realpath(os.path.expanduser(text)))


def _open_text(path, **kw):
    """A regular file opened as UTF-8 text (a byte-order mark dropped); a FIFO or device refused at once."""
    return io.TextIOWrapper(open_regular(path), encoding="utf-8-sig", **kw)


def _read_text(path):
    try:
        # Universal newlines (the default) turn CRLF and CR into LF.
        with _open_text(path) as f:
            return f.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _post_number(digits, where):
    try:
        number = int(digits)
    except ValueError:  # more digits than int() converts
        number = _INT64_MAX + 1
    if number > _INT64_MAX:
        raise DataError(f"{where}: post number {_show(digits)} is too large (more than int64 holds)")
    return number


def _read_csv_rows(csv_path):
    """The header and ``(line, {column: cell})`` per row; blank lines left out.

    Python's csv reader, not pandas, so each row keeps the line it starts on,
    however many blank lines or line breaks inside quoted captions came before.
    """
    rows, line = [], 0
    try:
        with _open_text(csv_path, newline="") as f:
            reader = csv.reader(f)
            header = [name.strip() for name in next(reader, [])]
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    rows.append((line, cells))
                line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise DataError(f"{csv_path}: not a UTF-8 text file ({exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"{csv_path}, line {line}: cannot parse as CSV ({exc})") from None
    except OSError as exc:
        raise DataError(f"{csv_path}: cannot read ({exc.strerror or exc})") from None
    if not header:
        raise DataError(f"{csv_path}: empty file; the first line names the columns (image,likes,...)")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise DataError(f"{csv_path}, line 1: column {twice[0]!r} appears twice")
    missing_cols = [c for c in ("image", "likes") if c not in header]
    if missing_cols:
        raise DataError(f"{csv_path}: missing column(s) {missing_cols}; found {header}")
    if not rows:
        raise DataError(f"{csv_path}: no rows")
    out = []
    for line, cells in rows:
        if len(cells) > len(header):
            raise DataError(
                f"{csv_path}, line {line}: {len(cells)} fields, but the header names {len(header)}"
            )
        out.append((line, dict(zip(header, cells + [""] * (len(header) - len(cells))))))
    return header, out


def _csv_image(cell, base, where):
    """The absolute path of a row's picture, and whether it leaves ``base``."""
    if not cell.strip():
        raise DataError(f"{where}: empty image path")
    raw = cell.strip()
    try:
        expanded = Path(os.path.expanduser(raw))
        resolved = _real_path(expanded if expanded.is_absolute() else base / expanded)
    except DataError as exc:
        raise DataError(f"{where}: image {exc}") from None
    if not os.path.isfile(resolved):
        what = "is not a regular file" if os.path.exists(resolved) else "file not found"  # a FIFO, a folder
        raise DataError(f"{where}: image {what}: {resolved}")
    return str(resolved), not expanded.is_absolute() and not resolved.is_relative_to(base)


def _csv_timestamps(cells, lines, csv_path):
    """Parse the timestamp column: dates (UTC unless they say) or Unix seconds."""
    for cell, line in zip(cells, lines):
        if not cell.strip():
            raise DataError(f"{csv_path}, line {line}: empty timestamp")

    def parse(values):
        try:
            seconds = [float(v) for v in values]
        except ValueError:
            return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="mixed")
        return pd.to_datetime(pd.Series(seconds), unit="s", utc=True)

    try:
        stamps = parse(cells)
        bad = stamps.isna().to_numpy()
    except (ValueError, TypeError, OverflowError):
        bad = []
        for cell in cells:  # one at a time, to name the line
            try:
                bad.append(bool(parse([cell]).isna().iloc[0]))
            except (ValueError, TypeError, OverflowError):
                bad.append(True)
        if not any(bad):  # each alone is fine, together they mix seconds and dates
            raise DataError(f"{csv_path}: column 'timestamp' mixes Unix seconds and dates") from None
    i = int(np.argmax(bad)) if any(bad) else None
    if i is not None:
        raise DataError(f"{csv_path}, line {lines[i]}: timestamp {_show(cells[i])} is not a date/time")
    return stamps.array


def _csv_posting_order(out, lines, csv_path):
    """Sort by timestamp (ties by post_index) or post_index; refuse when the two disagree."""
    if "post_index" in out:
        first = {}
        for index, line in zip(out["post_index"], lines):
            if index in first:
                raise DataError(
                    f"{csv_path}, line {line}: post_index {index} appears again "
                    f"(first on line {first[index]})"
                )
            first[index] = line
    keys = [c for c in ("timestamp", "post_index") if c in out]
    if not keys:
        return out
    out = out.assign(_line=lines).sort_values(keys, kind="stable").reset_index(drop=True)
    if keys == ["timestamp", "post_index"]:
        index = out["post_index"].to_numpy()
        behind = np.flatnonzero(index[1:] < index[:-1])
        if behind.size:
            before, after = out.iloc[behind[0]], out.iloc[behind[0] + 1]
            raise DataError(
                f"{csv_path}, line {after['_line']}: post_index {after['post_index']} is smaller than "
                f"post_index {before['post_index']} on line {before['_line']}, whose timestamp is earlier; "
                "'post_index' and 'timestamp' disagree about the posting order (fix one, or drop one column)"
            )
    return out.drop(columns="_line")


#: Post metadata is a few kilobytes; this bounds what a hostile .json.xz may expand to.
_MAX_METADATA_BYTES = 16 * 2**20


def _offline_context(instaloader):
    """An instaloader context that never asks Instagram for anything.

    A field missing from a file makes instaloader query Instagram for it
    (after random sleeps, with a 300 s timeout); a reader of downloaded files
    refuses instead. Instaloader documents RateController as the hook to
    override, and every query passes through it.
    """

    class _NoQueries(instaloader.RateController):
        def wait_before_query(self, query_type):
            raise instaloader.ConnectionException("not in the file, and spe does not ask Instagram")

    return instaloader.InstaloaderContext(sleep=False, quiet=True, rate_controller=_NoQueries)


def _load_post(instaloader, context, json_path):
    """The structure in one metadata file, read with a bound on its size."""
    try:
        raw = open_regular(json_path)  # a FIFO named *_UTC.json would block a plain open forever
    except OSError as exc:
        raise DataError(f"{json_path}: cannot read ({exc.strerror or exc})") from None
    try:
        with raw:
            f = lzma.open(raw) if json_path.name.endswith(".xz") else raw
            data = f.read(_MAX_METADATA_BYTES + 1)
        if len(data) > _MAX_METADATA_BYTES:
            raise ValueError(f"more than {_MAX_METADATA_BYTES:,} bytes of metadata; a post has a few kB")
        return instaloader.load_structure(context, json.loads(data.decode("utf-8")))
    except Exception as exc:  # lzma, json, recursion and instaloader errors alike
        raise DataError(f"{json_path}: corrupt instaloader metadata ({type(exc).__name__}: {exc})") from None


def _instaloader_pictures(folder):
    """``{post stem: picture}``: ``stem.jpg`` (or another extension), else the lowest ``stem_N.jpg``.

    One listing of the folder for all posts, not one per post.
    """
    exact, numbered = {}, {}
    for f in folder.iterdir():
        ext = f.suffix.lower()
        if ext not in IMAGE_EXTENSIONS or not os.path.isfile(f):
            continue
        exact.setdefault(f.stem, []).append((IMAGE_EXTENSIONS.index(ext), f.name, f))
        base, _, n = f.stem.rpartition("_")
        if base and n.isdecimal():
            numbered.setdefault(base, []).append((int(n), f.name, f))
    pictures = {stem: min(found)[2] for stem, found in numbered.items()}
    pictures.update({stem: min(found)[2] for stem, found in exact.items()})
    return pictures


def _instaloader_row(post, json_path):
    """``(likes, is_video, row)`` of one post; likes is None when hidden."""
    import instaloader

    try:
        likes, is_video = post.likes, bool(post.is_video)
        timestamp = pd.Timestamp(post.date_utc, tz="UTC")
        comments, caption = post.comments, post.caption
        hashtags, mentions = post.caption_hashtags, post.caption_mentions
        # The saved node itself, not Post.typename or Post.location, which
        # ask Instagram for a field the file lacks.
        node = instaloader.get_json_structure(post)["node"]
    except Exception as exc:  # a missing field, a wrong type, a date out of range
        raise DataError(
            f"{json_path}: incomplete instaloader metadata ({type(exc).__name__}: {exc})"
        ) from None
    if likes is None or (isinstance(likes, int) and not isinstance(likes, bool) and likes < 0):
        return None, is_video, None  # instaloader's -1: the count is hidden
    where = str(json_path)
    row = {
        "likes": _parse_likes(likes, where),
        "timestamp": timestamp,
        "comments": np.nan if comments is None else _parse_likes(comments, where, what="comment count"),
        "caption": caption,
        "hashtags": " ".join(hashtags),
        "mentions": " ".join(mentions),
        "carousel": node.get("__typename") == "GraphSidecar",
        "location": location.get("name") if isinstance(location := node.get("location"), dict) else None,
    }
    return row["likes"], is_video, row


def _read_likes_file(path):
    """``{post number: likes}`` from a seed-format likes file."""
    likes, first_line = {}, {}
    # Split on "\n" only (read_text already turned "\r\n" and "\r" into it), so
    # line numbers are an editor's, whatever form feeds or U+2028 a line holds.
    for lineno, raw in enumerate(_read_text(path).split("\n"), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}, line {lineno}"
        m = _LIKES_LINE.match(line)
        if not m:
            raise DataError(f"{where}: expected 'N: likes', got {_show(raw.strip())}")
        number = _post_number(m.group(1), where)
        if number in likes:
            raise DataError(
                f"{where}: post number {number} appears again (first on line {first_line[number]})"
            )
        likes[number] = _parse_likes(m.group(2), where)
        first_line[number] = lineno
    if not likes:
        raise DataError(f"{path}: no 'N: likes' lines found; the likes file is empty")
    return likes, first_line


def _find_likes_file(folder):
    for candidate in (folder / LIKES_FILE, folder.parent / LIKES_FILE):
        if candidate.exists():  # a FIFO or folder by that name is refused by name when read
            return candidate
    raise DataError(f"No likes file: looked for {folder / LIKES_FILE} and {folder.parent / LIKES_FILE}")


def _numbered_images(folder):
    """``{post number: path}`` of the folder's ``N.jpg`` (and other extensions) files."""
    images = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise DataError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    for f in entries:
        # isdecimal, not isdigit: int() refuses superscripts such as "²".
        if f.suffix.lower() in IMAGE_EXTENSIONS and f.stem.isdecimal() and os.path.isfile(f):
            number = _post_number(f.stem, str(f))
            if number in images:
                raise DataError(f"{folder}: two images for post {number}: {images[number].name} and {f.name}")
            images[number] = f
    return images
