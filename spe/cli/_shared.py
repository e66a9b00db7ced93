"""What every ``spe`` command does: read and check the data, print, stage the output.

``_main`` (the parser, ``evaluate`` and ``tune``) and the command modules it
imports when their command runs (``_next``: ``fit`` and ``predict``;
``_demo``) take these from here.
"""

import contextlib
import os
import sys
import threading
from pathlib import Path

__all__ = [
    "Interrupted",
    "cnn_pipeline",
    "duration",
    "load_checked",
    "progress",
    "save_fig",
    "say",
    "staged_output",
    "step_shown",
    "stdout_gone",
    "summary",
    "ticking",
]


class Interrupted(Exception):
    """Ctrl-C in a long step: the message says how far it got (exit status 130)."""


def say(*args):
    """Print one or more lines, each with what could act on the terminal shown as escapes.

    Picture names and paths come from whoever made the files: an ANSI escape
    in one would otherwise clear the screen, and a byte that is not UTF-8
    would make ``print`` fail after the work is done.
    """
    from .._text import visible

    text = " ".join(str(arg) for arg in args)
    try:
        print("\n".join(visible(line) for line in text.split("\n")), flush=True)
    except BrokenPipeError:
        stdout_gone()


def stdout_gone():
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


def progress(total, desc, quiet, **options):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=quiet, file=sys.stderr, leave=False, **options)


@contextlib.contextmanager
def ticking(bar, every=1.0):
    """Redraw ``bar`` every ``every`` seconds while the block runs: its clock moves during a long step.

    tqdm redraws only when told; a step that reports nothing for minutes
    (the backbone embedding 674 pictures) would show a clock stopped at
    00:00, which reads as a hang.
    """
    if bar.disable:
        yield bar
        return
    stop = threading.Event()

    def tick():
        while not stop.wait(every):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield bar
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def step_shown(desc, quiet):
    """A bar naming one step under way and its time so far, gone when the step ends (``with``)."""
    with progress(None, desc, quiet, bar_format="{desc} [{elapsed}]") as bar, ticking(bar):
        yield bar


def duration(seconds):
    """``45 s``, ``3 min 40 s``, ``1 h 5 min``: a time left as a person reads it.

    Examples
    --------
    >>> duration(44.6), duration(220), duration(3900), duration(0.2)
    ('45 s', '3 min 40 s', '1 h 5 min', 'under a second')
    """
    if seconds < 0.5:
        return "under a second"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@contextlib.contextmanager
def staged_output(out, command):
    """Yield a staging folder that replaces ``out`` as a whole on success (see spe.persistence._staging).

    Entered before any work: a folder spe may not replace (a model folder,
    another command's output, a folder of the user's) is refused at once.
    """
    if out is None:
        yield None
        return
    from ..persistence._staging import staged

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


def cnn_pipeline(size=64, epochs=50, learning_rate=None, memory=None, cache_dir=None, **cnn):
    """``Pipeline([("load", ImageLoader), ("cnn", CNNLikesRegressor)])`` as the commands train it."""
    from sklearn.pipeline import Pipeline

    from .. import CNNLikesRegressor, ImageLoader
    from ..models._candidates import cache_params as _cache_params

    if learning_rate is not None:
        cnn["learning_rate"] = learning_rate
    return Pipeline(
        [
            ("load", ImageLoader(size=(size, size), **_cache_params(cache_dir))),
            ("cnn", CNNLikesRegressor(epochs=epochs, random_state=0, **cnn)),
        ],
        memory=memory,
    )


def save_fig(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)


def load_checked(path, size, cache_dir=None, quiet=True):
    """Read the posts and decode every image once, before any training.

    A bad picture then fails in a second, naming the file, rather than
    minutes into a grid search. The check keeps no decoded set in memory;
    with a cache it fills the cache, from which every fold and ``fit``
    then read their pictures without decoding them again. Unless
    ``quiet``, each step shows a bar on stderr while it runs (a large
    account's pictures take a while to decode).
    """
    from .. import ImageLoader
    from .._text import visible
    from ..datasets import load_data
    from ..models._candidates import cache_params as _cache_params

    with step_shown(f"reading {visible(str(path))}", quiet):
        data = load_data(path)
    if "media_dir" in data.attrs:  # a zip's pictures, copied where the user can see them
        say(f"Pictures of {path} are in {data.attrs['media_dir']}")
    with step_shown(f"checking {len(data)} pictures", quiet):
        ImageLoader(size=(size, size), n_jobs=-1, **_cache_params(cache_dir)).check(data)
    say(summary(data))
    return data


def too_small_for_eyes(data):
    """The note saying why the backbone's embeddings are left out, or ``None`` when every picture suits it.

    The offline backbone refuses pictures under 32 px on a side (it would
    embed the blur of an upscaled thumbnail). An account of such pictures
    can still have its trend and hand-made features: its own model leaves
    the embeddings out, and says so, rather than stop.
    """
    from ..exceptions import ImageLoadError
    from ..features._embedder import check_picture_sides

    try:
        check_picture_sides(data["image"])
    except ImageLoadError as exc:
        return f"embeddings left out: {exc}"
    return None


def summary(data):
    likes = data["likes"]
    return (
        f"{len(data)} posts; likes mean {likes.mean():.1f}, sd {likes.std():.1f}, "
        f"min {likes.min()}, max {likes.max()}"
    )


# -- commands ----------------------------------------------------------------
