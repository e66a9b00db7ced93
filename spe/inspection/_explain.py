"""Why a model predicts what it does: each named feature's share of the picture factor.

:class:`~spe.LikesRegressor` predicts ``trend x picture factor``. When its
image model is a linear model on standardised, named features (the
package's ``ImageFeatures + StandardScaler + ridge``, with or without
:class:`~spe.PostFeatures`), the picture factor is exactly
``intercept + sum_j coef_j * z_j``: ``z_j`` is how many standard deviations
the post's feature ``j`` lies from the training posts' average, so
``coef_j * z_j`` is feature ``j``'s contribution, relative to the
account's average picture (``z = 0``, whose factor is the intercept).
These are the "coefficients on standardised features" of the issue; for a
linear model they are also what SHAP's linear explainer gives with
independent features, so no further library is needed.
"""

import numpy as np
import pandas as pd
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._tree import chain, contains, final
from ..exceptions import NotExplainableError
from ..features._loader import ImageLoader
from ..models._average import AveragedLikesRegressor
from ..models._combined import LikesRegressor
from ._shares import combine_shares, log_baseline, log_effects

__all__ = ["WHOLE_PICTURE", "feature_importance", "picture_contributions", "top_reasons"]

#: The one reason of a picture model on embeddings: no feature of it has a name.
WHOLE_PICTURE = "the picture as a whole"

#: Short phrases for the features of ImageFeatures and PostFeatures. Features
#: sharing a phrase (the hour on its circle) are summed in the reasons.
PHRASES = {
    "brightness": "brightness",
    "contrast": "contrast",
    "saturation": "saturation",
    "colourfulness": "colourfulness",
    "sharpness": "sharpness",
    "symmetry": "symmetry",
    "edge_density": "edges",
    "hue_red": "red tones",
    "hue_yellow": "yellow tones",
    "hue_green": "green tones",
    "hue_cyan": "cyan tones",
    "hue_blue": "blue tones",
    "hue_magenta": "magenta tones",
    "face_count": "faces",
    "face_area": "face size",
    "hour_sin": "hour of posting",
    "hour_cos": "hour of posting",
    "weekday": "day of the week",
    "weekend": "weekend",
    "days_since_previous": "days since the last post",
    "posts_previous_7_days": "posts in the week before",
    "posts_previous_30_days": "posts in the month before",
    "caption_words": "caption length",
    "hashtags": "hashtags",
    "mentions": "mentions",
    "emoji": "emoji",
    "followers": "followers",
}

_UNITS = {"ratio": "fraction of the trend", "log_ratio": "fraction of the trend", "residual": "likes"}


def phrase(name):
    """A feature's name as a person reads it: ``picture__edge_density`` -> ``edges``.

    Examples
    --------
    >>> phrase("post__hour_sin"), phrase("my_column")
    ('hour of posting', 'my column')
    """
    short = str(name).rsplit("__", 1)[-1]
    return PHRASES.get(short, short.replace("_", " "))


def _likes_regressor(model):
    """The fitted LikesRegressor in ``model``, following ``estimator_``; else say why there is none."""
    check_is_fitted(model)
    wrappers = list(chain(model))
    for part in wrappers:
        if isinstance(part, LikesRegressor):
            check_is_fitted(part)
            return part
    model, outer = wrappers[-1], (wrappers[-2] if len(wrappers) > 1 else None)
    what = type(model).__name__
    if outer is not None and hasattr(outer, "selected_"):
        what = f"{type(outer).__name__} chose {outer.selected_!r} ({what}), which"
    if getattr(model, "_predicts_from_earlier_posts", False):
        raise NotExplainableError(
            f"No picture reasons: {what} predicts from the account's trend alone, so there is no "
            "picture factor; every picture posted next gets the same prediction."
        )
    raise NotExplainableError(
        f"No picture reasons: {what} does not predict likes as trend x picture factor. Reasons "
        "come from a LikesRegressor (or a model holding one as estimator_, e.g. AutoLikesRegressor)."
    )


def _members(model):
    """The fitted members by name when ``model`` predicts with an AveragedLikesRegressor, else None."""
    check_is_fitted(model)
    last = final(model)
    return last.named_estimators_ if isinstance(last, AveragedLikesRegressor) else None


def _mean_importance(members):
    """The explainable members' coefficients at ``1 / k`` of the mean's log factor; who was left out."""
    frames, left_out, baseline = [], {}, 0.0
    for name, member in members.items():
        try:
            frame, log_base = log_effects(feature_importance(member), len(members))
        except NotExplainableError as exc:  # embeddings: no names; the member still counts in the mean
            left_out[name] = str(exc)
            baseline += _log_intercept(member) / len(members)
            continue
        frames.append(frame)
        baseline += log_base
    if not frames:
        whole = "; ".join(f"{name!r}: {why}" for name, why in left_out.items())
        raise NotExplainableError(
            f"No picture reasons: the model is a mean of models none of which has them. {whole}"
        )
    # A feature two members read is one row: its log effects add up (as in combine_shares).
    out = pd.concat(frames).assign(coefficient=lambda f: np.log1p(f["coefficient"]))
    how = {"reason": "first", "coefficient": "sum", "standard deviation": "first"}
    out = out.groupby(level=0, sort=False).agg(how).assign(coefficient=lambda f: np.expm1(f["coefficient"]))
    out = out.iloc[np.argsort(-np.abs(out["coefficient"].to_numpy()), kind="stable")]
    out.attrs.update(target="log_ratio", unit=_UNITS["log_ratio"], baseline=baseline, left_out=left_out)
    return out


def _log_intercept(member):
    """The log factor a member gives the account's average picture (NaN when it has no linear one)."""
    try:
        likes_model = _likes_regressor(member)
        *_, intercept = _linear_parts(likes_model.image_model_, whole=True)
        return log_baseline(intercept, likes_model.target)
    except NotExplainableError:
        return np.nan


def _unnamed(obj):
    """Whether ``obj`` makes features without a meaning a person reads (components, pixels)."""
    if getattr(obj, "_unnamed_features", False) is True:  # PretrainedEmbedder
        return True
    return isinstance(obj, (ClassNamePrefixFeaturesOutMixin, ImageLoader))


def _linear_parts(image_model, whole=False):
    """Feature names, scaler, coefficients and intercept of ``... -> StandardScaler -> linear``.

    With ``whole``, features without names (embeddings, components) are
    accepted and the names are None: the caller sums them into one reason.
    """
    name = type(image_model).__name__
    if not isinstance(image_model, Pipeline) or len(image_model) < 2:
        raise NotExplainableError(
            f"No picture reasons: the image model ({name}) is not a pipeline of named features, "
            "StandardScaler and a linear model, so its prediction is no sum of feature contributions. "
            "sklearn.inspection.permutation_importance still measures its global importance."
        )
    linear, scaler = image_model[-1], image_model[-2]
    coef = np.ravel(getattr(linear, "coef_", np.array([])))
    if not hasattr(linear, "intercept_") or coef.ndim != 1 or not len(coef):
        raise NotExplainableError(
            f"No picture reasons: the image model's last step ({type(linear).__name__}) is not linear "
            "(no coef_ and intercept_), so its prediction is no sum of feature contributions. "
            "sklearn.inspection.permutation_importance still measures its global importance."
        )
    if not isinstance(scaler, StandardScaler) or not scaler.with_mean:
        raise NotExplainableError(
            f"No picture reasons: the step before {type(linear).__name__} is {type(scaler).__name__}, "
            "not StandardScaler(with_mean=True); the contributions need standardised features, "
            "measured from the training posts' average. Add StandardScaler() before it."
        )
    if contains(image_model[:-1], _unnamed):
        if whole:
            return None, scaler, coef, float(np.ravel(linear.intercept_)[0])
        raise NotExplainableError(
            "No picture reasons: the image model's features are embeddings, components or pixels "
            "(PretrainedEmbedder, PCA, ImageLoader), which have no meaning in words. Its scores still "
            "compare it; reasons need named features (ImageFeatures, PostFeatures)."
        )
    names = np.asarray(image_model[:-1].get_feature_names_out(), dtype=object)
    intercept = float(np.ravel(linear.intercept_)[0])
    probe = np.vstack([np.zeros(len(coef)), np.eye(len(coef))])
    if hasattr(linear, "feature_names_in_"):
        probe = pd.DataFrame(probe, columns=linear.feature_names_in_)
    # Any regressor with coef_ qualifies only if it really predicts intercept + z @ coef.
    if not np.allclose(np.ravel(linear.predict(probe)), intercept + np.r_[0.0, coef]):
        raise NotExplainableError(
            f"No picture reasons: {type(linear).__name__} does not predict intercept_ + X @ coef_, so "
            "its coefficients are no contributions."
        )
    return names, scaler, coef, intercept


def _in_unit(values, target):
    """Contributions on the image model's target, in the unit a person reads."""
    return np.expm1(values) if target == "log_ratio" else values


def _frame(values, index, columns, target, baseline):
    frame = pd.DataFrame(values, index=index, columns=columns)
    frame.attrs.update(target=target, unit=_UNITS[target], baseline=baseline)
    return frame


def picture_contributions(model, X):
    """Each named feature's contribution to each post's picture factor.

    ``model`` predicts ``trend x picture factor`` (a fitted
    :class:`~spe.LikesRegressor`, or any model holding one as
    ``estimator_``, such as :class:`~spe.AutoLikesRegressor`). Its image
    model must end in ``StandardScaler`` and a linear model on named
    features (:class:`~spe.ImageFeatures`, :class:`~spe.PostFeatures`).
    A post's contribution of feature ``j`` is then ``coef_j * z_j``, with
    ``z_j`` its standardised feature: how far this post moves the picture
    factor away from the account's average picture (a post whose features
    all equal the training posts' average gets none). The unit depends on
    the model's ``target``:

    - ``"ratio"``: fractions of the trend, exactly additive: the factor is
      ``attrs["baseline"]`` (the average picture's) plus the row's sum,
      and 0.05 reads "+5% of the trend".
    - ``"log_ratio"``: the image model learns ``log1p(likes) -
      log1p(trend)``, so a contribution ``c`` multiplies ``likes + 1`` by
      ``exp(c)``; it is given as ``exp(c) - 1`` (0.05: "+5%"). These
      multiply: ``exp(baseline) * prod(1 + contribution)`` is the factor.
    - ``"residual"``: likes above or below the trend, additive like ratio.

    Unnamed features (embeddings, PCA components) are summed into one column,
    ``"the picture as a whole"`` (:func:`~spe.inspection.closest_posts` says
    which past posts a picture resembles); passed-through columns keep their
    names. A mean of models (:class:`~spe.models.AveragedLikesRegressor`)
    gives its members' contributions as shares of its log factor, read as
    ``"log_ratio"``'s (see ``spe.inspection._shares``).

    Parameters
    ----------
    model : fitted estimator
        A :class:`~spe.LikesRegressor` or a model wrapping one as ``estimator_``.
    X : DataFrame
        Posts, as the model predicts them.

    Returns
    -------
    DataFrame
        One row per post (``X``'s index), one column per feature (the image
        model's ``get_feature_names_out``). ``attrs`` holds ``target``,
        ``unit`` and ``baseline``, the image model's prediction for the
        average picture (on its target).

    Raises
    ------
    NotExplainableError
        If the model has no picture factor (a trend, a model of likes
        alone, an :class:`~spe.AutoLikesRegressor` that chose the trend),
        or its picture factor is no linear model on standardised features
        (a CNN, a non-linear last step); the message says which.

    See Also
    --------
    top_reasons : The largest contributions of each post, in words.
    feature_importance : The coefficients themselves, for the whole model.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from spe import ImageFeatures, LikesRegressor
    >>> from spe.datasets import make_posts
    >>> from spe.inspection import picture_contributions
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    >>> model = LikesRegressor(image_model=features).fit(posts, posts["likes"])
    >>> parts = picture_contributions(model, posts.tail(2))
    >>> parts.shape, parts.attrs["unit"]
    ((2, 13), 'fraction of the trend')
    """
    if (members := _members(model)) is not None:  # a mean: each member's reasons at 1/k of the log factor
        return combine_shares([picture_contributions(m, X) for m in members.values()], _UNITS["log_ratio"])
    return _contributions(_likes_regressor(model), X)


def _contributions(likes_model, X):
    image_model = likes_model.image_model_
    names, _, coef, intercept = _linear_parts(image_model, whole=True)
    parts = np.asarray(image_model[:-1].transform(X), dtype=np.float64) * coef  # z_j * coef_j
    if names is None:  # embeddings: one reason, the sum
        names, parts = np.array([WHOLE_PICTURE], dtype=object), parts.sum(axis=1, keepdims=True)
    values = _in_unit(parts, likes_model.target)
    index = X.index if isinstance(X, pd.DataFrame) else None
    return _frame(values, index, names, likes_model.target, intercept)


def feature_importance(model):
    """The global why: each named feature's effect on the picture factor.

    The image model's coefficients on standardised features, largest
    first: how much the picture factor moves when a feature is one
    standard deviation (of the training posts) above the average, in the
    unit of :func:`picture_contributions`.

    Parameters
    ----------
    model : fitted estimator
        A :class:`~spe.LikesRegressor` or a model wrapping one as ``estimator_``.

    Returns
    -------
    DataFrame
        One row per feature (index ``feature``), sorted by the absolute
        coefficient: ``reason`` (the feature in words), ``coefficient``
        (per standard deviation) and ``standard deviation`` (of the feature
        on the training posts, in its own unit). ``attrs`` as in
        :func:`picture_contributions`.

    Raises
    ------
    NotExplainableError
        As :func:`picture_contributions`.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from spe import ImageFeatures, LikesRegressor
    >>> from spe.datasets import make_posts
    >>> from spe.inspection import feature_importance
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    >>> model = LikesRegressor(image_model=features).fit(posts, posts["likes"])
    >>> list(feature_importance(model).columns)
    ['reason', 'coefficient', 'standard deviation']
    """
    if (members := _members(model)) is not None:
        return _mean_importance(members)
    likes_model = _likes_regressor(model)
    names, scaler, coef, intercept = _linear_parts(likes_model.image_model_)
    scale = scaler.scale_ if scaler.scale_ is not None else np.ones(len(coef))
    frame = pd.DataFrame(
        {
            "reason": [phrase(n) for n in names],
            "coefficient": _in_unit(coef, likes_model.target),
            "standard deviation": scale,
        },
        index=pd.Index(names, name="feature"),
    )
    order = np.argsort(-np.abs(frame["coefficient"].to_numpy()), kind="stable")
    frame = frame.iloc[order]
    frame.attrs.update(target=likes_model.target, unit=_UNITS[likes_model.target], baseline=intercept)
    return frame


def format_effect(value, unit):
    """``0.061`` -> ``'+6%'`` for fractions of the trend, ``3.2`` -> ``'+3 likes'`` for likes.

    Examples
    --------
    >>> format_effect(0.061, "fraction of the trend"), format_effect(-0.004, "fraction of the trend")
    ('+6%', '-0.4%')
    >>> format_effect(3.2, "likes")
    '+3 likes'
    """
    if unit == "likes":
        return f"{value:+.0f} likes" if abs(value) >= 1 else f"{value:+.1f} likes"
    percent = 100 * value
    return f"{percent:+.0f}%" if abs(percent) >= 1 else f"{percent:+.1f}%"


def _grouped(contributions):
    """Contributions summed per phrase (multiplied, for log_ratio's factors)."""
    phrases = [phrase(c) for c in contributions.columns]
    if contributions.attrs.get("target") == "log_ratio":
        return np.expm1(np.log1p(contributions).T.groupby(phrases, sort=False).sum().T)
    return contributions.T.groupby(phrases, sort=False).sum().T


def top_reasons(contributions, n=3):
    """The ``n`` largest contributions of each post, in words.

    Features that make one thing (the hour of posting, on its circle) are
    combined first. The sign says whether the feature raises or lowers
    the picture's likes against the account's average picture.

    Parameters
    ----------
    contributions : DataFrame
        From :func:`picture_contributions`; its ``attrs["unit"]`` sets the
        format (percent of the trend, or likes).
    n : int, default=3
        Reasons per post.

    Returns
    -------
    Series of str
        One line per post, e.g. ``"brightness +6%, faces -3%, hour of
        posting +2%"``; ``"no feature stands out"`` for an average picture.

    Examples
    --------
    >>> import pandas as pd
    >>> from spe.inspection import top_reasons
    >>> parts = pd.DataFrame({"brightness": [0.06], "face_count": [-0.03], "hue_red": [0.001]})
    >>> top_reasons(parts, n=2).tolist()
    ['brightness +6%, faces -3%']
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"top_reasons parameter 'n' must be a positive int, got {n!r}.")
    unit = contributions.attrs.get("unit", _UNITS["ratio"])
    grouped = _grouped(contributions)
    lines = []
    for _, row in grouped.iterrows():
        row = row[row != 0]
        top = row.reindex(row.abs().sort_values(ascending=False, kind="stable").index[:n])
        parts = [f"{name} {format_effect(value, unit)}" for name, value in top.items()]
        lines.append(", ".join(parts) or "no feature stands out")
    return pd.Series(lines, index=contributions.index, dtype=object)
