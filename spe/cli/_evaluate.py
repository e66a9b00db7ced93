"""The ``spe evaluate`` command: the account's own model (or any candidate) against the baselines.

Its first sentence answers the person's first question, "does anything
beat my recent average?", about the model ``spe fit`` saves
(:func:`spe.evaluation.headline`); ``--model NAME`` evaluates one
candidate, ``--compare`` all of them in one table.
"""

import re
import shutil
import textwrap
import time

from ._parser import COMPARED_CNN_REFITS, FOLDS
from ._shared import (
    duration,
    load_checked,
    progress,
    save_fig,
    say,
    staged_output,
    summary,
    too_small_for_eyes,
)
from ._themes import fit_eyes, fit_themes, sharing

__all__ = ["cmd_evaluate", "compared_models", "evaluated_model", "run_evaluation"]


def compared_models(data, *, size=64, epochs=50, embedding_weights="auto", cache_dir=None, **which):
    """The models ``spe evaluate --compare`` compares, and the notes on those left out (warnings' text).

    ``which``: :func:`spe.models.candidates`' ``features``, ``cnn`` and ``embeddings`` switches.
    """
    import warnings

    from ..models import candidates

    small = too_small_for_eyes(data) if which.get("embeddings", True) else None
    if small:
        which = {**which, "embeddings": False}
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", UserWarning)  # a left-out row, said once under the table
        models = candidates(
            size=size,
            epochs=epochs,
            embedding_weights=embedding_weights,
            cache_dir=cache_dir,
            # What the post says besides its pixels, where the data has it.
            post_features={"timestamp", "caption"} <= set(data.columns),
            **which,
        )
    return models, [str(note.message) for note in notes] + ([small] if small else [])


_REFIT = re.compile(r"^(?P<row>.*), refit (?P<done>\d+)/(?P<total>\d+)$")


class _Advance:
    """Moves a bar to each :class:`~spe.evaluation.EvaluationProgress` step, naming it beside the bar.

    The time left is said only as measured: for the row under way, once
    one of its refits has been timed (its refits so far, per refit, times
    those left); never from counts of refits, which would price a
    network's refit like a trend's.
    """

    def __init__(self, bar):
        self.bar, self.row, self.started = bar, None, time.perf_counter()

    def __call__(self, step):
        found = _REFIT.match(step.description)
        row = found["row"] if found else step.description
        if row != self.row:
            self.row, self.started = row, time.perf_counter()
        text = step.description
        if found and 0 < int(found["done"]) < int(found["total"]):
            done, total = int(found["done"]), int(found["total"])
            left = (time.perf_counter() - self.started) / done * (total - done)
            text += f", about {duration(left)} left on this row"
        self.bar.total = step.total
        self.bar.n = step.done
        # Shown at once, not when tqdm's timer next allows: a step (a network's refit) can take minutes.
        self.bar.set_postfix_str(text, refresh=False)
        self.bar.refresh()


def _row_times(seconds):
    """Where the time went, row by row, when one row took most of it (the CNN, say)."""
    total = sum(seconds.values())
    name, most = max(seconds.items(), key=lambda item: item[1])
    if total < 5 or most < 0.5 * total:
        return None
    return f"The {name} took {duration(most)} of the {duration(total)} the rows took ({most / total:.0%})."


def run_evaluation(
    data,
    models,
    out,
    *,
    label,
    cv="time",
    folds=5,
    refit_every=None,
    network_refits=None,
    quiet=False,
    notes=(),
    themes=True,
):
    """:func:`spe.evaluation.evaluate`, printed and, when ``out`` is a folder, written there with its page.

    ``label`` names the model whose predictions are plotted against the actual likes; ``themes``:
    the page shows the account's picture themes (one pass of the backbone over the pictures).
    """
    from ..evaluation import evaluate
    from ..plotting import plot_likes, plot_predicted_vs_actual

    extra = {"refit_every": refit_every, "network_refits": network_refits} if cv == "walk" else {}
    # In percent: the count is in models, fractional while one is under way (EvaluationProgress);
    # no time left from counts (tqdm's {remaining}): _Advance says it once measured.
    percent = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}{postfix}]"
    eyes = None
    if out is not None and themes:  # one backbone pass, read by every row's walk and by the themes
        seeing = "seeing the pictures (one backbone pass)"
        with progress(None, seeing, quiet, bar_format="{desc} [{elapsed}]"):
            eyes = fit_eyes(models, data)
    with sharing(eyes), progress(None, "evaluating", quiet, bar_format=percent) as bar:
        report = evaluate(models, data, cv=cv, n_splits=folds, progress=_Advance(bar), **extra)
    say(_fit_to_terminal(report))
    for note in notes:
        say(f"Note: {note}")  # one line each: a note is copied whole, --embedding-weights PATH and all
    share = _row_times(report.seconds) if report.seconds and len(report.seconds) > 4 else None
    if share:
        say(share)
    if out is not None:
        report.to_json(out / "report.json")
        report.to_csv(out / "report.csv")
        report.predictions.to_csv(out / "predictions.csv", index=False)
        (out / "report.txt").write_text(report.to_string() + "\n", encoding="utf-8")
        save_fig(plot_likes(data), out / "likes.png")
        save_fig(plot_predicted_vs_actual(report, label=label), out / "predicted_vs_actual.png")
        from ..report import evaluation_page

        figures = {
            "Likes over time": out / "likes.png",
            f"{label}: predicted vs actual": out / "predicted_vs_actual.png",
        }
        best = str(report.scores["MAE"].idxmin())
        if best != label:  # the winner beside the model under evaluation
            save_fig(plot_predicted_vs_actual(report, label=best), out / "predicted_vs_actual_best.png")
            figures[f"{best} (lowest MAE): predicted vs actual"] = out / "predicted_vs_actual_best.png"
        themes = account_themes(data, quiet, eyes) if themes else None
        evaluation_page(
            report, figures=figures, posts=data, intro=summary(data), path=out / "report.html", themes=themes
        )
    return report


def account_themes(data, quiet=False, eyes=None):
    """The account's picture themes for its page, their note said once.

    From ``eyes`` (:func:`~spe.cli._themes.fit_eyes`: the backbone pass the
    walk read) where given; else one backbone pass of the offline Lite0.
    """
    from ..inspection import picture_themes

    with progress(None, "finding picture themes", quiet, bar_format="{desc} [{elapsed}]"):
        themes = fit_themes(eyes, data) if eyes is not None else picture_themes(None, data)
    if len(themes.themes):
        say("\nWhat works on this account (picture themes, each against the trend walked forward):")
        say(str(themes))
    elif themes.note:
        say(f"Note: {themes.note}")
    return themes


def _width():
    return shutil.get_terminal_size((100, 24)).columns


def _fit_to_terminal(report):
    """The report's text with its sentences wrapped and its table split to the terminal's width."""
    width = _width()
    table = report.scores.to_string(float_format=lambda v: f"{v:,.3f}", na_rep="n/a")
    narrow = report.scores.to_string(float_format=lambda v: f"{v:,.3f}", na_rep="n/a", line_width=width)
    text = report.to_string()
    head, found, tail = text.partition(table)
    if not found:  # a report that prints otherwise: wrapped line by line
        head, narrow, tail = text, "", ""

    def wrap(part):
        return "\n".join(textwrap.fill(line, width) if line else line for line in part.split("\n"))

    return wrap(head) + narrow + wrap(tail)


def _key(name):
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def evaluated_model(data, args):
    """``spe evaluate``'s model by ``--model``, as ``spe fit`` makes it: ``{row name: estimator}``, notes.

    ``auto`` (the default): the account's own model, the one ``spe fit``
    saves (its intervals are scored walking forward, as it calibrates
    them). A name: that candidate of ``spe evaluate --compare``, the
    seed's CNN (``'CNN on pixels'``) included.
    """
    from ..models._candidates import candidates
    from ..models._next import next_post_model

    auto = _key(args.model) == "auto"
    small = too_small_for_eyes(data) if auto else None
    post = {"timestamp", "caption"} <= set(data.columns)
    model = next_post_model(
        args.model,
        embeddings=not small,
        size=args.size,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        post_features=post,
        n_posts=len(data),
        cache_dir=args.cache_dir,
    ).estimator
    names = [*candidates(size=args.size, post_features=post, cnn=False, embeddings=False)]
    names += ["CNN on pixels", "embeddings + PCA"]
    name = "account's own model" if auto else next(n for n in names if _key(n) == _key(args.model))
    return {name: model}, [small] if small else []


#: Said under ``--compare``'s table when the CNN walked on fewer refits than the other rows.
_CNN_REFITS = (
    "the CNN on pixels was refitted {n} times walking forward ({epochs} epochs each; the other rows about "
    "20 times), to keep --compare within minutes; --folds {folds} refits it {folds} times, at {folds}/{n} "
    "of its time"
)


def _evaluate(data, args, out):
    notes = []
    if args.compare and _key(args.model) != "auto":
        raise ValueError(f"--model {args.model!r} evaluates one model and --compare all of them: give one")
    network_refits = None  # as --folds
    if args.compare:
        models, notes = compared_models(
            data,
            size=args.size,
            epochs=args.epochs,
            embedding_weights=args.embedding_weights,
            cache_dir=args.cache_dir,
        )
        label = "account's own model"
        if args.folds is None and args.cv == "walk" and "CNN on pixels" in models:
            network_refits = COMPARED_CNN_REFITS
            notes = [*notes, _CNN_REFITS.format(n=network_refits, epochs=args.epochs, folds=FOLDS)]
    else:
        models, notes = evaluated_model(data, args)
        label = next(iter(models))
    folds = FOLDS if args.folds is None else args.folds
    return run_evaluation(
        data,
        models,
        out,
        label=label,
        cv=args.cv,
        folds=folds,
        refit_every=args.refit_every,
        network_refits=network_refits,
        quiet=args.quiet,
        notes=notes,
    )


def cmd_evaluate(args):
    with staged_output(args.out, args.command) as out:  # --out refused, if at all, before any work
        data = load_checked(args.data, args.size, args.cache_dir)
        _evaluate(data, args, out)
    if args.out:
        say(f"Report and plots written to {args.out}")
    return 0
