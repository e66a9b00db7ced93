"""The ``spe fit`` and ``spe predict`` commands: the model for the next post, and the ranking."""

import time
from pathlib import Path

import numpy as np

from .._text import visible
from ._shared import load_checked, say, staged_output


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
        model = next_post_model(
            args.model,
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


def _ranked_lines(table, actual):
    interval = table.attrs.get("confidence")
    head = ["rank", "picture", "predicted", f"{interval:.0%} interval" if interval else "interval"]
    head += ["trend", "picture"] + (["actual"] if actual is not None else []) + ["why"]
    rows = []
    for rank, row in table.iterrows():
        # visible before measuring widths: an escape sequence in a name must neither act nor misalign
        cells = [str(rank), visible(Path(row["image"]).name), f"{row['predicted']:.0f}"]
        low, high = row["low"], row["high"]
        cells.append(f"{low:.0f}-{high:.0f}" if np.isfinite(low) else "n/a")
        trend = f"{row['trend']:.0f}" if np.isfinite(row["trend"]) else "n/a"
        cells += [trend, _percent(row["picture factor"])]
        if actual is not None:
            cells.append(f"{row['actual']:g}")
        cells.append(visible(row["reasons"]))
        rows.append(cells)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]


def cmd_predict(args):
    import pandas as pd

    if args.actual is not None and len(args.actual) != len(args.images):
        raise ValueError(f"--actual has {len(args.actual)} counts for {len(args.images)} images")
    # --out first: a folder spe may not replace (the model itself, a tune
    # output holding one, a folder of the user's) is refused before any work.
    with staged_output(args.out, args.command) as out:
        table = _rank(args)
        when = pd.Timestamp(table.attrs["when"])
        say(f"If posted next ({when:%Y-%m-%d %H:%M} UTC), best first:")
        for line in _ranked_lines(table, args.actual):
            say(line)
        say(table.attrs["skill"])
        if args.actual is not None and len(args.images) == 1:
            say("One picture's error proves nothing; `spe evaluate` gives the cross-validated picture.")
        if out is not None:
            _write_predictions(table, out)
    if args.out:
        say(f"Predictions and report.html written to {args.out}")
    return 0


def _rank(args):
    """The ranked table of ``spe predict``, with ``actual`` where given."""
    from ..models._next import predict_next
    from ..persistence._save_load import load_model

    model = load_model(args.model)
    table = predict_next(model, list(args.images), when=args.when, caption=args.caption)
    if args.actual is not None:
        given = {}
        for image, count in zip(args.images, args.actual):
            given.setdefault(image, []).append(count)
        # The same file twice gets the same prediction; the stable ranking keeps their order.
        table["actual"] = [given[image].pop(0) for image in table["image"]]
    return table


def _write_predictions(table, out):
    """predictions.csv and report.html; the CSV's text cells safe for a spreadsheet (spe._text.csv_safe)."""
    from .._text import csv_safe
    from ..report._pages import prediction_page

    csv_safe(table).to_csv(out / "predictions.csv", encoding="utf-8")
    prediction_page(table, path=out / "report.html")
