"""Report pages: the sections and pages of an evaluation, a grid search and a ranking.

:func:`evaluation_page`, :func:`tuning_page` and :func:`prediction_page`
write the page of one report; :func:`render_page` puts several sections on
one page, as ``spe demo`` does. A new page kind is one more ``*_section``
function and one more ``templates/_<kind>.html``.

The page primitives (:class:`Section`, :func:`render_page`,
:func:`text_section`, :func:`figure_uri`, :func:`thumbnail_uri`) live in
``_html`` and are re-exported by :mod:`spe.report`.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..inspection._selected import REPORT_HEADING
from ._html import (
    Section,
    _figures,
    _number,
    _picture,
    figure_uri,
    render_page,
    text_section,
    thumbnail_uri,
)
from ._ranking import actual_verdict, is_tie, shown_ranks, skill_line, whole
from ._scores import score_table

__all__ = [
    "Section",
    "evaluation_page",
    "evaluation_section",
    "figure_uri",
    "prediction_page",
    "prediction_section",
    "render_page",
    "text_section",
    "thumbnail_uri",
    "tuning_page",
    "tuning_section",
]


def _post_details(posts):
    """Post key (``post_index``, or position from 1) to row, and the posts; None without posts."""
    if posts is None:
        return None
    posts = posts.reset_index(drop=True)
    keys = posts["post_index"] if "post_index" in posts else pd.Series(np.arange(1, len(posts) + 1))
    return dict(zip(keys.tolist(), range(len(posts)))), posts


def _count(value):
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else _number(value)


def _prediction_rows(frame, models, lookup, max_side):
    index, posts = lookup if lookup else ({}, None)
    rows = []
    for row in frame.to_dict("records"):
        key = row["post_index"]
        rows.append(
            {
                "post": _count(key),
                "fold": int(row["fold"]) + 1,
                "actual": _count(row["actual"]),
                "predicted": [_number(row[m]) for m in models],
                "picture": _picture(posts, index[key], max_side) if key in index else None,
            }
        )
    return rows


def evaluation_section(
    report,
    *,
    heading="How well can likes be predicted?",
    intro=None,
    figures=None,
    posts=None,
    max_rows=10,
    thumbnail_size=64,
):
    """The section of a page for an :class:`~spe.evaluation.EvaluationReport`.

    Parameters
    ----------
    report : EvaluationReport
    heading : str, default="How well can likes be predicted?"
    intro : str, default=None
        A sentence about the data, shown first.
    figures : dict of str to figure, default=None
        Caption to a matplotlib Figure or PNG file, shown in order.
    posts : DataFrame, default=None
        The posts evaluated: the excerpt of predictions then shows each
        post's thumbnail, file name and caption.
    max_rows : int, default=10
        Posts in each excerpt of the out-of-fold predictions (the latest,
        and the largest misses of the best model); never the whole table.
    thumbnail_size : int, default=64

    Returns
    -------
    Section

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from spe.datasets import make_posts
    >>> from spe.evaluation import evaluate
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> report = evaluate(DummyRegressor(), posts, n_splits=3)
    >>> section = evaluation_section(report, posts=posts)
    >>> section.context["table"]["best_by"]
    'MAE'
    """
    table = _compact(score_table(report.scores, "MAE", len(report.predictions)))
    models = [str(m) for m in report.scores.index]
    predictions = report.predictions
    best = table["best"] if table["best"] in predictions else models[-1]
    latest = predictions.sort_values("post_index").tail(max_rows).iloc[::-1]
    misses = predictions.assign(_miss=(predictions[best] - predictions["actual"]).abs())
    misses = misses.sort_values("_miss", ascending=False).head(max_rows)
    lookup = _post_details(posts)
    context = {
        "report": report,
        "intro": intro,
        "table": table,
        "models": models,
        "best_model": best,
        "n_predictions": f"{len(predictions):,}",
        "latest": _prediction_rows(latest, models, lookup, thumbnail_size),
        "misses": _prediction_rows(misses, models, lookup, thumbnail_size),
        "folds": _fold_table(report.fold_scores),
        "with_pictures": posts is not None,
        "explanation": getattr(report, "explanation", None),
        "explanation_heading": REPORT_HEADING,
        "answer": _answer(getattr(report, "headline", None)),
    }
    return Section("evaluation", heading, context, _figures(figures))


def _answer(headline):
    """The page's lead: the first sentence and a few key figures of :func:`spe.evaluation.headline`."""
    if not headline:
        return None
    figures = []
    if headline["percent"] is not None and headline["low"] is not None:
        interval = f"95% interval {headline['low']:.0f}% to {headline['high']:.0f}%"
        fewer = "fewer" if headline["percent"] >= 0 else "more"  # the number beside it stays positive
        label = f"{fewer} likes missed than your recent average"
        figures.append((label, f"{abs(headline['percent']):.1f}%", interval))
    if headline["MAE"] is not None and headline["recent MAE"] is not None:
        figures.append(
            (
                "likes missed per post",
                _number(headline["MAE"]),
                f"recent average: {_number(headline['recent MAE'])}",
            )
        )
    pairwise, low, high = headline["pairwise"]
    if pairwise is not None:
        interval = f"{low:.0f}% to {high:.0f}%; " if low is not None and high is not None else ""
        figures.append(("pairs of nearby posts ranked right", f"{pairwise:.0f}%", f"{interval}chance 50%"))
    if headline["coverage"] is not None:
        level = headline["coverage level"]
        figures.append(
            (f"posts inside their {level} interval", f"{headline['coverage']:.0%}", f"target {level}")
        )
    return {"sentence": headline["sentence"], "figures": figures}


def _compact(table):
    """The score table narrow enough for a laptop's window: intervals beside their value, MSE left out.

    ``picture skill`` with its ``low`` and ``high`` columns becomes one
    column ("0.41 [0.12, 0.65]"), as does ``pairwise %``; MSE is the
    square of RMSE beside it (all columns stay in report.csv).
    """
    columns = table["columns"]
    keep = [i for i, c in enumerate(columns) if c != "MSE" and not c.endswith((" low", " high"))]
    for row in table["rows"]:
        cells = row["cells"]
        for i, name in enumerate(columns):
            if f"{name} low" in columns and cells[columns.index(f"{name} low")]["text"] != "n/a":
                low, high = (cells[columns.index(f"{name} {end}")]["text"] for end in ("low", "high"))
                cells[i] = {**cells[i], "text": f"{cells[i]['text']} [{low}, {high}]"}
        row["cells"] = [cells[i] for i in keep]
    interval = {c: f"{c} [95%]" for c in columns if f"{c} low" in columns}
    table["columns"] = [interval.get(columns[i], columns[i]) for i in keep]
    return table


def _fold_table(fold_scores):
    metrics = [c for c in fold_scores.columns if c not in ("model", "fold")]
    rows = [
        [str(r["model"]), str(int(r["fold"]) + 1), *(_number(r[m]) for m in metrics)]
        for _, r in fold_scores.iterrows()
    ]
    return {"columns": ["model", "fold", *metrics], "rows": rows}


def _param_label(name):
    return name.removeprefix("param_").split("__")[-1].replace("_", " ")


def tuning_section(
    search,
    *,
    heading="Which settings work best?",
    intro=None,
    protocol=None,
    figures=None,
    neg_mse=True,
    max_rows=50,
):
    """The section of a page for a fitted grid search.

    Parameters
    ----------
    search : GridSearchCV or TuningResult
        Anything with ``cv_results_``, ``best_params_`` and ``best_score_``.
    heading : str, default="Which settings work best?"
    intro : str, default=None
    protocol : str, default=None
        How the folds were made, in words.
    figures : dict of str to figure, default=None
    neg_mse : bool, default=True
        The scores are negative mean squared errors: the table then also
        shows the RMSE in likes.
    max_rows : int, default=50
        Settings shown, best first.

    Returns
    -------
    Section

    Examples
    --------
    >>> from spe.tuning import TuningResult
    >>> result = TuningResult(
    ...     cv_results_={"param_cnn__epochs": [10, 30], "mean_test_score": [-900.0, -400.0],
    ...                  "std_test_score": [10.0, 20.0], "rank_test_score": [2, 1]},
    ...     best_params_={"cnn__epochs": 30}, best_score_=-400.0)
    >>> tuning_section(result).context["best_params"]
    [('epochs', '30')]
    """
    results = pd.DataFrame(search.cv_results_)
    params = [c for c in results.columns if c.startswith("param_")]
    results = results.sort_values("rank_test_score", na_position="last")
    score = "mean score (-MSE)" if neg_mse else "mean score"
    columns = [_param_label(p) for p in params] + [score, "sd", "rank"]
    if neg_mse:
        columns.insert(len(params), "RMSE (likes)")
    rows = []
    for _, r in results.head(max_rows).iterrows():
        trained = not pd.isna(r["mean_test_score"])
        cells = [_value(r[p]) for p in params]
        if neg_mse:
            cells.append(_number(math.sqrt(-r["mean_test_score"])) if trained else "not trained")
        cells += [
            _number(r["mean_test_score"]),
            _number(r.get("std_test_score")),
            _number(r["rank_test_score"]),
        ]
        chosen = all(r.get(f"param_{k}") == v for k, v in search.best_params_.items())
        rows.append({"cells": cells, "best": trained and chosen})
    best = search.best_score_
    context = {
        "intro": intro,
        "protocol": protocol,
        "columns": columns,
        "rows": rows,
        "n_settings": len(results),
        "best_params": [(_param_label(k), _value(v)) for k, v in search.best_params_.items()],
        "best_score": _number(best),
        "best_rmse": _number(math.sqrt(-best)) if neg_mse and best <= 0 else None,
        "notes": [str(n) for n in getattr(search, "notes", [])],
        "neg_mse": neg_mse,
    }
    return Section("tuning", heading, context, _figures(figures))


def _value(value):
    if isinstance(value, (float, np.floating)):
        return "n/a" if np.isnan(value) else f"{value:g}"
    return str(value)


def evaluation_page(
    report, *, figures=None, posts=None, intro=None, title="spe evaluate", path=None, themes=None
):
    """The HTML page of an :class:`~spe.evaluation.EvaluationReport`.

    What was evaluated and how, the score table with the best row marked,
    the notes, excerpts of the predictions and the figures, in one file.

    Parameters
    ----------
    report : EvaluationReport
    figures : dict of str to figure, default=None
        Caption to a matplotlib Figure or PNG file.
    posts : DataFrame, default=None
        The posts evaluated, to show thumbnails beside the predictions.
    intro : str, default=None
    title : str, default="spe evaluate"
    path : path-like, default=None
        Where to write it.
    themes : PictureThemes, default=None
        The account's picture themes (:func:`~spe.inspection.picture_themes`),
        shown after the scores as "What works on this account".

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from spe.datasets import make_posts
    >>> from spe.evaluation import evaluate
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> html = evaluation_page(evaluate(DummyRegressor(), posts, n_splits=3), posts=posts)
    >>> html.startswith("<!DOCTYPE html>")
    True
    """
    section = evaluation_section(report, figures=figures, posts=posts, intro=intro)
    sections = [section]
    if themes is not None:
        from ._themes import themes_section

        sections.append(themes_section(themes))
    return render_page(sections, title=title, subtitle=section.heading, path=path)


def tuning_page(search, *, figures=None, protocol=None, intro=None, title="spe tune", path=None):
    """The HTML page of a grid search: settings tried, scores, the best.

    Parameters
    ----------
    search : GridSearchCV or TuningResult
    figures : dict of str to figure, default=None
    protocol : str, default=None
        How the folds were made, in words.
    intro : str, default=None
    title : str, default="spe tune"
    path : path-like, default=None

    Returns
    -------
    str

    Examples
    --------
    >>> from spe.tuning import TuningResult
    >>> result = TuningResult(
    ...     cv_results_={"param_cnn__epochs": [10, 30], "mean_test_score": [-900.0, -400.0],
    ...                  "std_test_score": [10.0, 20.0], "rank_test_score": [2, 1]},
    ...     best_params_={"cnn__epochs": 30}, best_score_=-400.0)
    >>> "RMSE" in tuning_page(result)
    True
    """
    section = tuning_section(search, figures=figures, protocol=protocol, intro=intro)
    return render_page([section], title=title, subtitle=section.heading, path=path)


def prediction_section(table, *, heading="Which picture should I post next?", thumbnail_size=128):
    """The ranked candidates of :func:`spe.predict_next`, with thumbnails.

    Parameters
    ----------
    table : DataFrame
        From :func:`spe.predict_next` (an ``actual`` column is shown too).
    heading : str
    thumbnail_size : int, default=128

    Returns
    -------
    Section

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"image": ["x.jpg"], "predicted": [120.0], "low": [90.0], "high": [150.0],
    ...                       "trend": [110.0], "picture factor": [1.09], "reasons": ["brightness +5%"]})
    >>> table.attrs.update(confidence=0.8, when="2026-12-01T18:00:00+00:00", skill="Skill line.")
    >>> prediction_section(table).context["rows"][0]["factor"]
    '+9%'
    """
    rows = []
    for position, (shown, (_, row)) in enumerate(zip(shown_ranks(table), table.iterrows())):
        factor = row["picture factor"]
        actual = row["actual"] if "actual" in row else None
        verdict = None if actual is None else actual_verdict(actual, row["low"], row["high"])
        rows.append(
            {
                "rank": shown,
                "picture": _picture(table, position, thumbnail_size),
                "predicted": whole(row["predicted"]),
                "interval": "n/a" if pd.isna(row["low"]) else f"{whole(row['low'])} to {whole(row['high'])}",
                "trend": whole(row["trend"]),
                "factor": "n/a" if pd.isna(factor) else f"{(factor - 1) * 100:+.0f}%",
                "actual": None if actual is None else _count(actual) + (f", {verdict}" if verdict else ""),
                "reasons": row["reasons"] or "\u2014",
            }
        )
    confidence = table.attrs.get("confidence")
    context = {
        "rows": rows,
        "tie": is_tie(table),
        "when": pd.Timestamp(table.attrs.get("when")).strftime("%Y-%m-%d %H:%M UTC"),
        "skill": skill_line(table),
        "confidence": f"{confidence:.0%}" if confidence else None,
        "with_actual": "actual" in table.columns,
        "candidate_themes": _candidate_themes(table),
    }
    return Section("prediction", heading, context)


def _candidate_themes(table):
    """Each candidate's theme, what it shows, its closest posts (:func:`spe.inspection.with_themes`)."""
    if "theme" not in table.columns:
        return []
    return [
        {
            "file": Path(str(row["image"])).name,
            "theme": int(row["theme"]),
            "name": row["theme name"],
            "effect": row["theme effect"],
            "shows": row["shows"],
            "closest": row["closest posts"],
        }
        for _, row in table.iterrows()
    ]


def prediction_page(table, *, title="spe predict", path=None):
    """The HTML page of :func:`spe.predict_next`'s ranking.

    Parameters
    ----------
    table : DataFrame
        From :func:`spe.predict_next`.
    title : str, default="spe predict"
    path : path-like, default=None
        Where to write it.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"image": ["x.jpg"], "predicted": [120.0], "low": [90.0], "high": [150.0],
    ...                       "trend": [110.0], "picture factor": [1.09], "reasons": [""]})
    >>> table.attrs.update(confidence=0.8, when="2026-12-01T18:00:00+00:00", skill="Skill line.")
    >>> "120" in prediction_page(table)
    True
    """
    section = prediction_section(table)
    return render_page([section], title=title, subtitle=section.heading, path=path)
