"""The report of :func:`~spe.evaluation.evaluate`, and the notes that say what its scores mean.

:class:`EvaluationReport` holds the score tables and out-of-fold
predictions, and writes them as text, JSON or CSV. The notes call a model
better or worse than a baseline only when the paired difference of their
errors is beyond its moving-block bootstrap noise, and say whether the
pictures add anything once the trend is known. Re-exported by
:mod:`spe.evaluation`; its code never imports that module.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..inspection._selected import explanation_lines


@dataclass
class EvaluationReport:
    """Cross-validated scores of a model and its baselines.

    Attributes
    ----------
    scores : DataFrame
        One row per model, one column per metric: the mean over folds, and
        ``Spearman (all folds)`` over all out-of-fold predictions pooled.
    fold_scores : DataFrame
        The same metrics for every model and fold.
    predictions : DataFrame
        Out-of-fold predictions: ``post_index``, ``fold``, ``actual`` and one
        column per model.
    protocol : str
        How the folds were made.
    n_samples : int
        Posts evaluated.
    notes : list of str
        What the scores mean, in words.
    explanation : dict or None
        Why the selected model predicts what it does: with an
        :class:`~spe.AutoLikesRegressor` among the models, it is fitted on
        all the posts and its feature effects kept (see
        :mod:`spe.inspection`); ``None`` otherwise.
    headline : dict or None
        Walking forward, the answer to "does it beat my recent average?"
        for the model under evaluation (the account's own model where it
        is a row, else the only model): :func:`headline`'s figures and
        ``sentence``, also the first note. ``None`` for other protocols
        and for several models without the own model.
    seconds : dict or None
        Walking forward in this process, each row's measured time.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from spe.datasets import make_posts
    >>> from spe.evaluation import evaluate
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), random_state=0)
    >>> report = evaluate(DummyRegressor(strategy="median"), posts, cv="time", n_splits=3)
    >>> list(report.scores.index)
    ['mean of training likes', 'recent average (k=10)', 'model']
    """

    scores: pd.DataFrame
    fold_scores: pd.DataFrame
    predictions: pd.DataFrame
    protocol: str
    n_samples: int
    notes: list = field(default_factory=list)
    explanation: dict = None
    headline: dict = None
    seconds: dict = None

    def to_string(self):
        """The report as text: the table, then what it means."""
        table = self.scores.to_string(float_format=lambda v: f"{v:,.3f}", na_rep="n/a")
        lines = [f"Cross-validated on {self.n_samples} posts, {self.protocol}.", "", table, ""]
        lines += self.notes
        lines += explanation_lines(self.explanation)
        return "\n".join(lines)

    __str__ = to_string

    def to_json(self, path):
        """Write the scores, protocol and notes as JSON."""
        payload = {
            "protocol": self.protocol,
            "n_samples": self.n_samples,
            "scores": json.loads(self.scores.to_json(orient="index")),
            "fold_scores": json.loads(self.fold_scores.to_json(orient="records")),
            "notes": self.notes,
            "explanation": self.explanation,
            "headline": self.headline,
            "seconds": self.seconds,
        }
        Path(path).write_text(json.dumps(payload, indent=2), encoding="utf-8")

    def to_csv(self, path):
        """Write the score table as CSV."""
        self.scores.to_csv(path, index_label="model")


def _blocks(n, n_resamples, random_state):
    """Indices of ``n_resamples`` moving-block bootstrap samples of ``n`` posts in posting order.

    The posts' errors are paired (same posts, same folds) and follow each
    other in posting order; likes drift, so neighbouring differences are
    correlated. Resampling blocks of about ``n ** (1/3)`` consecutive posts
    keeps that correlation, where resampling single posts (as
    ``scipy.stats.bootstrap`` does) would give too narrow an interval.
    """
    block = max(1, round(n ** (1 / 3)))
    rng = np.random.RandomState(random_state)
    starts = rng.randint(0, n - block + 1, size=(n_resamples, -(-n // block)))
    return (starts[:, :, None] + np.arange(block)).reshape(n_resamples, -1)[:, :n]


def _paired_mae_interval(abs_model, abs_base, n_resamples=2000, random_state=0):
    """95% interval of ``mean(abs_model - abs_base)``: a paired moving-block bootstrap (:func:`_blocks`)."""
    diff = np.asarray(abs_model, dtype=np.float64) - np.asarray(abs_base, dtype=np.float64)
    means = diff[_blocks(len(diff), n_resamples, random_state)].mean(axis=1)
    return np.percentile(means, [2.5, 97.5])


def fewer_missed(actual, predicted, baseline, *, n_resamples=2000, random_state=0):
    """How many fewer likes ``predicted`` missed than ``baseline``, in percent, with its 95% interval.

    ``100 * (1 - MAE(predicted) / MAE(baseline))`` over the same posts, in
    posting order: positive when the model misses fewer likes. The interval
    resamples the posts' paired errors in blocks (:func:`_blocks`), so the
    drift of an account's likes does not make it too narrow. The one
    comparison every command makes against the person's recent average
    (``spe evaluate``'s first sentence, ``spe fit``'s summary).

    Parameters
    ----------
    actual, predicted, baseline : array-like of shape (n_posts,)
        Posts in posting order.
    n_resamples : int, default=2000
    random_state : int, default=0

    Returns
    -------
    tuple of float
        ``(percent, low, high)``; NaN for all three with fewer than 2 posts
        or a baseline that never misses.

    Examples
    --------
    >>> actual = [100, 120, 90, 110, 130, 95, 105, 115]
    >>> recent = [110, 100, 110, 100, 110, 110, 100, 110]
    >>> model = [102, 118, 95, 108, 125, 97, 104, 113]
    >>> percent, low, high = fewer_missed(actual, model, recent)
    >>> round(percent, 1), bool(0 < low < percent < high)
    (80.0, True)
    """
    actual = np.asarray(actual, dtype=np.float64)
    model = np.abs(actual - np.asarray(predicted, dtype=np.float64))
    base = np.abs(actual - np.asarray(baseline, dtype=np.float64))
    if len(actual) < 2 or not base.sum() > 0:
        return (np.nan, np.nan, np.nan)
    index = _blocks(len(actual), n_resamples, random_state)
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = 100 * (1 - model[index].sum(axis=1) / base[index].sum(axis=1))
    low, high = np.nanpercentile(resampled, [2.5, 97.5])
    return (float(100 * (1 - model.sum() / base.sum())), float(low), float(high))


def against_recent_average(subject, percent, low, high, n_posts):
    """The answer to "does it beat my recent average?" in one sentence, noise said plainly.

    Parameters
    ----------
    subject : str
        What missed, e.g. "The account's own model".
    percent, low, high : float
        :func:`fewer_missed`'s answer.
    n_posts : int
        The posts it was measured on.

    Returns
    -------
    str

    Examples
    --------
    >>> print(against_recent_average("The account's own model", 11.8, 8.1, 15.2, 560))
    The account's own model missed 11.8% fewer likes than your recent average (95% interval 8% to 15%,
    over 560 posts walked forward).
    >>> against_recent_average("The trend", -1.5, -4.0, 2.0, 560)[:95]
    'The trend missed 1.5% more likes than your recent average, a gap within noise (95% interval -4%'
    """
    if not np.isfinite(percent):
        return f"{subject} could not be compared with your recent average (too few posts walked)."
    interval = f"95% interval {low:.0f}% to {high:.0f}%, over {n_posts} posts walked forward"
    size = f"{abs(percent):.1f}% {'fewer' if percent >= 0 else 'more'} likes than your recent average"
    if low > 0:
        return f"{subject} missed {size} ({interval})."
    if high < 0:
        return f"{subject} missed {size} ({interval}): your recent average is the better guess here."
    return f"{subject} missed {size}, a gap within noise ({interval}): no better than your recent average."


def headline(scores, predictions, names, recent_name, explanation=None):
    """The first answer of a walked evaluation: does the model under evaluation beat the recent average?

    Parameters
    ----------
    scores, predictions : DataFrame
        A walked :class:`EvaluationReport`'s tables (predictions in posting order).
    names : list of str
        The rows under evaluation (not the baselines).
    recent_name : str
        The recent average's row.
    explanation : dict, default=None
        :func:`~spe.inspection.explain_selected`'s answer: what the own
        model chooses when fitted on all the posts.

    Returns
    -------
    dict or None
        ``model``, ``percent``, ``low``, ``high`` (:func:`fewer_missed`),
        ``MAE`` and ``recent MAE``, ``pairwise`` (value, low, high, None
        where the model never sees a picture), ``coverage`` (of its 80%
        intervals, None where not measured), ``chosen`` and ``sentence``.
        None when there is no single model under evaluation.
    """
    subject = "account's own model" if "account's own model" in names else None
    if subject is None and len(names) == 1:
        subject = names[0]
    if subject is None:
        return None
    percent, low, high = fewer_missed(predictions["actual"], predictions[subject], predictions[recent_name])
    chosen = explanation.get("selected") if explanation and explanation.get("model") == subject else None
    sentence = against_recent_average(f"The {subject}", percent, low, high, len(predictions))
    if chosen is not None:
        sentence = sentence[:-1] + f"; fitted on all {explanation['n_samples']} posts, as spe fit does, "
        sentence += f"it chooses {chosen}."
    row = scores.loc[subject]

    def finite(value):
        return float(value) if value is not None and np.isfinite(value) else None

    coverage = [c for c in scores.columns if str(c).endswith("% coverage")]
    return {
        "model": subject,
        "percent": finite(percent),
        "low": finite(low),
        "high": finite(high),
        "MAE": finite(row["MAE"]),
        "recent MAE": finite(scores.loc[recent_name, "MAE"]),
        "pairwise": [finite(row.get(c)) for c in ("pairwise %", "pairwise % low", "pairwise % high")],
        "coverage": finite(row[coverage[0]]) if coverage else None,
        "coverage level": str(coverage[0]).split(" ")[0] if coverage else None,
        "chosen": chosen,
        "sentence": sentence,
    }


def _verdict(low, high):
    if high < 0:
        return "better than"
    if low > 0:
        return "worse than"
    return "no measurable difference from"


def _row(name):
    """A row's name to begin a sentence with: "Image features", "The trend ..." reads as a label."""
    return name[:1].upper() + name[1:]


def _summary_notes(scores, names, mean_name, recent_name, predictions):
    notes = []
    for model_name in names:
        model = scores.loc[model_name]
        for name in (mean_name, recent_name):
            base = scores.loc[name]
            change = (model["MAE"] - base["MAE"]) / base["MAE"] * 100
            figures = f"MAE {model['MAE']:.1f} vs {base['MAE']:.1f} likes ({change:+.0f}%"
            # Better or worse only when the paired difference over the same
            # out-of-fold posts is larger than its resampling noise.
            ordered = predictions.sort_values(["post_index", "fold"], kind="stable")
            actual = ordered["actual"].to_numpy()
            low, high = _paired_mae_interval(
                np.abs(actual - ordered[model_name].to_numpy()), np.abs(actual - ordered[name].to_numpy())
            )
            # "Image features: better than ...": a row's name is a label, singular or plural.
            notes.append(
                f"{_row(model_name)}: {_verdict(low, high)} the {name}: {figures}; MAE difference "
                f"{low:+.1f} to {high:+.1f} likes, 95% paired block bootstrap over {len(actual)} "
                "out-of-fold posts)."
            )
        if model["R2"] < 0:
            notes.append(
                f"R2 below zero for the {model_name}: on these folds it does worse than always "
                "guessing the test posts' own mean."
            )
    constant = [name for name in scores.index if np.isnan(scores.loc[name, "Spearman"])]
    if constant:
        notes.append(
            f"Spearman n/a for {', '.join(constant)}: one number for every test post of a fold "
            "(in time order the recent average is fixed by the training posts), so no ranking."
        )
    return notes


def _pairs(row):
    return (
        f"{row['pairwise %']:.0f}% of pairs of nearby posts (95% interval {row['pairwise % low']:.0f}% "
        f"to {row['pairwise % high']:.0f}%; chance is 50%)"
    )


def _picture_note(scores, pictures, trend_names):
    """Whether the pictures rank posts better than chance, and what they add to the likes' size."""
    best_trend = scores.loc[trend_names, "MAE"].min()
    measured = scores.loc[pictures].dropna(subset=["pairwise %"]) if pictures else scores.iloc[:0]
    ranking = measured[measured["picture skill low"] > 0]
    if not len(ranking):
        top = measured["pairwise %"].idxmax() if len(measured) else None
        best = f" (best: the {top}, {_pairs(measured.loc[top])})" if top is not None else ""
        return (
            "On this account the pictures add nothing measurable: no picture model ranks posts "
            "against their trend better than chance (a picture-skill interval above 0)"
            f"{best}; the order of the pictures is a guess."
        )
    name = ranking["pairwise %"].idxmax()
    row = ranking.loc[name]
    ranks = f"The pictures rank posts better than chance: the {name} ranks {_pairs(row)} right."
    gain = (best_trend - row["MAE"]) / best_trend * 100
    if gain > 0:
        return (
            f"{ranks} On this account the pictures add {gain:.0f}%: its MAE is {gain:.0f}% below the "
            f"best trend's ({row['MAE']:.1f} vs {best_trend:.1f})."
        )
    return (
        f"{ranks} Its MAE is not below the best trend's ({row['MAE']:.1f} vs {best_trend:.1f}): "
        "the pictures add to the choice of a picture, not to the size of its likes."
    )
