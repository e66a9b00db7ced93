"""What spe reads of a model folder, and how much: plain files of known names, archives checked first.

A model folder is data from a stranger. Before anything in it is parsed,
spe checks that it holds only the plain files spe writes (no link, no
FIFO, no folder), that no file is larger than spe would read, and that no
archive (``.keras``, ``.skops``) expands past its limits or compresses like
a zip bomb. Shared by the model (:mod:`._save_load`) and its themes
(:mod:`._themes_file`).
"""

import errno
import json
import os
import stat
import zipfile

from ..exceptions import ModelLoadError
from ._layout import MARKER, META_FILE, NETWORK_FILE, SKOPS_FILE, THEMES_FILE, is_network_file
from ._staging import recover

__all__ = ["check_archive", "check_folder", "read_json", "read_regular"]

_NAMES = (META_FILE, SKOPS_FILE, NETWORK_FILE, THEMES_FILE, MARKER)

# Limits on what a model folder may make spe read: far above any model spe
# builds, far below what would fill a machine's memory.
_MAX_META_BYTES = 1 << 20
_MAX_NETWORK_BYTES = 2 << 30  # uncompressed, all archive entries together
_MAX_ENTRIES = 1000
_MAX_SKOPS_BYTES = 1 << 30
_MAX_SKOPS_ENTRIES = 20_000  # one per numpy array
_MAX_SCHEMA_BYTES = 64 << 20
_MAX_RATIO = 100  # Keras and skops store their entries uncompressed; a zip bomb compresses ~1000:1


def check_folder(folder):
    """Refuse what would make spe read outside the folder; put back a model a kill left hidden."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ModelLoadError(f"{folder} is a loop of symbolic links, not a model folder") from None
        if exc.errno != errno.ENOENT or recover(folder) is None:
            raise ModelLoadError(f"No model folder at {folder}") from None
        info = os.stat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise ModelLoadError(f"No model folder at {folder} (it is a file)")
    names = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_symlink():
                raise ModelLoadError(
                    f"{entry.path} is a symbolic link: a model folder holds plain files only, and spe "
                    "reads nothing outside it"
                )
            if not entry.is_file(follow_symlinks=False):  # a FIFO would block, a folder hide files
                raise ModelLoadError(f"{entry.path} is not a plain file; model folders hold plain files only")
            known = entry.name in _NAMES or is_network_file(entry.name)
            if not known:
                raise ModelLoadError(
                    f"{entry.path} is not part of an spe model folder; spe loads a folder that holds only "
                    "the files it wrote (move that file out)"
                )
            names.add(entry.name)
    if META_FILE not in names or not ({SKOPS_FILE, NETWORK_FILE} & names):
        raise ModelLoadError(
            f"{folder} is not an spe model folder (needs {META_FILE} and {SKOPS_FILE}, "
            f"or {NETWORK_FILE} from an older spe)"
        )
    return names


def read_regular(path, limit):
    """The bytes of a plain file of at most ``limit`` bytes; never blocks on a FIFO or a device."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a plain file")
        if info.st_size > limit:
            raise ValueError(f"{info.st_size} bytes, more than the {limit} spe reads")
        # What the file holds (plus one byte, to see it grow): read(limit) would
        # allocate the whole limit up front.
        return file.read(info.st_size + 1)


def read_json(path, limit):
    try:
        return json.loads(read_regular(path, limit))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc}") from None


def check_archive(path, kind="network", source=None):
    """Check a ``.keras`` or ``.skops`` archive's sizes from its central directory before opening it.

    ``source`` is the archive's bytes as a file object, where they were read already (errors name ``path``).

    Returns its ``config.json`` or ``schema.json``, parsed (None where Keras says what is wrong with it).
    """
    if kind == "network":
        max_entries, max_bytes, config_name, what = (_MAX_ENTRIES, _MAX_NETWORK_BYTES, "config.json", kind)
    else:
        max_entries, max_bytes, config_name, what = (
            _MAX_SKOPS_ENTRIES,
            _MAX_SKOPS_BYTES,
            "schema.json",
            kind,
        )
    try:
        with zipfile.ZipFile(path if source is None else source) as archive:
            entries = archive.infolist()
            total = sum(e.file_size for e in entries)
            if len(entries) > max_entries or total > max_bytes:
                raise ModelLoadError(
                    f"{path}: {len(entries)} archive entries expanding to {total:,} bytes, more than "
                    f"spe reads ({max_entries} entries, {max_bytes:,} bytes); not opening it"
                )
            for entry in entries:
                if entry.file_size > max(1 << 20, _MAX_RATIO * entry.compress_size):
                    raise ModelLoadError(
                        f"{path}: entry {entry.filename!r} expands {entry.compress_size:,} bytes to "
                        f"{entry.file_size:,} (a zip bomb?); spe never compresses these files, "
                        "so it does not open it"
                    )
            names = archive.namelist()
            config = b"{}"
            if config_name in names and archive.getinfo(config_name).file_size <= _MAX_SCHEMA_BYTES:
                config = archive.read(config_name)
            elif kind == "model":
                raise ModelLoadError(f"{path}: corrupt model file (no {config_name}, or one over 64 MiB)")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        archive_kind = "a .keras" if kind == "network" else "a skops"
        raise ModelLoadError(f"{path}: cannot load the {what} (not {archive_kind} archive: {exc})") from None
    try:
        return json.loads(config)
    except RecursionError:
        raise ModelLoadError(f"{path}: cannot load the {what} ({config_name} is nested too deeply)") from None
    except ValueError:
        if kind == "model":
            raise ModelLoadError(f"{path}: corrupt model file ({config_name} is not JSON)") from None
        return None
