"""The report's section on the selected model: what it bases its picture factor on."""

import numpy as np

from ..exceptions import NotExplainableError
from ._explain import feature_importance, format_effect

__all__ = ["REPORT_HEADING", "explain_selected", "explanation_lines"]

REPORT_HEADING = "Why this model predicts what it does"


def _baseline_words(baseline, target):
    if target == "ratio":
        return f"{baseline:.2f} x the trend"
    if target == "log_ratio":
        return f"about {np.exp(baseline):.2f} x the trend"
    return f"the trend {baseline:+.1f} likes"


def explain_selected(models, X, y, *, prepared=None):
    """The why of the selected model for :func:`~spe.evaluation.evaluate`'s report.

    The first :class:`~spe.AutoLikesRegressor` among ``models`` (``account's
    own model`` when present) is fitted once more, on all the posts, and
    its :func:`feature_importance` kept: what the model a person would fit
    on this account now bases its picture factor on.

    Parameters
    ----------
    models : dict of str to estimator
        The candidates evaluated.
    X : DataFrame
        All the posts, without the likes.
    y : ndarray
        Their likes.
    prepared : dict of str to estimator, default=None
        The same candidates with their pictures already featurized
        (:func:`~spe.evaluation.precompute_pictures`), to fit instead.

    Returns
    -------
    dict or None
        ``None`` without such a model. Else ``model``, ``selected``,
        ``n_samples``, ``note`` (what was chosen and how to read the rest, or
        why there are no reasons), ``unit``, ``baseline`` and ``features``:
        one dict per feature, largest effect first, with ``feature``,
        ``reason``, ``coefficient``, ``standard deviation`` and ``effect``
        (in words); empty when there are no reasons.
    """
    from sklearn.base import clone

    from ..models._selection import AutoLikesRegressor

    names = [name for name, model in models.items() if isinstance(model, AutoLikesRegressor)]
    if not names:
        return None
    name = "account's own model" if "account's own model" in names else names[0]
    model = clone((prepared or models)[name]).fit(X, y)
    chosen = f"The {name}, fitted on all {len(y)} posts, chose {model.selected_!r}."
    out = {"model": name, "selected": model.selected_, "n_samples": len(y), "unit": None, "baseline": None}
    try:
        importance = feature_importance(model)
    except NotExplainableError as exc:
        return {**out, "note": f"{chosen} {exc}", "features": []}
    unit, baseline = importance.attrs["unit"], importance.attrs["baseline"]
    out["note"] = chosen
    if np.isfinite(baseline):
        out["note"] += (
            " For a picture whose features all equal the account's average it predicts "
            f"{_baseline_words(baseline, importance.attrs['target'])};"
        )
    out["note"] += (
        f" {'each' if np.isfinite(baseline) else 'Each'} feature one standard deviation above that average "
        "moves the prediction by its effect (a linear model on standardised features)."
    )
    left_out = importance.attrs.get("left_out", {})
    if left_out:  # a mean of models: some of its members have no named features (embeddings)
        out["note"] += (
            f" The mean's members count 1/{len(model.averaged_)} each; {', '.join(map(repr, left_out))} "
            "reads the picture as a whole, with no feature named, so only the others' features are listed."
        )
    out["features"] = [
        {
            "feature": str(feature),
            "reason": row["reason"],
            "coefficient": float(row["coefficient"]),
            "standard deviation": float(row["standard deviation"]),
            "effect": f"{format_effect(row['coefficient'], unit)} per standard deviation",
        }
        for feature, row in importance.iterrows()
    ]
    return {**out, "unit": unit, "baseline": baseline}


def explanation_lines(explanation, n=5):
    """The explanation as text lines for ``EvaluationReport.to_string``: the note, the top ``n``.

    Examples
    --------
    >>> explanation_lines(None)
    []
    >>> explanation_lines({"note": "Chose 'trend'.", "features": []})
    ['', "Why this model predicts what it does: Chose 'trend'."]
    """
    if not explanation:
        return []
    lines = ["", f"{REPORT_HEADING}: {explanation['note']}"]
    width = max((len(f["reason"]) for f in explanation["features"][:n]), default=0)
    lines += [f"  {f['reason']:<{width}}  {f['effect']}" for f in explanation["features"][:n]]
    return lines
