"""The next post: each candidate picture's likes if posted next, ranked, with how sure and why."""

import os
import re

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._tree import final as _final
from .._tree import parts
from ..exceptions import ImageLoadError
from ..features._loader import ImageLoader
from ..model_selection._skill import MIN_STRETCHES, STRETCH, accuracy_of
from ..model_selection._walk import has_pictures

__all__ = ["next_post_model", "predict_next", "skill_note", "what_was_chosen"]


def _history(model):
    """What the model knows of the account: last post index, last posting time, training columns."""
    from ..features._post_features import PostFeatures
    from ._baselines import PastLikesRegressor

    last_index, last_time, columns = None, None, []
    for part in parts(model, fitted=True):
        if isinstance(part, PastLikesRegressor) and getattr(part, "order", None) == "post_index":
            if len(getattr(part, "order_", ())):
                last_index = max(last_index or -np.inf, float(np.max(part.order_)))
        if isinstance(part, PostFeatures) and len(getattr(part, "timestamps_", ())):
            time = pd.Timestamp(int(part.timestamps_[-1]), tz="UTC")
            last_time = time if last_time is None else max(last_time, time)
        for column in getattr(part, "feature_names_in_", ()):
            if isinstance(column, str) and column not in columns:
                columns.append(column)
    # A loaded model also knows the account's last post from its folder's summary.
    summary = getattr(model, "spe_metadata_", {}).get("data") or {}
    if summary.get("timestamp_range") and last_time is None:
        last_time = pd.Timestamp(summary["timestamp_range"][1])
        last_time = last_time.tz_localize("UTC") if last_time.tzinfo is None else last_time.tz_convert("UTC")
    if summary.get("post_index_range") and last_index is None:
        last_index = float(summary["post_index_range"][1])
    return last_index, last_time, columns


def _parse_when(when, last_time):
    # "now" and "today" are pandas' words for the local clock, without a time
    # zone, which the no-offset-means-UTC rule below would label UTC: off by
    # the local offset wherever TZ is not UTC. They mean this moment.
    if when is None or (isinstance(when, str) and when.strip().lower() in ("now", "today")):
        return _after(pd.Timestamp.now(tz="UTC").floor("s"), when, last_time)
    _refuse_day_month(when)
    try:
        parsed = pd.Timestamp(when)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"when={when!r} is not a date and time ({exc}); write it e.g. as 2026-12-01T18:00 or "
            "'2026-12-01 18:00+01:00' (no offset means UTC)"
        ) from None
    if parsed is pd.NaT:
        raise ValueError(f"when={when!r} is not a date and time")
    parsed = parsed.tz_localize("UTC") if parsed.tzinfo is None else parsed.tz_convert("UTC")
    return _after(parsed, when, last_time)


def _refuse_day_month(when):
    """``01/12/2026`` is 1 December in most of the world and 12 January in the US: refused, not guessed."""
    found = isinstance(when, str) and re.match(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(.*)$", when)
    if found:
        first, second, year, rest = found.groups()
        readings = {f"{year}-{int(m):02d}-{int(d):02d}{rest}" for d, m in ((first, second), (second, first))}
        readings = sorted(r for r in readings if 0 < int(r[5:7]) <= 12)
        question = f"is {first} the day or the month? " if len(readings) > 1 else ""
        raise ValueError(
            f"when={when!r}: {question}write the date year first (ISO), "
            f"e.g. {' or '.join(repr(r) for r in readings) or repr('2026-12-01 18:00')}"
        )


def _after(parsed, when, last_time):
    """``parsed``, checked to be after the model's last training post."""
    if when is not None and last_time is not None and parsed <= last_time:
        raise ValueError(
            f"when={when!r} ({parsed:%Y-%m-%d %H:%M} UTC) is not after the model's last training post "
            f"({last_time:%Y-%m-%d %H:%M} UTC); the model predicts posts after those it learned from"
        )
    return parsed


def _check_pictures(paths):
    """Decode every candidate; name all that fail in one error, before predicting any."""
    problems = []
    for path in paths:
        try:
            ImageLoader(size=(8, 8)).check([path])
        except ImageLoadError as exc:
            problems.append(str(exc))
    if problems:
        raise ImageLoadError(
            f"{len(problems)} of {len(paths)} pictures cannot be read, so none was ranked (a ranking "
            f"without them would answer a different question): {'; '.join(problems)}"
        )


def _next_posts(model, images, when, caption):
    """The candidates as rows of a posts table, each as if it were the account's next post."""
    if isinstance(images, pd.DataFrame):
        if "image" not in images.columns:
            raise ValueError(f"images: a DataFrame needs an 'image' column (columns: {list(images.columns)})")
        posts = images.reset_index(drop=True).copy()
    else:
        images = [images] if isinstance(images, (str, os.PathLike)) else list(images)
        posts = pd.DataFrame({"image": [str(p) for p in images]})
    if posts.empty:
        raise ValueError("images: no pictures given; pass one path or more")
    _check_pictures(posts["image"].tolist())
    last_index, last_time, columns = _history(model)
    when = _parse_when(when, last_time)
    if "post_index" not in posts:
        posts["post_index"] = (last_index if last_index is not None else 0) + 1
    if "timestamp" not in posts:
        posts["timestamp"] = when
    if "caption" not in posts:
        posts["caption"] = "" if caption is None else str(caption)
    for column in columns:  # a column the model was fitted with but that a planned post cannot have
        if column not in posts:
            posts[column] = np.nan
    return posts, when


def _trend_part(model, X, predicted):
    """Likes the account's trend alone expects, or NaN when the model has no trend part."""
    from ._average import AveragedLikesRegressor, geometric_mean_likes
    from ._baselines import PastLikesRegressor
    from ._combined import LikesRegressor
    from ._trend import AutoTrendRegressor

    final = _final(model)
    if isinstance(final, AveragedLikesRegressor):  # the mean of the members' trends (one trend, as a rule)
        parts = [_trend_part(member, X, predicted) for member in final.estimators_]
        return geometric_mean_likes(np.column_stack(parts))
    if isinstance(final, LikesRegressor):
        return np.asarray(final.trend_.predict(X), dtype=np.float64)
    if isinstance(final, (PastLikesRegressor, AutoTrendRegressor)):
        return predicted  # the model is the trend: no picture part
    return np.full(len(X), np.nan)


def _reasons(model, X, n, factor):
    """Top ``n`` parts of each ``factor`` and the rest, adding up to it (spe.inspection._factor); or None."""
    if n == 0:
        return None
    from ..inspection._factor import factor_parts, factor_reasons

    try:
        parts = factor_parts(model, X, factor)
    except (TypeError, ValueError):
        return None
    return list(factor_reasons(parts, n=n))


def skill_note(model):
    """One line: did the model's picture part show skill on this account when it was fitted?

    Parameters
    ----------
    model : fitted estimator
        Best a :class:`~spe.ConformalLikesRegressor`, which measures the
        picture part's skill walking forward over its training posts.

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile
    >>> from spe import AutoTrendRegressor, ConformalLikesRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts, posts["likes"])
    >>> skill_note(model).split(":")[0]
    "The model is the account's trend"
    """
    from ._baselines import PastLikesRegressor
    from ._trend import AutoTrendRegressor

    final = _final(model)
    if isinstance(final, (PastLikesRegressor, AutoTrendRegressor)):
        return (
            "The model is the account's trend: every picture gets the same prediction, and their order "
            "is a tie. No picture model beat the trend on this account's own posts."
        )
    skill = getattr(model, "picture_skill_", None)
    walked = len(getattr(model, "walk_", ()))
    if skill is None or not np.isfinite(skill[0]):
        if skill is not None and not has_pictures(model):
            return (
                "The model never sees the pictures: every picture's prediction differs only by what "
                "the model reads besides the picture, and their order as pictures is a tie."
            )
        return (
            "Whether the pictures matter on this account is unknown: this model was fitted without a "
            "walk-forward check (spe fit makes one)."
        )
    if not np.isfinite(skill[1]):  # too few stretches of walked posts for an interval
        return _too_few_for_skill(model, 100 * accuracy_of(skill)[0], walked)
    accuracy, low, high = (100 * v for v in accuracy_of(skill))
    measured = (
        f"of two posts a few apart, the one it preferred got more likes relative to the trend in "
        f"{accuracy:.0f}% of pairs (95% interval {low:.0f}% to {high:.0f}%; chance is 50%), each of "
        f"{walked} training posts predicted from the posts before it"
    )
    if has_skill(model):
        return (
            f"The pictures rank posts better than chance on this account: {measured}. The pictures are "
            "ordered by their picture factor; how reliable that order is: the share of pairs above."
        )
    # Not "the trend is what to trust": a model chosen for missing fewer likes than the trend
    # (spe fit's "Chose ...") is worth its likes even where its order of pictures is not.
    return (
        f"The picture part showed no measurable skill on this account when fitted ({measured}): "
        f"the order of the pictures is a tie{_against_trend(model)}."
    )


def _against_trend(model):
    """``, and the trend alone missed fewer likes ...`` where it did walking forward, else nothing."""
    walk = model.walk_
    own = float(np.mean(np.abs(walk["actual"] - walk["predicted"])))
    trend = float(np.mean(np.abs(walk["actual"] - walk["trend"])))
    if own <= trend:
        return ""
    return (
        f", and the trend alone missed fewer likes walking forward ({trend:.1f} a post, this model {own:.1f})"
    )


def _too_few_for_skill(model, accuracy, walked):
    """The skill line of a walk too short for an interval: how far it got and what it takes."""
    needed = STRETCH * (MIN_STRETCHES - 1) + 2  # pairs in MIN_STRETCHES stretches
    fewest = (
        f", an account of {model.fewest_posts(walked=needed)} posts" if hasattr(model, "fewest_posts") else ""
    )
    return (
        f"Too few posts to tell whether the pictures rank posts better than chance: of two posts a few "
        f"apart, the one the model preferred got more likes relative to the trend in {accuracy:.0f}% of "
        f"pairs, over {walked} posts walked forward, and an interval takes {needed}{fewest}: the order of "
        "the pictures is a tie."
    )


def has_skill(model):
    """Whether the model's picture part ranked its walked posts better than chance (interval above 0)."""
    skill = getattr(model, "picture_skill_", None)
    return skill is not None and bool(np.isfinite(skill[1]) and skill[1] > 0) and has_pictures(model)


def predict_next(model, images, *, when=None, caption=None, reasons=3):
    """Each candidate picture's likes if posted next, ranked best first.

    Every picture is predicted as the account's next post: after the last
    post the model learned from, at ``when``, so the trend is where the
    account stands now and the pictures differ only by what they show.

    Parameters
    ----------
    model : fitted estimator
        Any fitted spe model; a :class:`~spe.ConformalLikesRegressor` (what
        ``spe fit`` saves) adds prediction intervals and the skill line.
    images : path-like, sequence of path-like, or DataFrame
        The candidate pictures; a DataFrame has an ``image`` column and may
        carry other planned-post columns (``caption``, ``timestamp``, ...).
    when : str, datetime or Timestamp, default=None
        Planned posting time (no time zone means UTC); ``None`` or ``"now"``
        means this moment, whatever the local time zone.
        Must be after the last training post.
    caption : str, default=None
        The planned caption, for models that read captions (``None``: an
        empty caption).
    reasons : int, default=3
        How many feature contributions to list per picture (0: none).

    Returns
    -------
    DataFrame
        Indexed by rank (1 = most likes), with ``image``, ``predicted``
        likes, ``low`` and ``high`` (the prediction interval, NaN when the
        model has none), ``trend`` (the likes the trend alone expects),
        ``picture factor`` (predicted / trend: 1.12 is "+12% for this
        picture") and ``reasons`` (its parts, adding up to its percent).
        Ordered by the picture factor when the model's picture part
        showed skill walking forward (its skill interval above 0), else
        by the predicted likes. ``attrs`` holds
        ``confidence``, ``when``, ``skill`` (:func:`skill_note`),
        ``ranked_by`` (the column that set the order) and ``tie`` (True
        when the order of the pictures is no better than chance).

    Raises
    ------
    spe.exceptions.ImageLoadError
        If any picture cannot be read: all are named and none is ranked.
    ValueError
        If ``when`` is not a time, or not after the last training post.

    Examples
    --------
    >>> import tempfile
    >>> from spe import AutoTrendRegressor, ConformalLikesRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts, posts["likes"])
    >>> table = predict_next(model, posts["image"].iloc[:3], when="2030-01-01")
    >>> list(table.columns)
    ['image', 'predicted', 'low', 'high', 'trend', 'picture factor', 'reasons']
    >>> bool((table["low"] <= table["predicted"]).all())
    True
    """
    check_is_fitted(model)
    if not isinstance(reasons, (int, np.integer)) or reasons < 0:
        raise ValueError(f"reasons must be a whole number >= 0, got {reasons!r}")
    X, when = _next_posts(model, images, when, caption)
    predicted = np.asarray(model.predict(X), dtype=np.float64).ravel()
    interval = np.full((len(X), 2), np.nan)
    if hasattr(model, "predict_interval"):
        interval = np.asarray(model.predict_interval(X), dtype=np.float64)
    trend = _trend_part(model, X, predicted)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = predicted / np.maximum(trend, 1.0)
    why = _reasons(model, X, reasons, factor)
    table = pd.DataFrame(
        {
            "image": X["image"].to_numpy(),
            "predicted": predicted,
            "low": interval[:, 0],
            "high": interval[:, 1],
            "trend": trend,
            "picture factor": factor,
            "reasons": why if why is not None else [""] * len(X),
        }
    )
    # Pictures that showed skill are ordered by what the picture adds (the size of the likes is
    # the trend's); otherwise by the likes, and tied pictures keep the order they were given in.
    ranked = has_skill(model) and np.isfinite(factor).all()
    by = "picture factor" if ranked else "predicted"
    table = table.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    table.attrs.update(
        confidence=getattr(model, "confidence", None) if hasattr(model, "predict_interval") else None,
        when=when.isoformat(),
        skill=skill_note(model),
        ranked_by=by,
        tie=not ranked,
    )
    return table


def _key(name):
    return re.sub(r"[^a-z0-9]+", " ", str(name).lower()).strip()


def next_post_model(
    model="auto",
    *,
    size=64,
    epochs=50,
    learning_rate=None,
    post_features=False,
    n_posts=None,
    cache_dir=None,
    embeddings=True,
):
    """The unfitted model ``spe fit`` trains: a chosen model with conformal intervals around it.

    Parameters
    ----------
    model : str, default="auto"
        ``"auto"``: :class:`~spe.AutoLikesRegressor`, the model the
        account's own posts pick walking forward (the ``account's own
        model`` of :func:`~spe.evaluation.candidates`). Otherwise the name
        of a :func:`~spe.evaluation.candidates` entry (case, spaces and
        punctuation do not matter: ``trend-x-picture`` works).
    size, epochs : int
        Picture side and CNN epochs, as in :func:`~spe.evaluation.candidates`.
    learning_rate : float, default=None
        The CNN's learning rate (``None``: its default).
    post_features : bool, default=False
        Offer the post's own features (time, caption): for data with
        ``timestamp`` and ``caption`` columns.
    n_posts : int, default=None
        The number of training posts, to refit a network only about 5
        times while calibrating (each refit trains it anew).
    cache_dir : path-like, default=None
        The CNN's picture cache, as in :func:`~spe.evaluation.candidates`.
    embeddings : bool, default=True
        ``False`` leaves the backbone's embeddings out of ``"auto"`` (pictures under 32 px).

    Returns
    -------
    ConformalLikesRegressor

    Raises
    ------
    ValueError
        If ``model`` names no candidate; the message lists them.

    Examples
    --------
    >>> next_post_model("trend x picture", size=16).estimator
    LikesRegressor(...)
    """

    from ..model_selection._walk import WalkForwardSplit
    from ._candidates import candidates
    from ._intervals import ConformalLikesRegressor

    wanted = "account's own model" if _key(model) == "auto" else model
    options = candidates(
        size=size,
        epochs=epochs,
        post_features=post_features,
        cnn=_key(wanted) == _key("CNN on pixels"),
        # the own model considers the offline backbone's embeddings too
        embeddings=_key(wanted).startswith("embeddings")
        or (embeddings and _key(wanted) == _key("account's own model")),
        embedding_weights="auto",
        cache_dir=cache_dir,
    )
    found = {_key(name): name for name in options}
    if _key(wanted) not in found:
        names = ["auto", *candidates(size=size, post_features=post_features, embeddings=False)]
        names = ", ".join(repr(n) for n in names)
        raise ValueError(f"model={model!r} is not one of spe's models: {names} (or 'embeddings + PCA')")
    estimator = options[found[_key(wanted)]]
    if learning_rate is not None and found[_key(wanted)] == "CNN on pixels":
        estimator.set_params(cnn__learning_rate=learning_rate)
    refit_every = None
    if found[_key(wanted)] == "CNN on pixels" and n_posts:
        # A network: 5 refits, counted from the first stretch (no nested walk shares them).
        refit_every = WalkForwardSplit().refitting(n_posts, refits=5, aligned=False).test_size
    return ConformalLikesRegressor(estimator, refit_every=refit_every)


def what_was_chosen(model, name="auto"):
    """What a fitted :func:`next_post_model` chose and how it scored walking forward, as plain data.

    Parameters
    ----------
    model : fitted ConformalLikesRegressor
    name : str, default="auto"
        What was asked for.

    Returns
    -------
    dict
        ``asked``, ``chosen`` (for ``auto``, the candidate the account's
        posts picked), ``walk-forward MAE`` of the model and of the trend
        alone over ``posts walked``, ``picture skill`` and ``pairwise
        accuracy`` (value, low, high), ``pictures ranked`` (whether
        :func:`predict_next` orders pictures by their factor), ``skill``
        (:func:`skill_note`'s line) and, for ``auto``, every candidate's
        ``candidate MAE``. JSON-ready.

    Examples
    --------
    >>> import tempfile
    >>> from spe import AutoTrendRegressor, ConformalLikesRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts, posts["likes"])
    >>> chosen = what_was_chosen(model, "trend")
    >>> chosen["chosen"], chosen["pictures ranked"], chosen["pairwise accuracy"]
    ('trend', False, [None, None, None])
    """
    walk = pd.DataFrame(model.walk_)
    out = {
        "asked": str(name),
        "chosen": str(name),
        "walk-forward MAE": float(np.mean(np.abs(walk["actual"] - walk["predicted"]))),
        "trend MAE": float(np.mean(np.abs(walk["actual"] - walk["trend"]))),
        "posts walked": int(len(walk)),
        # NaN (no picture part) as null: spe.json stays strict JSON.
        "picture skill": [float(v) if np.isfinite(v) else None for v in model.picture_skill_],
        "pairwise accuracy": [
            float(v) if np.isfinite(v) else None for v in accuracy_of(model.picture_skill_)
        ],
        "pictures ranked": has_skill(model),
        "skill": skill_note(model),
    }
    inner = model.estimator_
    if hasattr(inner, "selected_") and hasattr(inner, "selection_scores_"):
        out["chosen"] = str(inner.selected_)
        out["candidate MAE"] = {str(k): float(v) for k, v in inner.selection_scores_["MAE"].items()}
    return out
