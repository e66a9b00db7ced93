"""The ``spe demo`` command: the whole job on a sample account, one page."""

import time
from pathlib import Path

from ..report._ranking import skill_line
from ._evaluate import account_themes, compared_models, run_evaluation
from ._main import run_tuning
from ._next import _chosen_line, _ranked_lines, against_recent, fit_steps, wrapped
from ._shared import cnn_pipeline, save_fig, say, staged_output, summary


def cmd_demo(args):
    from ..datasets import make_posts
    from ..models._next import next_post_model, predict_next, what_was_chosen
    from ..persistence._save_load import save_model
    from ..plotting import plot_loss_curve

    t0 = time.perf_counter()
    with staged_output(args.out, args.command) as out:
        say(f"Making a sample account of {args.posts} posts (spe.datasets.make_posts) ...")
        data = make_posts(args.posts, directory=out / "data", random_state=0)
        say(summary(data))
        say("\n== 1. How well can likes be predicted? ==")
        # The seed project's network, by its own name: parts 3 and 4 are the account's own model.
        cnn = {"seed's CNN": cnn_pipeline(64, args.epochs)}
        # Walking forward, as `spe evaluate` does; the CNN is refitted at the start of each of 3 stretches.
        report = run_evaluation(
            data, cnn, out, label="seed's CNN", cv="walk", folds=3, quiet=args.quiet, themes=False
        )
        say("\n== 2. Which settings work best? ==")
        grid_epochs = sorted({max(1, args.epochs // 5), max(1, args.epochs * 3 // 5)})
        search = run_tuning(
            data,
            out,
            size=64,
            epochs=grid_epochs,
            learning_rate=[1e-3, 1e-4],
            cv="time",
            folds=2,
            quiet=args.quiet,
            fast=True,  # one training run per learning rate and fold, scored at both epoch counts
        )
        note = untrained_note(search)
        if note:
            say(wrapped(f"Note: {note}"))
            search.notes.append(note)  # the page's tuning section lists the search's notes
        save_fig(plot_loss_curve(search.best_estimator_), out / "loss_curve.png")
        say("\n== 3. Which of four new pictures should go up next? ==")
        new = make_posts(4, directory=out / "new_pictures", random_state=2024)
        model = next_post_model(size=64)
        with fit_steps(args.quiet) as shown:
            model.fit(data.drop(columns="likes"), data["likes"].to_numpy(), progress=shown)
        chosen = what_was_chosen(model)
        recent, chosen["recent average"] = against_recent(model, data)
        say(wrapped(_chosen_line(chosen)))
        say(wrapped(recent))  # as `spe fit` says it: one story
        save_model(model, out / "next-model", data=data, scores=chosen)
        ranked = predict_next(model, new["image"])
        for line in [*_ranked_lines(ranked, None), wrapped(skill_line(ranked))]:
            say(line)
        say(f"The same from the command line: spe predict {Path(args.out) / 'next-model'} PICTURE...")
        say("\n== 4. On a realistic account, does anything beat the recent average? ==")
        say("Real accounts drift over time and pictures matter less (make_posts(realistic=True)).")
        real = make_posts(args.posts, directory=out / "realistic_data", realistic=True, random_state=0)
        # The picture models that need no network (part 1 evaluated the CNN); the slow ones are one
        # `spe evaluate --compare` away. Refitted every 10 posts, the trends updated with every post.
        models, notes = compared_models(real, size=64, cnn=False, embeddings=False)
        (out / "realistic").mkdir()
        real_report = run_evaluation(
            real,
            models,
            out / "realistic",
            label="account's own model",
            cv="walk",
            folds=5,
            refit_every=10,
            quiet=args.quiet,
            notes=notes,
            themes=False,  # computed once, below, for both pages
        )
        themes = account_themes(real, args.quiet)
        _demo_page(out, (data, report), search, ranked, (real, real_report, themes))
    say(f"\nDone in {time.perf_counter() - t0:.0f} s. Report, plots and model in {args.out}/")
    return 0


def untrained_note(search):
    """Why the tuning table says "not trained" and the heatmap "stopped early", or None when nothing is.

    ``spe tune --fast`` halves: after each epoch count only the best third of
    the learning rates (at least one) train on (spe.model_selection._search),
    so the others have no score at the larger counts. A setting with no
    score even at the smallest count diverged instead.
    """
    import numpy as np
    import pandas as pd

    results = pd.DataFrame(search.cv_results_)
    epochs, rates = "param_cnn__epochs", "param_cnn__learning_rate"
    missing = results["mean_test_score"].isna()
    if not missing.any() or not {epochs, rates} <= set(results.columns):
        return None
    scored = results[~missing]
    stopped = sum(
        bool((scored.loc[scored[rates] == row[rates], epochs] < row[epochs]).any())
        for _, row in results[missing].iterrows()
    )
    said = []
    if stopped:
        said.append(
            f'{stopped} of {len(results)} settings were not trained ("stopped early" in the heatmap): '
            "successive halving trains only the best third of the learning rates, at least one, on past "
            "each epoch count, so the others stop there"
        )
    if missing.sum() > stopped:
        said.append(
            f"{int(np.sum(missing)) - stopped} of {len(results)} never scored: their training diverged"
        )
    return "; ".join(said) + "."


def _demo_page(out, evaluated, search, ranked, realistic):
    """All four parts of the demo on one page, out/report.html (each part's own files stay beside it)."""
    from ..evaluation._evaluate import PROTOCOLS
    from ..report._pages import evaluation_section, prediction_section, render_page, tuning_section
    from ..report._themes import themes_section

    def figures(folder, label, report):
        shown = {
            "Likes over time": folder / "likes.png",
            f"{label}: predicted vs actual": folder / "predicted_vs_actual.png",
        }
        if (folder / "predicted_vs_actual_best.png").is_file():  # run_evaluation plots the winner too
            best = report.scores["MAE"].idxmin()
            shown[f"{best} (lowest MAE): predicted vs actual"] = folder / "predicted_vs_actual_best.png"
        return shown

    (data, report), (real, real_report, themes) = evaluated, realistic
    sections = [
        evaluation_section(
            report, figures=figures(out, "seed's CNN", report), posts=data, intro=summary(data)
        ),
        tuning_section(
            search,
            protocol=f"2 folds, {PROTOCOLS['time']}",
            figures={
                "Grid search": out / "grid_heatmap.png",
                "Best setting, loss per epoch": out / "loss_curve.png",
            },
        ),
        prediction_section(ranked, heading="Which of four new pictures should go up next?"),
        evaluation_section(
            real_report,
            heading="On a realistic account, does anything beat the recent average?",
            intro="Real accounts drift over time and pictures matter less (make_posts(realistic=True)). "
            + summary(real),
            figures=figures(out / "realistic", "account's own model", real_report),
            posts=real,
        ),
        themes_section(themes, heading="What works on the realistic account"),
    ]
    render_page(
        sections, title="spe demo", subtitle="the whole job on a sample account", path=out / "report.html"
    )
