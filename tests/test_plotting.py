import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from spe.plotting import plot_grid_heatmap, plot_likes, plot_loss_curve, plot_predicted_vs_actual  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_loss_curve_on_given_axes(tmp_path):
    fig, ax = plt.subplots()
    out = plot_loss_curve({"loss": [3, 2, 1]}, ax=ax)
    assert out is fig
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [3, 2, 1])
    out.savefig(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 1000


def test_likes_plot(posts):
    fig = plot_likes(posts)
    time_ax, hist_ax = fig.axes
    assert len(time_ax.get_lines()[0].get_ydata()) == len(posts)
    assert sum(p.get_height() for p in hist_ax.patches) == len(posts)


def test_predicted_vs_actual_has_identity_line():
    fig = plot_predicted_vs_actual([1, 2, 3], [1.5, 2, 2.5])
    identity = fig.axes[0].get_lines()[0]
    assert identity.get_xdata()[0] == identity.get_ydata()[0]


def test_heatmap_cells_match_results():
    results = {
        "param_cnn__epochs": [10, 30, 10, 30],
        "param_cnn__learning_rate": [1e-3, 1e-3, 1e-4, 1e-4],
        "mean_test_score": [1.0, 2.0, 3.0, 4.0],
    }
    fig = plot_grid_heatmap(results)
    data = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(data, [[3.0, 4.0], [1.0, 2.0]])  # rows: learning rates ascending


def test_a_heatmap_cell_without_a_score_says_why_in_grey_not_nan_in_white():
    # spe tune --fast (issue 36): halving stopped 1e-3 after 10 epochs; 1e-4 diverged from the start.
    results = {
        "param_cnn__epochs": [10, 30, 10, 30],
        "param_cnn__learning_rate": [1e-3, 1e-3, 1e-4, 1e-4],
        "mean_test_score": [1.0, np.nan, np.nan, np.nan],
    }
    texts = plot_grid_heatmap(results).axes[0].texts
    assert [t.get_text() for t in texts] == ["no\nscore", "no\nscore", "1.000", "stopped\nearly"]
    assert [t.get_color() for t in texts] == ["0.35", "0.35", "w", "0.35"]
