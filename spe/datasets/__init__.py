"""Read an account's posts into a DataFrame, or make a synthetic account.

Every reader returns a :class:`pandas.DataFrame` with one row per post in
posting order, oldest first: ``image`` (absolute path, str) and ``likes``
(int64), plus, where the source knows them, ``post_index``, ``timestamp``
(UTC), ``comments``, ``caption`` and ``followers``.

The readers live in ``_readers``, the parsing of each source's files in
``_parsing``, Instagram's own download in ``_instagram`` (its files, folder
or zip, read safely by ``_instagram_zip``) and :func:`make_posts` in ``_samples``.
"""

from ._readers import LIKES_FILE, load_csv, load_data, load_folder, load_instagram_export, load_instaloader
from ._samples import make_posts

__all__ = [
    "LIKES_FILE",
    "load_csv",
    "load_data",
    "load_folder",
    "load_instagram_export",
    "load_instaloader",
    "make_posts",
]
