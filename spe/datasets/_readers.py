"""Read an account's posts into a DataFrame.

Every reader returns a :class:`pandas.DataFrame` with one row per post in
posting order, oldest first: ``image`` (absolute path, str) and ``likes``
(int64), plus, where the source knows them, ``post_index``, ``timestamp``
(UTC), ``comments``, ``caption`` and ``followers``.
"""

import os
import warnings

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ._instagram import is_instagram_export, load_instagram_export
from ._parsing import (
    IMAGE_EXTENSIONS,
    LIKES_FILE,
    _csv_image,
    _csv_posting_order,
    _csv_timestamps,
    _find_likes_file,
    _instaloader_pictures,
    _instaloader_row,
    _load_post,
    _numbered_images,
    _offline_context,
    _parse_likes,
    _read_csv_rows,
    _read_likes_file,
    _real_path,
)

__all__ = ["LIKES_FILE", "load_csv", "load_data", "load_folder", "load_instagram_export", "load_instaloader"]

_CSV_OPTIONAL = ("timestamp", "comments", "caption", "followers", "post_index")


def load_folder(path):
    """Read the seed project's format: numbered images and a likes file.

    Images are named ``1.jpg`` … ``n.jpg`` (also ``.jpeg``, ``.png``,
    ``.webp``), the number being the posting order. Likes are in
    ``y_likes_data.txt``, in the image folder or the folder above it, one
    ``N: likes`` line per image; blank lines and ``#`` comments are allowed,
    as are Windows line endings and a byte-order mark.

    Parameters
    ----------
    path : str or path-like
        The image folder.

    Returns
    -------
    DataFrame
        Columns ``image``, ``likes``, ``post_index``, sorted by
        ``post_index``.

    Raises
    ------
    spe.exceptions.DataError
        If the folder or likes file is missing or malformed, or an image
        has no likes line or a likes line has no image; the message names
        the file and line.

    Examples
    --------
    >>> import tempfile
    >>> from spe.datasets import make_posts, load_folder
    >>> folder = tempfile.mkdtemp()
    >>> _ = make_posts(5, directory=folder, random_state=0)
    >>> load_folder(folder).columns.tolist()
    ['image', 'likes', 'post_index']
    """
    folder = _real_path(path)
    if not folder.is_dir():
        raise DataError(f"Not a folder: {folder}")
    images = _numbered_images(folder)
    likes_path = _find_likes_file(folder)
    if not images:
        raise DataError(
            f"{folder}: no numbered images (1.jpg, 2.jpg, ...; extensions {', '.join(IMAGE_EXTENSIONS)})"
        )
    likes, first_line = _read_likes_file(likes_path)
    missing = sorted(set(images) - set(likes))
    if missing:
        raise DataError(
            f"{likes_path}: no likes line for image {images[missing[0]].name}"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
        )
    orphans = sorted(set(likes) - set(images))
    if orphans:
        n = orphans[0]
        raise DataError(
            f"{likes_path}, line {first_line[n]}: likes for post {n} but no image "
            f"{n}.jpg (or .jpeg/.png/.webp) in {folder}"
            + (f"; {len(orphans) - 1} more such lines" if len(orphans) > 1 else "")
        )
    order = sorted(images)
    return pd.DataFrame(
        {
            "image": [str(images[n]) for n in order],
            "likes": np.array([likes[n] for n in order], dtype=np.int64),
            "post_index": np.array(order, dtype=np.int64),
        }
    )


def load_csv(path):
    """Read posts from a CSV file.

    Required columns: ``image`` (a path, relative to the CSV's folder or
    absolute) and ``likes``. Optional, passed through when present:

    - ``timestamp``: when the post went up, a date and time (UTC unless it
      names a zone) or Unix seconds.
    - ``caption``: its text, from which :class:`~spe.PostFeatures` counts
      words, hashtags, mentions and emoji.
    - ``followers``: the account's follower count when the post went up
      (whole numbers, empty when unknown).
    - ``comments``: kept for looking at the account, never a feature: it
      is counted after posting, with the likes.
    - ``post_index``: the posting order (whole numbers, one per post).

    Other columns are dropped. Rows are put in posting order by
    ``timestamp`` (or ``post_index``) when present, else kept in file
    order; when both are there they must agree.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    DataFrame
        ``image`` (absolute paths), ``likes``, ``post_index`` and the
        optional columns present in the file.

    Raises
    ------
    spe.exceptions.DataError
        If a column is missing or named twice, a value is invalid, an image
        file does not exist, or ``post_index`` and ``timestamp`` order the
        posts differently; the message names the file and line.

    Warns
    -----
    UserWarning
        If relative image paths point outside the CSV's folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from spe.datasets import make_posts, load_csv
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> posts = make_posts(3, directory=folder / "images", random_state=0)
    >>> posts[["image", "likes"]].to_csv(folder / "posts.csv", index=False)
    >>> load_csv(folder / "posts.csv")["likes"].tolist() == posts["likes"].tolist()
    True
    """
    csv_path = _real_path(path)
    if not csv_path.exists():  # a FIFO or folder is refused by name when read, at once
        raise DataError(f"CSV file not found: {csv_path}")
    header, rows = _read_csv_rows(csv_path)
    base = csv_path.parent
    columns = {c: [] for c in ("image", "likes", *(c for c in _CSV_OPTIONAL if c in header))}
    outside, lines = [], []
    for line, row in rows:
        where = f"{csv_path}, line {line}"
        image, leaves = _csv_image(row["image"], base, where)
        if leaves:
            outside.append(row["image"].strip())
        if not row["likes"].strip():
            raise DataError(f"{where}: like count is empty")
        columns["image"].append(image)
        columns["likes"].append(_parse_likes(row["likes"], where))
        for name in ("comments", "followers", "post_index"):
            if name in columns:
                cell = row[name].strip()
                if not cell and name == "post_index":
                    raise DataError(f"{where}: post_index is empty")
                columns[name].append(_parse_likes(cell, where, what=name) if cell else np.nan)
        for name in ("timestamp", "caption"):
            if name in columns:
                columns[name].append(row[name] if row[name].strip() or name == "timestamp" else None)
        lines.append(line)
    if outside:
        warnings.warn(
            f"{csv_path}: {len(outside)} relative image path(s) point outside the "
            f"CSV's folder {base}, e.g. {outside[0]!r}",
            UserWarning,
            stacklevel=2,
        )
    if "timestamp" in columns:
        columns["timestamp"] = _csv_timestamps(columns["timestamp"], lines, csv_path)
    out = pd.DataFrame(columns)
    out["likes"] = out["likes"].astype(np.int64)
    for name in ("comments", "followers", "post_index"):
        if name in out and out[name].notna().all():
            out[name] = out[name].astype(np.int64)
    out = _csv_posting_order(out, lines, csv_path)
    if "post_index" not in out:
        out["post_index"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def load_instaloader(path, *, include_videos=False, missing_image="raise"):
    """Read a profile folder downloaded with instaloader.

    Metadata files (``{date}_UTC.json.xz`` or ``.json``) are read with
    instaloader's own :func:`instaloader.load_structure`, so its JSON layout
    need not be known here. Only the files are read: a field missing from
    a file is an error, never a query to Instagram. Needs the optional
    extra ``spe[instagram]``.

    Parameters
    ----------
    path : str or path-like
        The profile folder.
    include_videos : bool, default=False
        Keep video posts, using their thumbnail image when it was
        downloaded. By default they are skipped.
    missing_image : {"raise", "skip"}, default="raise"
        What to do with a post whose picture is not in the folder.

    Returns
    -------
    DataFrame
        ``image``, ``likes``, ``post_index``, ``timestamp``, ``comments``,
        ``caption``, ``hashtags`` and ``mentions`` (lowercased, without
        ``#`` or ``@``, separated by spaces, as instaloader finds them in
        the caption), ``carousel`` (several pictures in one post) and
        ``location`` (its name, missing where none was tagged), oldest
        post first. A carousel uses its first image.

        Apart from ``likes`` and ``comments``, these are known before the
        post goes up, so a model may use them for a post being planned
        (see :class:`~spe.PostFeatures`). ``comments`` is kept for looking
        at the account, but it is counted after posting, with the likes,
        so it is never a feature: a model fed the comments of the post it
        predicts reads the answer from them.

    Raises
    ------
    ImportError
        If instaloader is not installed.
    spe.exceptions.DataError
        If a metadata file is corrupt or incomplete, a post has both a
        ``.json`` and a ``.json.xz`` file, a post's image is missing (with
        ``missing_image="raise"``) or no posts are left.

    Warns
    -----
    UserWarning
        Naming how many posts were dropped because their like count is
        hidden (instaloader reports -1), or skipped as videos.

    Examples
    --------
    >>> from spe.datasets import load_instaloader
    >>> load_instaloader("my_profile")  # doctest: +SKIP
    """
    try:
        import instaloader
    except ImportError:
        raise ImportError("load_instaloader needs instaloader: pip install 'spe[instagram]'") from None
    if missing_image not in ("raise", "skip"):
        raise ValueError(f"missing_image must be 'raise' or 'skip', got {missing_image!r}")
    folder = _real_path(path)
    if not folder.is_dir():
        raise DataError(f"Not a folder: {folder}")
    context = _offline_context(instaloader)
    pictures = _instaloader_pictures(folder)
    rows, hidden, videos, no_image, seen = [], 0, 0, [], {}
    metadata = sorted(folder.glob("*_UTC.json.xz")) + sorted(folder.glob("*_UTC.json"))
    for json_path in metadata:
        stem = json_path.name.removesuffix(".xz").removesuffix(".json")
        if stem in seen:
            raise DataError(f"{json_path}: the same post as {seen[stem].name}; keep one of the two files")
        seen[stem] = json_path
        post = _load_post(instaloader, context, json_path)
        if not isinstance(post, instaloader.Post):
            continue
        likes, is_video, row = _instaloader_row(post, json_path)
        if likes is None:
            hidden += 1
            continue
        if is_video and not include_videos:
            videos += 1
            continue
        image = pictures.get(stem)
        if image is None:
            if missing_image == "raise":
                raise DataError(
                    f"{json_path}: no image for this post in {folder} (looked for "
                    f"{stem}.jpg and {stem}_1.jpg ...); pass missing_image='skip' to drop it"
                )
            no_image.append(stem)
            continue
        rows.append({"image": str(image), **row})
    if hidden:
        warnings.warn(
            f"{folder}: dropped {hidden} post(s) whose like count is hidden", UserWarning, stacklevel=2
        )
    if videos:
        warnings.warn(f"{folder}: skipped {videos} video post(s)", UserWarning, stacklevel=2)
    if no_image:
        warnings.warn(
            f"{folder}: skipped {len(no_image)} post(s) with no image, e.g. {no_image[0]}",
            UserWarning,
            stacklevel=2,
        )
    if not rows:
        raise DataError(
            f"{folder}: no usable posts (no '*_UTC.json.xz' or '*_UTC.json' metadata with images)"
        )
    out = pd.DataFrame(rows).sort_values("timestamp", kind="stable").reset_index(drop=True)
    out["likes"] = out["likes"].astype(np.int64)
    out.insert(2, "post_index", np.arange(1, len(out) + 1, dtype=np.int64))
    return out


def load_data(path):
    """Read posts from any supported source, detected from ``path``.

    A ``.csv`` file goes to :func:`load_csv`; Instagram's own download, a
    ``.zip`` file or a folder laid out as one (``your_instagram_activity/``
    ...), to :func:`load_instagram_export`; a folder with ``*_UTC.json``
    or ``*_UTC.json.xz`` metadata to :func:`load_instaloader`; any other
    folder to :func:`load_folder`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    DataFrame

    Raises
    ------
    spe.exceptions.DataError
        If ``path`` does not exist or its format is not recognised.

    Examples
    --------
    >>> import tempfile
    >>> from spe.datasets import make_posts, load_data
    >>> folder = tempfile.mkdtemp()
    >>> len(load_data(make_posts(4, directory=folder).attrs["directory"]))
    4
    """
    p = _real_path(path)
    if p.suffix.lower() == ".csv" and os.path.exists(p) and not os.path.isdir(p):
        return load_csv(p)
    # spe reads no other zip, so any .zip goes to the download's reader, which says what it lacks.
    if (p.suffix.lower() == ".zip" and os.path.isfile(p)) or is_instagram_export(p):
        return load_instagram_export(p)
    if os.path.isdir(p):
        if any(p.glob("*_UTC.json.xz")) or any(p.glob("*_UTC.json")):
            return load_instaloader(p)
        return load_folder(p)
    if not os.path.exists(p):
        raise DataError(f"No such file or folder: {p}")
    raise DataError(
        f"{p}: not a recognised data source (a .csv file, a folder of numbered "
        "images with y_likes_data.txt, an instaloader profile folder, or Instagram's own download)"
    )
