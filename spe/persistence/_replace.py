"""What an existing folder holds, and whether spe may replace it with a folder of a given kind.

The checks of :mod:`spe._staging`: spe replaces only a folder it wrote (its
:data:`MARKER` file lists every file), and never one kind of folder with
another (``spe predict --out MODEL_DIR`` would otherwise replace a fitted
model with a ranking). Every refusal is one line naming the folder.
"""

import json
import os
from pathlib import Path

from ._layout import MARKER, is_model_folder

__all__ = []


#: The kinds of folder spe writes, as a refusal names them: a folder of one
#: kind is never replaced by one of another (`spe predict --out MODEL_DIR`
#: would otherwise replace a fitted model with a ranking).
_KINDS = {
    "model": "a model folder",
    "predict": "the output of spe predict",
    "evaluate": "the output of spe evaluate",
    "tune": "the output of spe tune (with its best model)",
    "demo": "the output of spe demo (with its models)",
    "older output": "an older spe's output folder holding a model folder",
}
# The model folders an output of each kind holds, to know an older spe's
# output (its marker names no kind) by them.
_MODELS_INSIDE = {"tune": {"model"}, "demo": {"model", "next-model"}}


def _tree(folder):
    """Every file and folder under ``folder``, as relative POSIX paths (links not followed)."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        out += [(rel / name).as_posix() for name in dirs + files]
    return out


def _foreign(target, is_own):
    """What in ``target`` (not empty) spe did not write, whether it is marked, and the marker's kind."""
    entries = sorted(p.name for p in target.iterdir())
    if is_own is not None and is_own(target):
        return [], False, None
    marker = target / MARKER
    try:
        if marker.is_symlink() or marker.stat().st_size > 1 << 24:
            return entries, False, None
        content = json.loads(marker.read_bytes())
        written = set(content["entries"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return entries, False, None
    kind = content.get("kind") if isinstance(content.get("kind"), str) else None
    return [path for path in sorted(_tree(target)) if path != MARKER and path not in written], True, kind


def _is_model(folder):
    try:
        return is_model_folder(folder)
    except OSError:
        return False


def _models_inside(target):
    """The model folders below ``target`` (not ``target`` itself), as relative POSIX paths."""
    found = []
    for root, _, files in os.walk(target):
        if root != str(target) and "spe.json" in files and _is_model(Path(root)):
            found.append(Path(root).relative_to(target).as_posix())
    return sorted(found)


def _kind_of(target, kind):
    """The kind of an spe folder; for one whose marker names none, worked out from its files.

    A model folder is known by its files. An older spe's output folder is of
    the command that writes model folders where it holds them (``spe tune``:
    ``model``; ``spe demo``: ``model`` and ``next-model``), so that command
    replaces it as before; one holding no model folder could be any output
    (None), and any output replaces it, as before.
    """
    if kind is not None:
        return kind
    if _is_model(target):
        return "model"
    models = set(_models_inside(target))
    if not models:
        return None
    return next((name for name, inside in _MODELS_INSIDE.items() if models == inside), "older output")


def _describe(kind):
    return _KINDS.get(kind, f"an spe folder of kind {kind!r}")


def _check_not_in_a_model(target):
    """A folder inside a model folder would make it one that no longer loads as it was saved."""
    for parent in target.parents:
        if (parent / "spe.json").is_file() and _is_model(parent):
            raise FileExistsError(
                f"{target} is inside the model folder {parent}; spe writes nothing into a model folder. "
                "Write to a folder outside it."
            )


def _check_replaceable(target, is_own, what, advice, kind=None):
    """Refuse, in one line naming ``target``, what spe may not replace with a folder of ``kind``."""
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise FileExistsError(
            f"{target} exists and is not a folder; not overwriting it. {_advice(advice, False)}"
        )
    cwd = Path.cwd().resolve()
    if cwd == target or target in cwd.parents:
        raise FileExistsError(
            f"{target} is the folder you are working in; spe replaces its output folder as a whole. "
            f"{_advice(advice, True)}"
        )
    if not any(target.iterdir()):
        return  # empty: used as is
    foreign, marked, found = _foreign(target, is_own)
    if marked or not foreign or _is_model(target):  # spe's own folder: of what kind?
        found = _kind_of(target, found)
        if kind is not None and found is not None and found != kind:
            raise FileExistsError(
                f"{target} is {_describe(found)}; spe will not replace it with {_describe(kind)}. "
                f"{_advice(advice, False)}"
            )
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    if marked:
        where = f"{target} is an spe {what}, but it also holds {shown}"
    else:
        where = f"{target} exists and is not an spe {what}: it holds {shown}"
    raise FileExistsError(
        f"{where}, which spe did not write and will not delete or overwrite. {_advice(advice, not marked)}"
    )


def _advice(advice, inside):
    """The caller's advice; a callable gets whether a new folder may go inside the target."""
    return advice(inside) if callable(advice) else advice
