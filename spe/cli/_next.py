"""The ``spe fit`` and ``spe predict`` commands: the model for the next post, and the ranking."""

import contextlib
import time
from pathlib import Path

import numpy as np

from .._text import visible
from ..report._ranking import actual_verdict, is_tie, shown_ranks, skill_line, whole
from ._shared import duration, load_checked, progress, say, staged_output, ticking, too_small_for_eyes
from ._themes import fit_eyes, fit_line, fit_themes, predict_themes, sharing


def _chosen_line(chosen):
    """What ``spe fit`` chose and how it did walking forward, in one line."""
    walked = f"walking forward over {chosen['posts walked']} posts"
    if chosen["chosen"] == "trend":
        return (
            f"Chose the account's trend: no picture model beat it {walked} (it missed by "
            f"{chosen['walk-forward MAE']:.1f} likes on average). Every picture will get the same prediction."
        )
    return (
        f"Chose {chosen['chosen']}: {walked} it missed by {chosen['walk-forward MAE']:.1f} likes on "
        f"average (the trend alone: {chosen['trend MAE']:.1f})."
    )


#: The posts a recent average averages: ``spe evaluate``'s "recent average (k=10)".
RECENT = 10


def against_recent(model, data, asked="auto"):
    """``spe evaluate``'s first answer, for a fitted :func:`~spe.models._next.next_post_model`: line, figures.

    The model's walk-forward predictions (``model.walk_``) against the
    recent average of the same posts (the mean of the ``RECENT`` posts just
    before each, :class:`~spe.RecentAverageRegressor`), compared as
    ``spe evaluate`` compares them (:func:`~spe.evaluation._report.fewer_missed`).
    The model was chosen on these same posts, so the figure leans its way a
    little; ``spe evaluate`` walks the choice itself forward.

    Returns
    -------
    line : str
    figures : dict
        JSON-ready (``None`` where there is no number), for the saved scores.
    """
    from .. import RecentAverageRegressor
    from ..evaluation._report import against_recent_average, fewer_missed
    from ..model_selection import WalkForwardSplit, walk_forward_predict

    walk = model.walk_
    rows = walk.index.to_numpy()
    y = data["likes"].to_numpy(dtype=np.float64)
    # One fit on the posts before the walk, then each post from the RECENT posts just before it.
    cv = WalkForwardSplit(min_train_size=int(rows[0]), test_size=len(y) - int(rows[0]))
    recent = walk_forward_predict(RecentAverageRegressor(k=RECENT), data.drop(columns="likes"), y, cv)[rows]
    answer = fewer_missed(walk["actual"], walk["predicted"], recent)
    if not np.isfinite(answer).all():  # no interval is no comparison: never a "nan%"
        answer = (np.nan, np.nan, np.nan)
    subject = "The account's own model" if asked.strip().lower() == "auto" else "The model"
    figures = {
        "k": RECENT,
        "recent average MAE": float(np.mean(np.abs(walk["actual"] - recent))),
        "percent fewer likes missed": [float(v) if np.isfinite(v) else None for v in answer],
        "posts walked": len(walk),
    }
    return against_recent_average(subject, *answer, len(walk)), figures


class _FitShown:
    """Shows each :class:`~spe.models._selection.FitStep` of a fit on a bar: the step, its refits, time left.

    The time left is said only as measured: once the fit's last walk has
    timed a refit (``walks_left == 0``), its refits so far, per refit, times
    those left. Until then a walk still to come could be the slowest, so
    nothing is said; and never from counts of refits (tqdm's own estimate),
    which would price an embedding model's refit like a trend's. Said "in
    this walk": the fit on all posts after it shares no refit of the walk
    and costs more than one (measured on 200 posts: 1.8 s, a refit 0.08 s).
    """

    def __init__(self, bar):
        self.bar, self.step, self.started = bar, None, time.perf_counter()

    def __call__(self, step):
        if step.step != self.step:
            self.step, self.started = step.step, time.perf_counter()
        text = f"refit {step.done} of {step.total}" if step.total else ""
        if step.total and 0 < step.done < step.total and step.walks_left == 0:
            per_refit = (time.perf_counter() - self.started) / step.done
            text += f", about {duration(per_refit * (step.total - step.done))} left in this walk"
        self.show(step.step, text)

    def show(self, desc, text=""):
        self.bar.set_description_str(visible(desc), refresh=False)
        self.bar.set_postfix_str(text, refresh=False)
        # Shown at once, not when tqdm's timer next allows: a refit can take minutes.
        self.bar.refresh()


@contextlib.contextmanager
def fit_steps(quiet):
    """A bar on stderr (none when ``quiet``) for a fit's steps: yields the ``progress`` to give ``fit``.

    Its ``show(desc)`` names a step of the command's own (saving, say) on the same bar.
    """
    with progress(None, "fitting", quiet, bar_format="{desc}{postfix} [{elapsed}]") as bar, ticking(bar):
        yield _FitShown(bar)


def cmd_fit(args):
    from ..models._next import next_post_model, what_was_chosen
    from ..persistence import save_model
    from ..persistence._layout import is_model_folder as _is_model_folder
    from ..persistence._staging import reserve

    network = args.epochs is not None or args.learning_rate is not None
    if network and "cnn" not in args.model.lower():
        raise ValueError(
            f"--epochs and --learning-rate set the CNN's training, and --model {args.model!r} trains no "
            "network; add --model 'CNN on pixels' to fit the CNN"
        )
    t0 = time.perf_counter()
    # Claimed before reading the data: a folder spe may not replace (another
    # command's output, say), or a second `spe fit` to the same folder, fails
    # now rather than after the fit.
    advice = "Give --out a new folder."
    with reserve(args.out, kind="model", is_own=_is_model_folder, what="model folder", advice=advice):
        data = load_checked(args.data, args.size, args.cache_dir, quiet=args.quiet)
        small = too_small_for_eyes(data) if args.model.strip().lower() == "auto" else None
        model = next_post_model(
            args.model,
            embeddings=not small,
            size=args.size,
            epochs=50 if args.epochs is None else args.epochs,
            learning_rate=args.learning_rate,
            post_features={"timestamp", "caption"} <= set(data.columns),
            n_posts=len(data),
            cache_dir=args.cache_dir,
        )
        _check_enough(model, len(data))
        if small:
            say(f"Note: {small}")
        with fit_steps(args.quiet) as shown:
            # One backbone pass over the pictures, shared by the model's walk and the themes.
            shown.show("seeing the pictures (one backbone pass for the model and its themes)")
            eyes = None if small else fit_eyes(model, data)
            with sharing(eyes):
                model.fit(data.drop(columns="likes"), data["likes"].to_numpy(), progress=shown)
            chosen = what_was_chosen(model, args.model)
            recent, chosen["recent average"] = against_recent(model, data, args.model)
            shown.show("finding the account's picture themes")
            themes = fit_themes(eyes, data)
            shown.show(f"saving the model to {args.out}")
            saved = None if themes is None else themes.to_data()
            path = save_model(model, args.out, data=data, scores=chosen, themes=saved)
    say(_chosen_line(chosen))
    say(recent)  # the answer `spe evaluate` gives first: does it beat the recent average?
    say(chosen["skill"])  # picture skill as pairwise accuracy (spe.models.skill_note)
    if fit_line(themes):
        say(wrapped(fit_line(themes)))
    say(f"Fitted in {time.perf_counter() - t0:.0f} s; model saved to {path}")
    return 0


def _check_enough(model, n_posts):
    """One line, before any fitting, when the account is smaller than the smallest a walk says anything of."""
    fewest = model.fewest_posts()
    if n_posts < fewest:
        raise ValueError(
            f"{n_posts} posts are too few for spe fit: it needs at least {fewest}. It predicts each post "
            "after the first few from the posts before it, and calibrates the intervals on those "
            f"predictions: {n_posts} posts leave too few of them to tell anything."
        )


def _percent(factor):
    return "" if not np.isfinite(factor) else f"{(factor - 1) * 100:+.0f}%"


def _row_cells(rank, row, actual):
    # visible before measuring widths: an escape sequence in a name must neither act nor misalign
    cells = [rank, visible(Path(row["image"]).name), whole(row["predicted"])]
    low, high = row["low"], row["high"]
    cells.append(f"{whole(low)}-{whole(high)}" if np.isfinite(low) else "n/a")
    cells += [whole(row["trend"]), _percent(row["picture factor"])]
    if actual is not None:
        verdict = actual_verdict(row["actual"], low, high)
        cells.append(f"{row['actual']:g}" + (f" ({verdict})" if verdict else ""))
    cells.append(visible(row["reasons"]) or "-")
    return cells


def wrapped(text, indent=""):
    """``text`` wrapped to the terminal's width, its lines after the first indented by ``indent``."""
    import shutil
    import textwrap

    return textwrap.fill(text, shutil.get_terminal_size((100, 24)).columns, subsequent_indent=indent)


def _ranked_lines(table, actual, width=None):
    """The ranking as text lines, the "why" column wrapped to ``width`` characters (the terminal's)."""
    import shutil
    import textwrap

    interval = table.attrs.get("confidence")
    head = ["rank", "picture", "predicted", f"{interval:.0%} interval" if interval else "interval"]
    head += ["trend", "picture"] + (["actual"] if actual is not None else []) + ["why"]
    rows = [_row_cells(rank, row, actual) for rank, (_, row) in zip(shown_ranks(table), table.iterrows())]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    indent = sum(widths) + 2 * len(widths)
    width = width or shutil.get_terminal_size((100, 24)).columns
    lines = []
    for r in [head, *rows]:
        left = "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  "
        why = textwrap.wrap(r[-1], max(12, width - indent - 1)) or [""]
        lines.append((left + why[0]).rstrip())
        lines += [" " * indent + more for more in why[1:]]
    return lines


def _theme_lines(table):
    """Each candidate among the account's themes, one paragraph each (none when the model has no themes)."""
    if "theme" not in table.columns:
        return []
    lines = ["Among the account's own pictures (themes found by spe fit, as the backbone sees them):"]
    for _, row in table.iterrows():
        lines.append(
            f"  {visible(Path(str(row['image'])).name)}: theme {int(row['theme'])}, {row['theme name']}: "
            f"{row['theme effect']}. The backbone sees {row['shows']}. "
            f"Closest past posts: {row['closest posts']}."
        )
    return lines


def _verdicts(table):
    """One line on the actual counts against their intervals, or None without intervals."""
    verdicts = [actual_verdict(a, lo, hi) for a, lo, hi in zip(table["actual"], table["low"], table["high"])]
    if None in verdicts:
        return None
    level = f"{table.attrs['confidence']:.0%} " if table.attrs.get("confidence") else ""
    if len(verdicts) == 1:
        return f"The actual {table['actual'].iloc[0]:g} likes fell {verdicts[0]} the {level}interval."
    return f"{verdicts.count('inside')} of {len(verdicts)} actual counts fell inside their {level}intervals."


def _when_notes(args, model, when):
    """What to say about --when: no offset read as UTC, a time in the past, a model blind to the time."""
    import pandas as pd

    from .._tree import contains, final
    from ..features import PostFeatures

    notes = []
    given = args.when is not None and args.when.strip().lower() not in ("now", "today")
    if given and pd.Timestamp(args.when).tzinfo is None:
        notes.append(f"--when {args.when!r} has no UTC offset, so it was read as UTC; add one, e.g. +01:00.")
    if given and when < pd.Timestamp.now(tz="UTC"):
        notes.append(f"--when {args.when!r} is in the past: each picture is predicted as if posted then.")
    last = _last_post(model)
    if args.when is None and last is not None and when - last > pd.Timedelta(days=STALE_DAYS):
        notes.append(
            f"the account's last post was {last:%Y-%m-%d}; predicting for now ({when:%Y-%m-%d}), as if "
            "nothing was posted since. --when predicts for another time."
        )
    if given and not contains(final(model), lambda part: isinstance(part, PostFeatures), fitted=True):
        notes.append(
            "This model does not use the posting time (it reads no post features): --when changes "
            "nothing but the date shown."
        )
    return notes


#: Days since the account's last post after which ``spe predict`` (for now) says when that was.
STALE_DAYS = 60


def _last_post(model):
    """When the account the model learned from last posted, in UTC, from its folder; None if unknown."""
    import pandas as pd

    span = (getattr(model, "spe_metadata_", {}).get("data") or {}).get("timestamp_range")
    if not span:
        return None
    try:
        last = pd.Timestamp(span[1])
    except (ValueError, TypeError):
        return None
    if last is pd.NaT:
        return None
    return last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")


def cmd_predict(args):
    import pandas as pd

    if args.actual is not None and len(args.actual) != len(args.images):
        counts, images = len(args.actual), len(args.images)
        raise ValueError(
            f"--actual has {counts} {'count' if counts == 1 else 'counts'} for {images} "
            f"{'image' if images == 1 else 'images'}: give one like count per picture, in the pictures' order"
        )
    # --out first: a folder spe may not replace (the model itself, a tune
    # output holding one, a folder of the user's) is refused before any work.
    with staged_output(args.out, args.command) as out:
        model, table = _rank(args)
        when = pd.Timestamp(table.attrs["when"])
        order = "" if len(table) == 1 else ", all tied" if is_tie(table) else ", best first"  # one: no order
        say(f"If posted next ({when:%Y-%m-%d %H:%M} UTC){order}:")
        for line in _ranked_lines(table, args.actual):
            say(line)
        for line in _theme_lines(table):
            say(wrapped(line, indent="    "))
        for note in _when_notes(args, model, when):
            say(wrapped(f"Note: {note}"))
        say(skill_line(table))  # one line, right after the table and notes: what the ranking is worth
        if args.actual is not None:
            verdict = _verdicts(table)
            if verdict:
                say(wrapped(verdict))
            if len(args.images) == 1:
                say("One picture's error proves nothing; `spe evaluate` gives the cross-validated picture.")
        if out is not None:
            _write_predictions(table, out)
    if args.out:
        say(f"Predictions and report.html written to {args.out}")
    return 0


def _rank(args):
    """The loaded model and the ranked table of ``spe predict``, with ``actual`` where given."""
    import warnings

    from joblib import parallel_config

    from ..models._next import predict_next
    from ..persistence._save_load import load_model

    _not_a_model_folder(args.model)
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", UserWarning)
        model = load_model(args.model)
    for note in notes:  # parts set to run in this process, a folder put back: one line each
        say(wrapped(f"Note: {note.message}"))
    # Threads, never processes, for any joblib work left in the model's parts
    # (load_model has set their n_jobs to None): nothing a model folder holds
    # starts a process that would import code from the working folder.
    with parallel_config(backend="threading"):
        table = predict_next(model, list(args.images), when=args.when, caption=args.caption)
        table, note = predict_themes(args.model, model, table)
    if note:
        say(wrapped(f"Note: {note}"))
    if args.actual is not None:
        given = {}
        for image, count in zip(args.images, args.actual):
            given.setdefault(image, []).append(count)
        # The same file twice gets the same prediction; the stable ranking keeps their order.
        table["actual"] = [given[image].pop(0) for image in table["image"]]
    return model, table


#: Picture files: a folder of them given as MODEL is the pictures, not a model.
_PICTURES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".gif", ".bmp"}


def _not_a_model_folder(folder):
    """Refuse, in one line, a folder that is plainly no model folder: another command's output, pictures.

    ``load_model`` names the first file it does not know and says to move
    it out, which is the advice for a model folder with a stray file, not
    for a report or a folder of pictures given by mistake.
    """
    import json

    from ..persistence._layout import META_FILE
    from ..persistence._staging import MARKER

    folder = Path(folder)
    if not folder.is_dir() or (folder / META_FILE).exists():
        return  # missing, a file, a model folder or a damaged one: load_model says which
    kind = None
    try:
        kind = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        pass
    names = {p.name for p in folder.iterdir()}
    if kind in ("evaluate", "tune", "predict", "demo"):
        what = f"the output of spe {kind}"
    elif {"report.html", "report.json"} & names:
        what = "a report"
    elif any(Path(name).suffix.lower() in _PICTURES for name in names):
        what = "pictures"
    else:
        return
    inside = sorted(str(p.parent) for p in folder.glob(f"*/{META_FILE}"))
    where = f"; the model folders in it: {', '.join(inside)}" if inside else ""
    raise ValueError(
        f"{visible(str(folder))} is not a model folder (it holds {what}{visible(where)}); "
        "`spe fit DATA --out MODEL_DIR` makes one"
    )


def _write_predictions(table, out):
    """predictions.csv and report.html; the CSV's text cells safe for a spreadsheet (spe._text.csv_safe).

    The CSV's ranks are the ones shown (:func:`~spe.report._ranking.shown_ranks`): tied pictures share a
    rank there as on the screen and the page.
    """
    import pandas as pd

    from .._text import csv_safe
    from ..report._pages import prediction_page

    written = table.copy()
    written.index = pd.Index([int(rank) for rank in shown_ranks(table)], name="rank")
    csv_safe(written).to_csv(out / "predictions.csv", encoding="utf-8")
    prediction_page(table, path=out / "report.html")
