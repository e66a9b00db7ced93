"""The files of an Instagram download, read safely from its folder or from the .zip Instagram sends.

A download is untrusted input: its JSON and member names come from a file
the user picked. Both sources below refuse, in one line naming the file,
what Instagram never writes: member names that leave the download (``../``,
absolute paths), symlinks, duplicate members, a member that is both a file
and the folder of another, members that expand like a zip bomb, more
members or bytes than a download holds, JSON too large, too many values
or nested too deeply, more posts than an account has, and a ``uri``
pointing outside the download. A zip is read member by member in memory;
the only files ever written are the pictures :meth:`_ZipDownload.pictures`
copies into the folder the caller names, after every check has passed, and
removed again if the copy is refused or interrupted half way.
"""

import bisect
import json
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..exceptions import DataError

#: A download's JSON files are a few megabytes; this bounds what one may expand to.
MAX_JSON_BYTES = 64 * 2**20
#: What all the JSON files read may hold together: the insights and the posts files
#: of an account of tens of thousands of posts are tens of megabytes. What is parsed
#: of them (captions, uris) stays in memory until the download is read, up to 4 bytes
#: for each byte of JSON.
MAX_JSON_TOTAL_BYTES = 2 * MAX_JSON_BYTES
#: The values one JSON file may hold, counted before parsing as its ``{``, ``[`` and
#: ``,`` (an upper bound). Parsed, a value takes up to 150 bytes whatever it took in
#: the file: 32 MB of ``{},`` are 11 million empty objects, over 4 GB once read as posts.
#: Instagram writes one value per 20 to 35 bytes (about 60 per post of the insights
#: file), so a file within MAX_JSON_BYTES holds at most about 3 million. Within both
#: bounds, one file parses in at most about 600 MB, a whole download in under 1 GB.
MAX_JSON_VALUES = 2**22
#: The posts read, from the posts files together and from the insights file: an
#: account has at most tens of thousands. Each takes about 500 bytes once read,
#: however little JSON it took (``{}``).
MAX_POSTS = 100_000
#: Instagram's pictures are at most a few megabytes.
MAX_PICTURE_BYTES = 64 * 2**20
#: The members of a zip: every picture and video posted, in a story or in a message,
#: is one, tens of thousands for a large account.
MAX_MEMBERS = 200_000
#: All the members of a zip together, uncompressed, as it declares them (zipfile
#: reads no more than declared): what a zip may make spe read or write at most.
#: A larger download is read unzipped, as a folder, whose pictures are not copied.
MAX_DOWNLOAD_BYTES = 4 * 2**30
#: JSON compresses about 10 to 30 times and pictures barely; a zip of zeros over 1000.
MAX_RATIO = 200
#: What a member may expand beyond MAX_RATIO times its compressed size. A small file
#: may compress more than MAX_RATIO times (a short JSON file of blanks) but expands
#: to little; every larger member is checked, so that many members each just under a
#: threshold of size cannot make a bomb together.
_RATIO_FLOOR = 64 * 2**10

#: Paths (from the download's root) that only an Instagram download has.
MARKERS = (
    "your_instagram_activity",
    "logged_information/past_instagram_insights",
    "past_instagram_insights",
    "content/posts_1.json",
    "content/posts_1.html",
)


def _member_problem(name):
    """Why a zip member name is not one Instagram writes, or None."""
    if "\x00" in name or "\\" in name:
        return "has a NUL or backslash in its name"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute name"
    if ".." in PurePosixPath(name).parts:
        return "has a name leaving the download ('..')"
    return None


def _relative(uri, where):
    """``uri`` as a path inside the download, or a DataError when it would leave it."""
    if not isinstance(uri, str) or not uri.strip():
        raise DataError(f"{where}: 'uri' is not a file name ({str(uri)[:40]!r})")
    problem = _member_problem(uri)
    if problem:
        raise DataError(f"{where}: uri {uri[:80]!r} points outside the download ({problem}); refused")
    return str(PurePosixPath(uri))


def _parse_json(data, where):
    # Counted before parsing: once parsed, the memory is spent (see MAX_JSON_VALUES).
    values = data.count(b"{") + data.count(b"[") + data.count(b",")
    if values > MAX_JSON_VALUES:
        raise DataError(
            f"{where}: up to {values:,} JSON values (its '{{', '[' and ','), more than the "
            f"{MAX_JSON_VALUES:,} spe parses; refused"
        )
    try:
        return json.loads(data)
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply; Instagram writes a few levels") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise DataError(f"{where}: not valid JSON ({str(exc)[:80]})") from None


def check_posts(count, where):
    """Refuse ``count`` posts read when that is more than an account has (MAX_POSTS)."""
    if count > MAX_POSTS:
        raise DataError(f"{where}: {count:,} posts read, more than the {MAX_POSTS:,} of any account; refused")


class _Download:
    """What both sources share: the JSON read so far, bounded by MAX_JSON_TOTAL_BYTES."""

    label = ""
    json_bytes = 0

    def _parse(self, data, where):
        # Not only each file: the posts files may be many, and what is parsed of them stays.
        self.json_bytes += len(data)
        if self.json_bytes > MAX_JSON_TOTAL_BYTES:
            raise DataError(
                f"{where}: the JSON files read hold more than {MAX_JSON_TOTAL_BYTES:,} bytes together; "
                "refused"
            )
        return _parse_json(data, where)


class _FolderDownload(_Download):
    """A download unzipped into a folder; every path read must stay inside it."""

    def __init__(self, folder, prefix=""):
        self.label = str(folder)
        self.root = Path(os.path.realpath(folder / prefix)) if prefix else folder
        self.prefix = prefix

    def where(self, rel):
        return str(self.root / rel)

    def _inside(self, rel):
        """The real path of ``rel``, refusing a symlink that leads out of the download."""
        real = Path(os.path.realpath(self.root / rel))
        if not real.is_relative_to(self.root):
            raise DataError(f"{self.where(rel)}: a symlink to {real}, outside the download; refused")
        return real

    def is_file(self, rel):
        return os.path.isfile(self.root / rel)

    def names_in(self, rel):
        try:
            return sorted(entry.name for entry in os.scandir(self.root / rel) if entry.is_file())
        except OSError:
            return []

    def read_json(self, rel):
        real = self._inside(rel)
        try:
            with open(real, "rb") as f:
                # Sized first: read(MAX_JSON_BYTES + 1) alone sets 64 MiB aside for a file of 2 bytes.
                data = f.read(min(os.fstat(f.fileno()).st_size, MAX_JSON_BYTES) + 1)
        except OSError as exc:
            raise DataError(f"{self.where(rel)}: cannot read ({exc.strerror or exc})") from None
        if len(data) > MAX_JSON_BYTES:
            raise DataError(f"{self.where(rel)}: more than {MAX_JSON_BYTES:,} bytes of JSON; refused")
        return self._parse(data, self.where(rel))

    def pictures(self, rels, wheres):
        """Absolute paths of the pictures, where they are in the folder."""
        paths = []
        for rel, where in zip(rels, wheres):
            real = self._inside(rel)
            if not real.is_file():
                raise DataError(
                    f"{where}: picture {rel} is not in the download; Instagram splits large "
                    "downloads into parts: unzip them all into one folder and read that"
                )
            paths.append(str(real))
        return paths

    def close(self):
        pass


class _ZipDownload(_Download):
    """The .zip Instagram sends, read in memory; only :meth:`pictures` writes, and only there."""

    def __init__(self, path, prefix=""):
        self.label = str(path)
        self.path = path
        self.prefix = prefix
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable zip file ({exc})") from None
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            self._refuse(f"{len(infos):,} members, more than the {MAX_MEMBERS:,} spe reads")
        self.members, total = {}, 0
        for info in infos:
            self._check(info)
            self.members[info.filename] = info
            total += info.file_size
        if total > MAX_DOWNLOAD_BYTES:
            self._refuse(
                f"its members expand to {total:,} bytes together, more than the {MAX_DOWNLOAD_BYTES:,} "
                "spe reads from a zip; if Instagram wrote it, unzip it and read the folder"
            )
        self._check_folders()

    def _refuse(self, what):
        self.zip.close()
        raise DataError(f"{self.path}: {what}; refused")

    def _check(self, info):
        name = info.filename
        problem = _member_problem(name)
        if problem is None and stat.S_ISLNK(info.external_attr >> 16):
            problem = "is a symlink"
        if problem is None and name in self.members:
            problem = "appears twice"
        # Every member, whatever its size: only the first _RATIO_FLOOR bytes are exempt.
        if problem is None and info.file_size > _RATIO_FLOOR + MAX_RATIO * info.compress_size:
            problem = (
                f"expands {info.file_size // max(info.compress_size, 1):,} times "
                f"({info.file_size:,} bytes): a zip bomb"
            )
        if problem:
            self._refuse(f"member {name[:120]!r} {problem}; not a download Instagram wrote")

    def _check_folders(self):
        """Refuse a file member that is also the folder of another (``a.jpg`` and ``a.jpg/b.jpg``).

        Its pictures could not both be copied out: the copy would fail half way.
        """
        names = sorted(self.members)
        for name, info in self.members.items():
            if info.is_dir():
                continue
            # The names inside ``name/`` sort right after ``name/`` itself.
            i = bisect.bisect_left(names, name + "/")
            if i < len(names) and names[i].startswith(name + "/"):
                self._refuse(
                    f"member {name[:120]!r} is a file and also the folder of {names[i][:120]!r}; "
                    "not a download Instagram wrote"
                )

    def where(self, rel):
        return f"{self.path}:{self.prefix}{rel}"

    def is_file(self, rel):
        info = self.members.get(self.prefix + rel)
        return info is not None and not info.is_dir()

    def names_in(self, rel):
        folder = f"{self.prefix}{rel}/"
        return sorted(
            m[len(folder) :] for m in self.members if m.startswith(folder) and "/" not in m[len(folder) :]
        )

    def _read(self, info, limit, where):
        if info.file_size > limit:
            raise DataError(f"{where}: {info.file_size:,} bytes, more than the {limit:,} spe reads; refused")
        try:
            with self.zip.open(info) as f:
                return f.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, NotImplementedError) as exc:
            raise DataError(f"{where}: cannot read it from the zip ({exc})") from None

    def read_json(self, rel):
        return self._parse(
            self._read(self.members[self.prefix + rel], MAX_JSON_BYTES, self.where(rel)), self.where(rel)
        )

    def pictures(self, rels, wheres, media_dir):
        """Copy the pictures into ``media_dir`` (kept with their paths in the download); their paths there.

        Every picture is looked up and size-checked before the first byte is
        written, and each member is copied once however many posts name it. A
        picture already there with the member's size and CRC is kept, so a
        second run writes nothing. A copy refused or interrupted half way, for
        whatever reason, is undone: ``media_dir`` then holds nothing new.
        """
        infos = [self._picture(rel, where) for rel, where in zip(rels, wheres)]
        media = Path(os.path.realpath(media_dir))
        # What this call writes, undone on any exception: a picture corrupt half way (a zip
        # whose sizes lie fails its CRC only once read), a name the folder cannot take,
        # a full disk, Ctrl-C.
        written, made, copied = [], [], {}
        try:
            _makedirs(media, made)
            for info, rel in zip(infos, rels):
                if info.filename not in copied:
                    copied[info.filename] = self._copy(info, rel, media, written, made)
            return [copied[info.filename] for info in infos]
        except BaseException as exc:
            _undo(written, made)
            if isinstance(exc, OSError):
                raise DataError(
                    f"{self.path}: cannot write its pictures into {media} ({exc.strerror or exc}); "
                    "pass another media_dir, or unzip the download and read the folder"
                ) from None
            raise

    def _picture(self, rel, where):
        info = self.members.get(self.prefix + rel)
        if info is None or info.is_dir():
            raise DataError(
                f"{where}: picture {rel} is not in {self.path}; Instagram splits large downloads "
                "into parts: unzip them all into one folder and read that"
            )
        if info.file_size > MAX_PICTURE_BYTES:
            raise DataError(f"{self.where(rel)}: {info.file_size:,} bytes, too large for a picture; refused")
        return info

    def _copy(self, info, rel, media, written, made):
        dest = media / rel
        _makedirs(dest.parent, made, inside=media)
        if dest.is_file() and not dest.is_symlink() and dest.stat().st_size == info.file_size:
            if _crc32(dest) == info.CRC:
                return str(dest)
        tmp = dest.with_name(f".{dest.name}.spe-partial")
        try:
            with self.zip.open(info) as src, open(tmp, "wb") as out:
                while chunk := src.read(2**20):
                    out.write(chunk)
            os.replace(tmp, dest)
            written.append(dest)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as exc:
            raise DataError(f"{self.where(rel)}: cannot read it from the zip ({exc})") from None
        finally:
            tmp.unlink(missing_ok=True)
        return str(dest)

    def close(self):
        self.zip.close()


def _undo(written, made):
    """Remove the files written and the folders made, as far as possible: the first error is the one told."""
    for path in reversed(written):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:  # not empty: something else is in it
            pass


def _makedirs(folder, made, inside=None):
    """``folder`` and its missing parents, each one made recorded in ``made``.

    With ``inside``, the folders are made only if the existing one they go
    into is really inside it: a symlink there must not lead the copy out.
    """
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        folder = folder.parent
    if inside is not None and not Path(os.path.realpath(folder)).is_relative_to(inside):
        raise DataError(f"{folder}: a symlink out of the pictures folder {inside}; refused")
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _crc32(path):
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(2**20):
            crc = zlib.crc32(chunk, crc)
    return crc


def _root_prefix(has, top_dirs):
    """``""`` when the download's files are at the top, ``"name/"`` when they sit in its one folder."""
    if any(has(marker) for marker in MARKERS):
        return ""
    if len(top_dirs) == 1:
        prefix = top_dirs[0] + "/"
        if any(has(prefix + marker) for marker in MARKERS):
            return prefix
    return None


def folder_prefix(folder):
    """The download's root inside ``folder`` (see :func:`_root_prefix`), or None if it is none."""
    try:
        top = [e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return None
    return _root_prefix(lambda rel: os.path.lexists(folder / rel), top)


def zip_prefix(names):
    """The same for the member names of a zip."""
    names = set(names)
    dirs = set()
    # Only the folders as deep as a marker inside the one folder: every folder of a name
    # 32,000 levels deep would be a gigabyte of names.
    depth = 1 + max(marker.count("/") + 1 for marker in MARKERS)
    for name in names:
        parts = name.rstrip("/").split("/", depth)[:depth]
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    top = sorted({n.split("/", 1)[0] for n in names if "/" in n.rstrip("/")})
    return _root_prefix(lambda rel: rel in names or rel in dirs, top)


def open_download(path):
    """The download at ``path`` (a folder or a .zip) and its root prefix; prefix None if not a download."""
    if os.path.isdir(path):
        prefix = folder_prefix(path)
        return (_FolderDownload(path, prefix or ""), prefix)
    source = _ZipDownload(path)
    prefix = zip_prefix(source.members)
    source.prefix = prefix or ""
    return source, prefix
