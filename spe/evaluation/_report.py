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
        }
        Path(path).write_text(json.dumps(payload, indent=2), encoding="utf-8")

    def to_csv(self, path):
        """Write the score table as CSV."""
        self.scores.to_csv(path, index_label="model")


def _paired_mae_interval(abs_model, abs_base, n_resamples=2000, random_state=0):
    """95% interval of ``mean(abs_model - abs_base)``: a paired moving-block bootstrap.

    The posts' errors are paired (same posts, same folds) and follow each
    other in posting order; likes drift, so neighbouring differences are
    correlated. Resampling blocks of about ``n ** (1/3)`` consecutive posts
    keeps that correlation, where resampling single posts (as
    ``scipy.stats.bootstrap`` does) would give too narrow an interval.
    """
    diff = np.asarray(abs_model, dtype=np.float64) - np.asarray(abs_base, dtype=np.float64)
    n = len(diff)
    block = max(1, round(n ** (1 / 3)))
    rng = np.random.RandomState(random_state)
    starts = rng.randint(0, n - block + 1, size=(n_resamples, -(-n // block)))
    means = diff[(starts[:, :, None] + np.arange(block)).reshape(n_resamples, -1)[:, :n]].mean(axis=1)
    return np.percentile(means, [2.5, 97.5])


def _verdict(low, high):
    if high < 0:
        return "is better than"
    if low > 0:
        return "is worse than"
    return "shows no measurable difference from"


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
            notes.append(
                f"The {model_name} {_verdict(low, high)} the {name}: {figures}; MAE difference "
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
