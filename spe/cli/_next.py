"""The ``spe fit`` and ``spe predict`` commands: the model for the next post, and the ranking."""

import time
from pathlib import Path

import numpy as np

from .._text import visible
from ..report._ranking import actual_verdict, is_tie, shown_ranks, skill_line, whole
from ._shared import load_checked, say, staged_output, too_small_for_eyes


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
        data = load_checked(args.data, args.size, args.cache_dir)
        small = too_small_for_eyes(data) if args.model.strip().lower() == "auto" else None
        if small:
            say(f"Note: {small}")
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
        model.fit(data.drop(columns="likes"), data["likes"].to_numpy())
        chosen = what_was_chosen(model, args.model)
        path = save_model(model, args.out, data=data, scores=chosen)
    say(_chosen_line(chosen))
    say(chosen["skill"])  # picture skill as pairwise accuracy (spe.models.skill_note)
    say(f"Fitted in {time.perf_counter() - t0:.0f} s; model saved to {path}")
    return 0


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


def wrapped(text):
    """``text`` wrapped to the terminal's width."""
    import shutil
    import textwrap

    return textwrap.fill(text, shutil.get_terminal_size((100, 24)).columns)


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
    if given and not contains(final(model), lambda part: isinstance(part, PostFeatures), fitted=True):
        notes.append(
            "This model does not use the posting time (it reads no post features): --when changes "
            "nothing but the date shown."
        )
    return notes


def cmd_predict(args):
    import pandas as pd

    if args.actual is not None and len(args.actual) != len(args.images):
        raise ValueError(f"--actual has {len(args.actual)} counts for {len(args.images)} images")
    # --out first: a folder spe may not replace (the model itself, a tune
    # output holding one, a folder of the user's) is refused before any work.
    with staged_output(args.out, args.command) as out:
        model, table = _rank(args)
        when = pd.Timestamp(table.attrs["when"])
        order = "" if len(table) == 1 else ", all tied" if is_tie(table) else ", best first"  # one: no order
        say(f"If posted next ({when:%Y-%m-%d %H:%M} UTC){order}:")
        for line in _ranked_lines(table, args.actual):
            say(line)
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
    if args.actual is not None:
        given = {}
        for image, count in zip(args.images, args.actual):
            given.setdefault(image, []).append(count)
        # The same file twice gets the same prediction; the stable ranking keeps their order.
        table["actual"] = [given[image].pop(0) for image in table["image"]]
    return model, table


def _write_predictions(table, out):
    """predictions.csv and report.html; the CSV's text cells safe for a spreadsheet (spe._text.csv_safe)."""
    from .._text import csv_safe
    from ..report._pages import prediction_page

    csv_safe(table).to_csv(out / "predictions.csv", encoding="utf-8")
    prediction_page(table, path=out / "report.html")
