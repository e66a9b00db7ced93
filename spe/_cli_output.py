"""What the ``spe`` commands print and where they write: safe whatever the names, the reader or ``--out``."""

import contextlib
import os
import sys
from pathlib import Path

__all__ = []


def _say(*args):
    """Print one or more lines, each with what could act on the terminal shown as escapes.

    Picture names and paths come from whoever made the files: an ANSI escape
    in one would otherwise clear the screen, and a byte that is not UTF-8
    would make ``print`` fail after the work is done.
    """
    from ._text import visible

    text = " ".join(str(arg) for arg in args)
    try:
        print("\n".join(visible(line) for line in text.split("\n")), flush=True)
    except BrokenPipeError:
        _stdout_gone()


def _stdout_gone():
    """The reader stopped reading (``spe predict ... | head -1``): the rest of the output goes nowhere.

    As the Python documentation advises (signal module, "Note on SIGPIPE"):
    stdout is pointed at devnull, so that no later print and no flush at exit
    fails again. The command then finishes its work (``--out`` is written in
    full) and exits 0: the reader stopping early is the reader's choice, not
    spe's failure, and a pipeline under ``set -o pipefail`` does not fail
    because ``head`` had enough.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file (a test's capture)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@contextlib.contextmanager
def _staged_output(out, command):
    """Yield a staging folder that replaces ``out`` as a whole on success (see spe._staging).

    Entered before any work: a folder spe may not replace (a model folder,
    another command's output, a folder of the user's) is refused at once.
    """
    if out is None:
        yield None
        return
    from ._staging import staged

    def advice(inside):
        # Inside a folder of the user's, a new folder is natural; inside a
        # file, a model folder or another command's output, it is not.
        name = f"spe-{command}"
        where = Path(out) / name if inside else Path(out).parent / name
        if not inside and where.expanduser().resolve() == Path(out).expanduser().resolve():
            where = where.with_name(f"{name}-new")
        return f"Give --out a new or empty folder, e.g. --out {where}"

    with staged(out, kind=command, advice=advice) as staging:
        yield staging
