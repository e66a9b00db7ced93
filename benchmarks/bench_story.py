"""One account's story, timed: ``spe evaluate``, ``spe evaluate --compare`` and ``spe fit``.

Run by hand, on an idle machine::

    python benchmarks/bench_story.py [--posts 674] [--picture 1080] [--size 64]
                                     [--data FOLDER] [--today /path/to/old/checkout] [--limit 900]

Makes a realistic synthetic account (``make_posts(674, realistic=True,
image_size=(1080, 1080))``: 1080 px JPEGs, the size Instagram keeps) or
takes ``--data`` (a folder, CSV or download any ``spe`` command reads: the
development account, say), then runs each command in a fresh process, as
a person types it, with ``--size 64``, and prints its wall-clock seconds
beside the goal. ``--today PATH`` runs the same commands with the code of
another checkout (``PYTHONPATH=PATH``, e.g. ``git worktree add /tmp/today
<commit>``) in the same run, one after the other; a command that runs past
``--limit`` seconds is stopped and shown as ``> limit`` (``spe evaluate
--compare`` refitted every candidate at every post before issue 36: over
30 minutes on a 674-post account).

Goals (issue 36): ``spe evaluate`` at most 90 s, ``--compare`` at most 5
minutes, ``spe fit`` at most 60 s, on 2 cores.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
GOALS = {"evaluate": 90, "evaluate --compare": 300, "fit": 60}


def _command(name, data, out, size):
    if name == "fit":
        return ["fit", str(data), "--out", str(out / "model"), "--size", str(size)]
    extra = ["--compare"] if name.endswith("--compare") else []
    return ["evaluate", str(data), *extra, "--out", str(out / name.replace(" ", "")), "--size", str(size)]


def _run(name, data, size, code, limit):
    """Seconds of one command in a fresh process with ``code`` first on the path, or None past ``limit``.

    Also its output.
    """
    env = {**os.environ, "PYTHONPATH": str(code), "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-m", "spe.cli", "--quiet", *_command(name, data, Path(out), size)]
        started = time.perf_counter()
        try:
            # Run from the output folder: ``python -m`` puts the working folder first on the path,
            # and from a checkout that would import its spe, whatever PYTHONPATH says.
            run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=limit, cwd=out)
        except subprocess.TimeoutExpired:
            return None, ""
        seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{run.stderr[-2000:]}")
    return seconds, run.stdout


def _which(code):
    """The ``spe`` package a command run with ``code`` first on the path imports (run from /)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    find = [sys.executable, "-c", "import spe; print(spe.__file__)"]
    return subprocess.run(find, env=env, capture_output=True, text=True, cwd="/").stdout.strip()


def _account(args, folder):
    if args.data:
        return Path(args.data)
    from spe.datasets import make_posts

    side = args.picture
    make_posts(args.posts, directory=folder, image_size=(side, side), realistic=True, random_state=0)
    return Path(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=674)
    parser.add_argument("--picture", type=int, default=1080, help="side of the generated JPEGs")
    parser.add_argument("--size", type=int, default=64, help="--size of the commands")
    parser.add_argument("--data", help="an account to read instead of a generated one")
    parser.add_argument("--today", help="another checkout to time beside this one")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds before a command is stopped")
    parser.add_argument("--show", action="store_true", help="print each command's output")
    parser.add_argument(
        "--only",
        default=",".join(GOALS),
        help=f"the commands to time, comma-separated (default: {', '.join(GOALS)})",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = _account(args, folder)
        print(f"account: {data} ({'given' if args.data else f'{args.posts} posts, {args.picture} px JPEGs'})")
        print(f"{os.cpu_count()} cores; commands with --size {args.size}\n")
        codes = {"this checkout": HERE, **({"today": Path(args.today)} if args.today else {})}
        for label, code in codes.items():
            print(f"{label}: {_which(code)}")
        rows = []
        for name in args.only.split(","):
            times = {}
            for label, code in codes.items():
                seconds, output = _run(name, data, args.size, code, args.limit)
                times[label] = seconds
                if args.show and output:
                    print(f"--- spe {name} ({label}) ---\n{output}")
            rows.append((name, times))
    header = f"{'command':<22}{'goal':>8}" + "".join(f"{label:>16}" for label in codes)
    print(header)
    for name, times in rows:
        cells = "".join(
            f"{'> ' + format(args.limit, '.0f') if t is None else format(t, '.0f'):>14} s"
            for t in times.values()
        )
        verdict = (
            ""
            if times["this checkout"] is None
            else (" ok" if times["this checkout"] <= GOALS[name] else " over")
        )
        print(f"{'spe ' + name:<22}{GOALS[name]:>6} s{cells}{verdict}")


if __name__ == "__main__":
    main()
