"""AutoLikesRegressor: the model an account's own history picks, inside fit."""

from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin
from sklearn.utils import column_or_1d

from ..model_selection._skill import picture_skill
from ..model_selection._walk import (
    WalkForwardSplit,
    fit_shared,
    has_pictures,
    precompute_pictures,
    walk_forward_predict,
)
from ._average import AveragedLikesRegressor, geometric_mean_likes
from ._base import DelegatesToEstimator, picture_model
from ._combined import LikesRegressor
from ._embeddings import backbone_available, embedding_model
from ._trend import AutoTrendRegressor

__all__ = ["AutoLikesRegressor", "FitStep", "walk_split"]

#: Posts the walk inside ``fit`` trains on first, at least: a picture model learns from the posts
#: that have a trend before them, and fewer than this leaves it one or two to learn from.
MIN_TRAIN = 5


class FitStep(NamedTuple):
    """One step of a fit that walks forward, as the ``progress`` callback of its ``fit`` receives it.

    A fit that walks reports each walk's start (``done=0``) and each of its
    refits as it ends, so a caller timing the calls measures what a refit of
    each walk costs; steps without refits (featurizing the pictures, the fit
    on all posts) come with ``total=0``.

    Attributes
    ----------
    step : str
        What is under way, in words, e.g. ``"choosing: walking trend x
        embeddings forward over 562 posts"``.
    done, total : int
        Refits of this walk done and in all.
    walks_left : int
        Walks of this fit still to come after this one: none of their
        refits has been timed yet, so a time left measured from the refits
        so far would leave them out (and one of them may be the slowest).

    Examples
    --------
    >>> FitStep("choosing: walking trend forward over 100 posts", 3, 16, walks_left=2).total
    16
    """

    step: str
    done: int
    total: int
    walks_left: int


def report(progress, step, done=0, total=0, walks_left=0):
    """``progress(FitStep(...))``, or nothing when ``progress`` is None."""
    if progress is not None:
        progress(FitStep(step, done, total, walks_left))


def reporting(progress, step, total, walks_left=0):
    """Report that the walk ``step`` starts; the ``progress`` of :func:`walk_forward_predict` for its refits.

    ``None`` (nothing reported) without a ``progress``.
    """
    if progress is None:
        return None
    report(progress, step, 0, total, walks_left)

    def refitted(done, total):
        report(progress, step, done, total, walks_left)

    return refitted


def walk_split(n_samples, n_splits=5, refit_every=None):
    """The walk a model walks inside ``fit`` over ``n_samples`` posts: a first stretch of at least 5.

    :class:`AutoLikesRegressor` walks its candidates with it and
    :class:`~spe.ConformalLikesRegressor` calibrates on it, so both walk the
    same posts (issue 36: on 24 posts they walked 19 and 20, and the fit
    failed).

    Parameters
    ----------
    n_samples : int
    n_splits : int, default=5
        Sets the first stretch, as in :class:`~spe.model_selection.WalkForwardSplit`.
    refit_every : int, default=None
        Posts between refits; ``None``: about 20 refits.

    Returns
    -------
    WalkForwardSplit

    Examples
    --------
    >>> cv = walk_split(24)
    >>> cv.first_train_size(24), cv.get_n_splits(list(range(24)))
    (5, 19)
    """
    walk = WalkForwardSplit(n_splits=n_splits)
    if walk.first_train_size(n_samples) < MIN_TRAIN:  # few posts: the first stretch would be too short
        walk = WalkForwardSplit(n_splits=n_splits, min_train_size=MIN_TRAIN)
    return walk.refitting(n_samples, refit_every=refit_every)


def _default_candidates():
    """The trend, trend x image features and, when the offline backbone is installed, trend x embeddings."""
    out = {
        "trend": AutoTrendRegressor(),
        "trend x image features": LikesRegressor(image_model=picture_model()),
    }
    if backbone_available():  # EfficientNet-Lite0's pooled features at 224 px, PCA, a ridge
        out["trend x embeddings"] = LikesRegressor(image_model=embedding_model(), target="log_ratio")
    return out


def _walk_candidates(prepared, X, y, cv, walked, progress):
    """Every candidate's walk-forward predictions of the ``walked`` posts, each walk reported."""
    preds = {}
    for i, (name, model) in enumerate(prepared.items()):
        step = f"choosing: walking {name} forward over {len(walked)} posts"
        refitted = reporting(progress, step, cv.get_n_splits(y), len(prepared) - 1 - i)
        preds[name] = walk_forward_predict(model, X, y, cv, progress=refitted)[walked]
    return preds


class AutoLikesRegressor(DelegatesToEstimator, MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """The model that best predicted this account's own next posts.

    Inside :meth:`fit`, every candidate walks forward over the posts it is
    given: each post after the first stretch is predicted by the candidate
    fitted on the posts before it (refitted every ``refit_every`` posts,
    its trend updated with every post in between). The candidate with the
    lowest mean absolute error wins when it beats the ``fallback`` (the
    trend) by more than ``margin`` standard errors of the paired per-post
    difference, unless a candidate given before it also does and is not
    beaten by it by ``margin`` standard errors: the earlier, simpler one is
    kept, since two picture models that both beat the trend would otherwise
    trade places by chance from one refit to the next. Otherwise a picture
    model that ranks the walked posts against the fallback better than
    chance (its :func:`~spe.model_selection.picture_skill` interval above
    0) and is not measurably worse in MAE (its paired difference within
    two standard errors) is kept for its ranking: the first such one,
    unless a later one ranks the same posts measurably better (the paired
    interval of their skill difference above 0). Its shrunk picture factor
    (:class:`~spe.LikesRegressor`'s ``shrink``) keeps its likes near the
    trend's. Else the fallback. With ``average``, the candidates the chosen
    one cannot be told apart from (they could have been kept on their own,
    and neither beats the other by ``margin`` standard errors of their
    paired difference) are averaged with it
    (:class:`~spe.models.AveragedLikesRegressor`) rather than left to
    chance. The choice happens inside ``fit``, so evaluating this model
    with :func:`spe.evaluation.evaluate` is nested and honest.

    Pictures are featurized once per ``fit`` and reused by every refit.

    Parameters
    ----------
    candidates : dict of str to regressor, default=None
        The models to choose from. ``None`` means ``{"trend":
        AutoTrendRegressor(), "trend x image features":
        LikesRegressor(image_model=ImageFeatures + ridge)}``. Add
        embeddings, a CNN or post-metadata models by name.
    fallback : str, default="trend"
        The candidate kept unless another one is measurably better.
    n_splits : int, default=5
        Sets the walk's first stretch, as in :class:`~spe.evaluation.WalkForwardSplit`
        (at least 5 posts, so that a picture model has posts to learn from).
    refit_every : int, default=None
        Posts between refits in the walk; ``None`` means about 20 refits.
    margin : float, default=1.0
        How many standard errors of the paired difference a candidate must
        beat the fallback by to win on MAE alone. On null synthetic
        accounts (``pixel_effect=0``, 120 posts, seeds 0-9) 1 kept the
        walk-forward MAE within 1.1% of the trend's where 0 lost up to
        4.4% (a picture model picked for a lucky walk); on realistic ones
        (200 posts, seeds 0-4) it cost 0-1.3%, since a picture model that
        ranks posts is kept for its ranking anyway. 0 keeps the lowest
        walk-forward MAE.
    average : bool, default=True
        Average the chosen candidate with the candidates it cannot be told
        apart from (the geometric mean of their predicted likes): the
        forecast-combination answer to a choice between equals, not a
        setting tuned here. On synthetic realistic accounts (200 posts,
        seeds 0-9, the default candidates) the walk-forward MAE was 0.8%
        lower on average than with ``False`` (between 2.8% lower and 0.6%
        higher), on null ones the same within 0.3%. Where one candidate is
        measurably better (the embeddings on the 674-post real account)
        it is kept alone either way. ``False`` always keeps a single
        candidate, whose reasons are its own.

    Attributes
    ----------
    selected_ : str
        The chosen candidate's name, or ``"mean of A and B"`` when
        candidates ``A`` and ``B`` are averaged.
    averaged_ : list of str
        The candidates the fitted model is made of (one unless averaged).
    selection_scores_ : DataFrame
        Per candidate: walk-forward ``MAE``, its paired difference from the
        fallback (``vs fallback``, negative is better), that difference's
        ``standard error`` and its ``picture skill`` against the fallback
        with the interval (``skill low``, ``skill high``; NaN for a
        candidate that never sees a picture). When candidates are averaged,
        a last row scores their mean on the same walk.
    estimator_ : regressor
        The chosen candidate (or the :class:`~spe.models.AveragedLikesRegressor`
        of those averaged), fitted on all posts.
    walk_residuals_ : ndarray
        Actual minus predicted likes of the chosen candidate on the walked
        posts (for prediction intervals).
    walk_actual_ : ndarray
        Actual likes of the walked posts.
    walk_predictions_ : DataFrame
        Every candidate's walk-forward predictions (one column each, and
        one for the mean when candidates are averaged) over the walked
        posts, indexed by row position in ``X``.

    See Also
    --------
    spe.LikesRegressor : Trend times what the picture adds.
    spe.AutoTrendRegressor : The trend chosen from the training posts.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from spe import AutoLikesRegressor, AutoTrendRegressor, ImageFeatures, LikesRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge())
    >>> model = AutoLikesRegressor(
    ...     {"trend": AutoTrendRegressor(), "trend x picture": LikesRegressor(image_model=features)}
    ... ).fit(posts, posts["likes"])
    >>> model.selected_ in ("trend", "trend x picture"), list(model.selection_scores_.columns)[:3]
    (True, ['MAE', 'vs fallback', 'standard error'])
    """

    def __init__(
        self, candidates=None, fallback="trend", n_splits=5, refit_every=None, margin=1.0, average=True
    ):
        self.average = average
        self.margin = margin
        self.candidates = candidates
        self.fallback = fallback
        self.n_splits = n_splits
        self.refit_every = refit_every

    def __setstate__(self, state):
        # A model saved before averaging (spe.json formats 1-3) chose one candidate, as average=False does.
        state.setdefault("average", False)
        if "selected_" in state:
            state.setdefault("averaged_", [state["selected_"]])
        super().__setstate__(state)

    def _candidates(self):
        candidates = _default_candidates() if self.candidates is None else self.candidates
        if not isinstance(candidates, dict) or not candidates:
            raise ValueError(
                "AutoLikesRegressor parameter 'candidates' must be a non-empty dict of name to "
                f"regressor, got {candidates!r}; e.g. {{'trend': AutoTrendRegressor()}}."
            )
        if not isinstance(self.average, (bool, np.bool_)):
            raise ValueError(
                f"AutoLikesRegressor parameter 'average' must be True or False, got {self.average!r}."
            )
        if self.fallback not in candidates:
            raise ValueError(
                f"AutoLikesRegressor parameter 'fallback' must name a candidate ({list(candidates)}), "
                f"got {self.fallback!r}."
            )
        return candidates

    def fit(self, X, y, progress=None):
        """Walk every candidate forward over the posts, keep the best, refit it on all.

        Parameters
        ----------
        X : DataFrame
            Posts in posting order: ``image``, ``post_index`` and what the
            candidates read.
        y : array-like of shape (n_samples,)
            Like counts.
        progress : callable, default=None
            Called with a :class:`FitStep` as each step starts and each
            refit of a candidate's walk ends (``spe fit`` shows them). A
            keyword of ``fit``, not a parameter: it belongs to one call, so
            it is neither cloned into an evaluation's refits nor saved.

        Returns
        -------
        self : AutoLikesRegressor
        """
        candidates = self._candidates()
        y = column_or_1d(y, dtype=np.float64, warn=True)
        if len(y) <= MIN_TRAIN:
            return self._trend_only(candidates, X, y)
        cv = walk_split(len(y), self.n_splits, self.refit_every)
        walked = np.arange(cv.first_train_size(len(y)), len(y))
        cache, prepared = {}, {}
        for name, model in candidates.items():
            if has_pictures(model):
                report(progress, f"featurizing the pictures for {name}", walks_left=len(candidates))
            prepared[name] = precompute_pictures(model, X, cache)
        preds = _walk_candidates(prepared, X, y, cv, walked, progress)
        errors = {name: np.abs(pred - y[walked]) for name, pred in preds.items()}
        self.selection_scores_ = self._scores(candidates, preds, errors, y[walked])
        chosen = self._choose(self.selection_scores_, errors, preds, y[walked])
        self.averaged_ = [chosen]
        if self.average:
            self.averaged_ = self._alike(chosen, self.selection_scores_, errors, preds, y[walked])
        model = prepared[chosen]
        if len(self.averaged_) > 1:
            chosen, model = self._mean(candidates, prepared, preds, errors, y[walked])
        self.selected_ = chosen
        self.walk_residuals_ = y[walked] - preds[chosen]
        self.walk_actual_ = y[walked]
        self.walk_predictions_ = pd.DataFrame(preds, index=walked)
        report(progress, f"fitting {chosen} on all {len(y)} posts")
        # The outer walk of an evaluation may have fitted this very model on these posts already.
        self.estimator_ = fit_shared(model, X, y)
        return self

    def _trend_only(self, candidates, X, y):
        """Too few posts to walk anything forward (the first refits of a walked evaluation): the trend.

        With nothing walked there is nothing to tell the candidates apart
        by, and a picture model has no posts with a trend before them to
        learn from; the trend alone is what the walk picks when no picture
        model beats it. The scores and walks are empty.
        """
        name = "trend" if "trend" in candidates else next(iter(candidates))
        self.selected_, self.averaged_ = name, [name]
        self.selection_scores_ = pd.DataFrame({"MAE": pd.Series(dtype=float)})
        self.walk_residuals_ = self.walk_actual_ = np.empty(0)
        self.walk_predictions_ = pd.DataFrame(index=pd.RangeIndex(0))
        self.estimator_ = fit_shared(candidates[name], X, y)
        return self

    def _mean(self, candidates, prepared, preds, errors, actual):
        """The mean of ``averaged_``: its name and model; its walk and score row added to the others'."""
        name = "mean of " + ", ".join(self.averaged_[:-1]) + " and " + self.averaged_[-1]
        model = AveragedLikesRegressor([(member, prepared[member]) for member in self.averaged_])
        # The mean's own walk: the same refits, so its predictions are the mean of the members'.
        preds[name] = geometric_mean_likes(np.column_stack([preds[member] for member in self.averaged_]))
        errors[name] = np.abs(preds[name] - actual)
        # Its row, scored as the candidates are (after the choice: it took no part in it).
        mean = {self.fallback: candidates[self.fallback], name: model}
        row = self._scores(mean, preds, {key: errors[key] for key in mean}, actual).loc[[name]]
        self.selection_scores_ = pd.concat([self.selection_scores_, row])
        return name, model

    def _scores(self, candidates, preds, errors, actual):
        rows = {}
        for name, error in errors.items():
            diff = error - errors[self.fallback]
            se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.inf
            skill = (np.nan,) * 3
            if has_pictures(candidates[name]):
                skill = picture_skill(actual, preds[name], preds[self.fallback])
            rows[name] = {"MAE": error.mean(), "vs fallback": diff.mean(), "standard error": se}
            rows[name].update(zip(("picture skill", "skill low", "skill high"), skill))
        return pd.DataFrame.from_dict(rows, orient="index")

    def _choose(self, scores, errors, preds=None, actual=None):
        """Lowest MAE if measurably below the fallback's; else a skilful ranking not worse in MAE.

        Among candidates measurably better than the fallback, one given
        earlier in ``candidates`` (the defaults go from the simplest up) is
        kept unless the lowest-MAE one beats it by ``margin`` standard errors
        of their own paired difference: two picture models that both beat
        the trend trade places from one walk to the next by chance, and each
        switch costs (issue 24: with the embeddings candidate the own model
        lost 3.6% to itself without it on one realistic account of ten).
        The same holds for two rankings with skill.
        """
        beats = scores["vs fallback"] + self.margin * scores["standard error"] < 0
        best = scores["MAE"].idxmin()
        if beats[best]:
            for name in scores.index[: scores.index.get_loc(best)]:
                if beats[name] and not self._better(errors[best], errors[name]):
                    return name
            return best
        ranking = scores[(scores["skill low"] > 0) & (scores["vs fallback"] <= 2 * scores["standard error"])]
        if not len(ranking):
            return self.fallback
        # Likewise for the ranking: a later candidate must rank the posts measurably better.
        pick = ranking.index[0]
        for name in ranking.index[1:]:
            if picture_skill(actual, preds[name], preds[self.fallback], against=preds[pick])[1] > 0:
                pick = name
        return pick

    def _eligible(self, scores):
        """Candidates ``_choose`` could keep on their own: beating the fallback, or ranking with skill."""
        beats = scores["vs fallback"] + self.margin * scores["standard error"] < 0
        ranks = (scores["skill low"] > 0) & (scores["vs fallback"] <= 2 * scores["standard error"])
        return beats | ranks

    def _alike(self, chosen, scores, errors, preds, actual):
        """``chosen`` and the eligible candidates it cannot be told apart from, in the given order.

        Alike: neither beats the other by ``margin`` standard errors of their
        paired difference in MAE and, when ``chosen`` was kept for its
        ranking, it does not rank the walked posts measurably better. A
        choice between such candidates follows chance from one refit to the
        next (issue 24: with the embeddings candidate the own model lost 1%
        to itself without it on one realistic account of ten, from one
        refit that picked the other of two equals); their mean does not.
        """
        if chosen == self.fallback:
            return [chosen]
        eligible = self._eligible(scores)
        by_ranking = not (
            scores.loc[chosen, "vs fallback"] + self.margin * scores.loc[chosen, "standard error"] < 0
        )
        alike = []
        for name in scores.index:
            if name == chosen:
                alike.append(name)
                continue
            if name == self.fallback or not eligible[name]:
                continue
            if self._better(errors[name], errors[chosen]) or self._better(errors[chosen], errors[name]):
                continue
            if (
                by_ranking
                and picture_skill(actual, preds[chosen], preds[self.fallback], against=preds[name])[1] > 0
            ):
                continue
            alike.append(name)
        return alike

    def _better(self, error, other):
        """Whether per-post absolute errors ``error`` beat ``other``'s by ``margin`` standard errors."""
        diff = error - other
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.inf
        return diff.mean() + self.margin * se < 0
