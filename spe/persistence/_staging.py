"""Write a folder so that no crash, kill or second writer can break it.

One mechanism for every folder spe writes: model folders
(:func:`spe.persistence.save_model`) and the command line's ``--out``.

- The new content is written into a hidden staging folder beside the target
  and published in one step: on Linux ``renameat2(RENAME_EXCHANGE)`` swaps it
  with the old folder atomically, so at every moment the path holds the
  complete old or the complete new content. Where the OS offers no swap, the
  old folder is renamed away and the new one in; a kill between the two
  renames leaves ``.NAME.old-xxxxxxxx``, which :func:`recover` puts back.
- Only a folder that spe wrote is replaced: it holds the marker file
  :data:`MARKER`, which lists every file spe wrote there and the folder's
  kind (a model, or the output of which command), and nothing else (or a
  caller's own test says so, e.g. an older model folder). An empty folder
  is used as is; anything else is refused with an error naming what spe did
  not write. Nothing spe did not write is deleted, and no folder is replaced
  by one of another kind (see :mod:`spe._replace`).
- A lock file beside the target (``.NAME.spe-lock``, held with ``flock`` and
  released by the OS when the process dies) lets one writer at a time in; a
  second one fails at once, saying who holds it.
- Staging folders and old copies left by a killed run are removed (or, for
  an old copy whose target is missing, put back) by the next writer.
"""

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path

from ._layout import MARKER
from ._replace import _check_not_in_a_model, _check_replaceable, _tree

__all__ = ["MARKER", "recover", "reserve", "staged"]

_STAGING = "spe-staging-"
# Leftovers of a killed run, by the name after ".NAME.": this spe's staging
# folders, and older spe's (tempfile.mkdtemp: 8 random characters) ones.
_LEFTOVER = re.compile(r"(spe-staging-|saving-|writing-)[a-z0-9_]{8}")
_OLD = re.compile(r"old-[0-9a-f]{8}")

_held = {}  # (lock path, thread) -> [fd, depth]: the locks this process holds
_held_guard = threading.Lock()


# -- atomic renames ------------------------------------------------------------

_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2


def _load_renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_renameat2 = _load_renameat2()


def _rename2(src, dst, flags):
    """``renameat2``; False where the OS or file system does not offer it."""
    if _renameat2 is None:
        return False
    if _renameat2(-100, os.fsencode(src), -100, os.fsencode(dst), flags) == 0:  # -100: AT_FDCWD
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(src), None, str(dst))


def _publish(new, target):
    """Put folder ``new`` at ``target``; the old content, if any, is deleted after."""
    if not os.path.lexists(target):
        if not _rename2(new, target, _RENAME_NOREPLACE):
            os.rename(new, target)
    elif _rename2(new, target, _RENAME_EXCHANGE):
        shutil.rmtree(new, ignore_errors=True)  # now the old content; a leftover goes next time
    else:
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
        try:
            os.rename(new, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(target.parent)


def _fsync_tree(folder):
    """Flush the staged files to disk, so a power cut cannot publish empty files."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(root)


def _fsync_dir(path):
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the lock ------------------------------------------------------------------


def _try_lock(fd):
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


def _open_lock(path, target):
    """The lock file's descriptor; a folder spe cannot write is named as the user gave it.

    The lock file is spe's own hidden name beside ``target``: an error naming
    it would leave the user wondering what ``.NAME.spe-lock`` is.
    """
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, *_FULL):
            raise
        raise type(exc)(exc.errno, f"cannot write {target}: {exc.strerror} (in {target.parent})") from None


@contextlib.contextmanager
def _lock(target, what):
    path = target.with_name(f".{target.name}.spe-lock")
    # Per thread: another thread of this process is another writer.
    key = (str(path), threading.get_ident())
    with _held_guard:
        if key in _held:  # this thread holds it already (save_model inside spe fit)
            _held[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    while True:
        fd = _open_lock(path, target)
        try:
            _try_lock(fd)
        except OSError:
            try:
                holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown"
            except OSError:  # Windows: the holder's locked byte cannot be read
                holder = "unknown"
            os.close(fd)
            raise BlockingIOError(
                f"another spe (process {holder}) is writing {target}; its result will be one whole "
                f"{what}. Wait for it to finish, or write to another folder."
            ) from None
        # The file may have been unlinked by its last holder between our open
        # and our lock: then the lock guards nothing, so take a fresh file.
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    with contextlib.suppress(OSError):  # on a full disk: the lock holds, a second writer says "unknown"
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    with _held_guard:
        _held[key] = [fd, 1]
    try:
        yield
    finally:
        with _held_guard:
            del _held[key]
        with contextlib.suppress(OSError):
            os.unlink(path)  # before unlocking: a waiting writer then retries on a fresh file
        os.close(fd)


# -- checks and leftovers ---------------------------------------------------------


def recover(target):
    """Put back a folder that a killed swap left as ``.NAME.old-xxxxxxxx``, saying so.

    An older spe replaced a model folder with two renames (old one away, new
    one in); a kill between them left no folder at the path, only the hidden
    old copy. Nothing is done if the folder exists or another process is
    writing it.

    Parameters
    ----------
    target : str or path-like
        The folder's path.

    Returns
    -------
    pathlib.Path or None
        The hidden folder that was put back, or None.

    Warns
    -----
    UserWarning
        When a folder was put back.

    Examples
    --------
    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> parent = Path(tempfile.mkdtemp())
    >>> (parent / ".model.old-0123abcd").mkdir()
    >>> with warnings.catch_warnings(record=True):
    ...     recover(parent / "model").name
    '.model.old-0123abcd'
    >>> (parent / "model").is_dir()
    True
    """
    target = _resolve(target)
    if os.path.lexists(target):
        return None
    try:
        with _lock(target, "folder"):
            restored = _put_back(target)
    except OSError:  # being written by another process, or a read-only folder
        return None
    if restored is not None:
        warnings.warn(
            f"{target} was missing: an spe was stopped while replacing it. "
            f"Put the previous version back from {restored.name}.",
            stacklevel=2,
        )
    return restored


def _put_back(target):
    olds = [p for p in _siblings(target) if _OLD.fullmatch(p.name[len(target.name) + 2 :]) and p.is_dir()]
    for old in sorted(olds, key=lambda p: p.stat().st_mtime, reverse=True):
        if os.path.lexists(target):
            break
        if not _rename2(old, target, _RENAME_NOREPLACE):
            os.rename(old, target)
        return old
    return None


def _siblings(target):
    prefix = f".{target.name}."
    try:
        return [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []


def _clean_leftovers(target):
    """Remove a killed run's staging folders and old copies (the caller holds the lock)."""
    recover(target)
    for path in _siblings(target):
        rest = path.name[len(target.name) + 2 :]
        if (_LEFTOVER.fullmatch(rest) or _OLD.fullmatch(rest)) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


# -- public ----------------------------------------------------------------------


@contextlib.contextmanager
def reserve(target, *, kind=None, is_own=None, what="output folder", advice=""):
    """Claim ``target`` for writing: one writer at a time, and only over spe's own folder.

    Checks at once (before any long work) that ``target`` is missing, empty,
    marked as spe's, or passes ``is_own``; holds the lock until the block
    ends; cleans a killed run's leftovers. Nested claims of the same target
    in one process share the lock.

    Parameters
    ----------
    target : str or path-like
    kind : str, default=None
        What spe writes there: ``"model"`` or the command (``"predict"``,
        ``"evaluate"``, ``"tune"``, ``"demo"``). A folder of another kind is
        not replaced, nor an older spe's folder holding a model folder
        unless ``kind`` writes model folders at those places. None: no check
        of kinds.
    is_own : callable, default=None
        ``is_own(path) -> bool``: True for a folder spe wrote without a marker
        (an older spe's model folder).
    what : str, default="output folder"
        What the folder is, for messages.
    advice : str or callable, default=""
        What to do instead, appended to a refusal; a callable is called
        with True where a new folder could go inside ``target`` (a folder of
        the user's) and False where it should go beside it (a file, a model
        folder, another kind of output).

    Yields
    ------
    pathlib.Path
        The resolved target.

    Raises
    ------
    FileExistsError
        If ``target`` holds content spe did not write, or is spe's folder of
        another kind.
    BlockingIOError
        If another process is writing ``target``.
    PermissionError
        If ``target``'s folder cannot be written; the message names ``target``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with reserve(Path(tempfile.mkdtemp()) / "out") as target:
    ...     target.name
    'out'
    """
    target = _resolve(target)
    if kind is not None:  # before the lock file and staging folder, which would go inside it
        _check_not_in_a_model(target)
    with _naming(target):
        target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target, what):
        _clean_leftovers(target)
        _check_replaceable(target, is_own, what, advice, kind)
        yield target


@contextlib.contextmanager
def staged(target, *, kind=None, is_own=None, what="output folder", advice=""):
    """Yield an empty staging folder that replaces ``target`` as a whole on success.

    On an exception the staging folder is deleted and ``target`` is left as
    it was. On success the staged folder gets the :data:`MARKER` file (with
    ``kind``), is flushed to disk and published atomically (see the
    module's notes). Parameters as in :func:`reserve`. A full disk's error
    names ``target``, not the hidden staging folder.

    Yields
    ------
    pathlib.Path
        The staging folder to write into.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> with staged(out) as folder:
    ...     _ = (folder / "report.txt").write_text("hello")
    >>> sorted(p.name for p in out.iterdir())
    ['.spe-output', 'report.txt']
    """
    with reserve(target, kind=kind, is_own=is_own, what=what, advice=advice) as target:
        with _naming(target):
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{_STAGING}"))
        try:
            with _naming(target, staging):
                yield staging
                _mark(staging, kind)
                _fsync_tree(staging)
            _check_replaceable(target, is_own, what, advice, kind)  # nothing appeared meanwhile
            _publish(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _mark(staging, kind):
    """Write the marker: proof that spe wrote the folder, its kind and every file in it."""
    marker = {
        "written_by": "spe",
        "kind": kind,  # what a later run may replace it with
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "entries": sorted(_tree(staging)),  # what a later run may replace
    }
    (staging / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


@contextlib.contextmanager
def _naming(target, staging=None):
    """A full disk's error, which names no file or a hidden staging one, names ``target`` instead.

    ``write`` and ``close`` report ENOSPC without a file name, and the files
    being written live in the staging folder, a name the user never gave.
    An error naming a file outside the staging folder already says where.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        where = target
        if staging is not None and exc.filename is not None:
            name = Path(os.fsdecode(exc.filename))
            if not name.is_relative_to(staging):
                raise
            where = target / name.relative_to(staging)
        raise type(exc)(
            exc.errno, f"{exc.strerror} while writing {where}; nothing was written there"
        ) from None


def _resolve(target):
    path = Path(target).expanduser()
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise FileExistsError(f"{path} cannot be resolved ({exc}); not writing there") from None
