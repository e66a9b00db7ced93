"""Plots of an account, a training run, an evaluation and a grid search.

Each function draws on the ``ax`` (or ``axes``) it is given, or on a new
figure, and returns the :class:`~matplotlib.figure.Figure`, as
scikit-learn's display helpers do. Save with ``fig.savefig("x.png")``.
"""

import numpy as np
import pandas as pd

__all__ = ["plot_grid_heatmap", "plot_likes", "plot_loss_curve", "plot_predicted_vs_actual"]


def _axes(ax, ncols=1, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is not None:
        axes = np.atleast_1d(ax)
        return axes[0].figure, axes
    fig, axes = plt.subplots(1, ncols, figsize=figsize, layout="constrained")
    return fig, np.atleast_1d(axes)


def plot_loss_curve(history, *, ax=None):
    """Training (and validation) loss per epoch, the seed's figure 4.

    Parameters
    ----------
    history : dict or fitted estimator
        A ``history_`` dict with ``loss`` and optionally ``val_loss``, or an
        estimator (or Pipeline ending in one) that has ``history_``.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_loss_curve({"loss": [3.0, 2.0, 1.5], "val_loss": [3.2, 2.5, 2.4]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training', 'validation']
    """
    if not isinstance(history, dict):
        est = history[-1] if hasattr(history, "steps") else history
        history = est.history_
    fig, (ax,) = _axes(ax)
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], label="training")
    if history.get("val_loss"):
        ax.plot(epochs, history["val_loss"], label="validation")
    ax.set(xlabel="epoch", ylabel="loss (MSE, scaled likes)", title="Loss per epoch")
    ax.legend()
    return fig


def plot_likes(data, *, axes=None, target="likes"):
    """Likes over posting order, and their histogram: the seed's figure 3.

    Parameters
    ----------
    data : DataFrame
        Posts, as the :mod:`spe.datasets` readers return them.
    axes : pair of matplotlib Axes, default=None
    target : str, default="likes"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_likes(pd.DataFrame({"likes": [90, 120, 100, 300]}))
    >>> len(fig.axes)
    2
    """
    fig, (ax_time, ax_hist) = _axes(axes, ncols=2, figsize=(10, 4))
    order = data["post_index"] if "post_index" in data else np.arange(1, len(data) + 1)
    likes = data[target]
    ax_time.plot(order, likes, ".", alpha=0.7, label="post")
    window = min(10, len(likes))
    ax_time.plot(order, likes.rolling(window, min_periods=1).mean(), label=f"mean of last {window}")
    ax_time.set(xlabel="post (posting order)", ylabel="likes", title="Likes over time")
    ax_time.legend()
    ax_hist.hist(likes, bins="auto")
    ax_hist.axvline(likes.mean(), color="k", linestyle="--", label=f"mean {likes.mean():.0f}")
    ax_hist.set(xlabel="likes", ylabel="posts", title="Distribution of likes")
    ax_hist.legend()
    return fig


def plot_predicted_vs_actual(y_true, y_pred=None, *, ax=None, label="model"):
    """Predicted against actual likes, with the identity line.

    Parameters
    ----------
    y_true : array-like or EvaluationReport
        Actual likes; or a report from :func:`spe.evaluation.evaluate`, whose
        out-of-fold predictions of ``label`` are drawn.
    y_pred : array-like, default=None
        Predicted likes (not needed with a report).
    ax : matplotlib Axes, default=None
    label : str, default="model"
        Legend entry, and the report column to draw.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_predicted_vs_actual([100, 150, 80], [110, 140, 95])
    >>> fig.axes[0].get_xlabel()
    'actual likes'
    """
    if y_pred is None:
        y_true, y_pred = y_true.predictions["actual"], y_true.predictions[label]
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    fig, (ax,) = _axes(ax, figsize=(5, 5))
    ax.scatter(y_true, y_pred, alpha=0.6, label=label)
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.plot([lo, hi], [lo, hi], "k--", label="perfect")
    ax.set(xlabel="actual likes", ylabel="predicted likes", title="Predicted vs actual (cross-validated)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend()
    return fig


def _unscored(row, j):
    """Why cell ``j`` of a heatmap row has no score, as far as the row shows it.

    A row scored at a smaller x (fewer epochs) and not at this one was
    stopped on the way: by successive halving (``spe tune --fast`` trains
    only the best third of the learning rates on to the next epoch count)
    or by early stopping. Otherwise the setting never scored at all.
    """
    return "stopped\nearly" if np.isfinite(row[:j]).any() else "no\nscore"


def plot_grid_heatmap(
    cv_results, *, x="param_cnn__epochs", y="param_cnn__learning_rate", score="mean_test_score", ax=None
):
    """Grid-search scores over two hyperparameters as a heatmap.

    Parameters
    ----------
    cv_results : dict or DataFrame
        ``GridSearchCV.cv_results_``.
    x, y : str
        The ``param_*`` columns for the axes (epochs x learning rate by
        default).
    score : str, default="mean_test_score"
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.figure.Figure
        A cell without a score (NaN) says why: "stopped early" where the
        row has a score at a smaller ``x`` (successive halving, early
        stopping), else "no score".

    Examples
    --------
    >>> results = {"param_cnn__epochs": [10, 10, 30, 30],
    ...            "param_cnn__learning_rate": [1e-3, 1e-4, 1e-3, 1e-4],
    ...            "mean_test_score": [-900.0, -800.0, -700.0, -750.0]}
    >>> fig = plot_grid_heatmap(results)
    >>> fig.axes[0].get_xlabel()
    'epochs'
    >>> results["mean_test_score"][2] = float("nan")  # 30 epochs at 1e-3: halving stopped it at 10
    >>> [text.get_text() for text in plot_grid_heatmap(results).axes[0].texts]
    ['-800', '-750', '-900', 'stopped\\nearly']
    """
    # dropna=False: a setting without a score keeps its cell, said below, rather than vanish.
    table = pd.DataFrame(cv_results).pivot_table(
        index=y, columns=x, values=score, aggfunc="mean", dropna=False
    )
    fig, (ax,) = _axes(ax)
    values = table.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"
        if np.isnan(value):  # an empty (white) cell: say why in grey, never "nan" in white
            text = _unscored(values[i], j)
        ax.text(j, i, text, ha="center", va="center", color="0.35" if np.isnan(value) else "w")
    ax.set(
        xlabel=x.removeprefix("param_").split("__")[-1].replace("_", " "),
        ylabel=y.removeprefix("param_").split("__")[-1].replace("_", " "),
        title=f"Grid search: {score.replace('_', ' ')}",
    )
    fig.colorbar(image, ax=ax)
    return fig
