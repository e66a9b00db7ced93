import json

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader, RecentAverageRegressor
from spe.evaluation import (
    evaluate,
    make_cv,
    median_absolute_percentage_error,
    spearman_score,
    spearman_scorer,
)


def test_metrics():
    assert spearman_score([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman_score([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman_score([1, 2, 3], [5, 5, 5]))
    assert median_absolute_percentage_error([100, 50, 0], [90, 50, 1]) == pytest.approx(10.0)


def test_spearman_scorer_in_grid_search():
    X = np.arange(40).reshape(-1, 1)
    y = np.arange(40) * 2.0
    grid = GridSearchCV(
        RecentAverageRegressor(),
        {"k": [1, 20]},
        scoring=spearman_scorer,
        cv=KFold(4, shuffle=True, random_state=0),
    )
    grid.fit(X, y)
    assert grid.best_params_ == {"k": 1}


def test_report_has_both_baselines_in_time_order(posts, tmp_path):
    report = evaluate(RecentAverageRegressor(k=2), posts, cv="time", n_splits=4)
    assert list(report.scores.index) == ["mean of training likes", "recent average (k=10)", "model"]
    assert list(report.scores.columns) == [
        "MSE",
        "RMSE",
        "MAE",
        "R2",
        "Spearman",
        "MdAPE%",
        "Spearman (all folds)",
    ]
    assert "time-ordered" in report.protocol
    mae = report.fold_scores.groupby("model", sort=False)["MAE"].mean()
    np.testing.assert_allclose(report.scores["MAE"], mae)
    # Time order: every test post comes after all of its fold's training posts.
    folds = report.predictions.groupby("fold")["post_index"].min()
    assert folds.is_monotonic_increasing
    assert report.predictions["post_index"].min() > len(posts) // 5 - 1
    text = report.to_string()
    assert "recent average" in text and "MAE" in text
    report.to_json(tmp_path / "r.json")
    report.to_csv(tmp_path / "r.csv")
    assert json.loads((tmp_path / "r.json").read_text())["n_samples"] == len(posts)
    assert pd.read_csv(tmp_path / "r.csv")["model"].tolist()[-1] == "model"


def test_baseline_scores_are_computed_not_assumed(posts):
    report = evaluate(DummyRegressor(), posts, cv="kfold", n_splits=4)
    # The model here *is* the mean baseline: identical rows.
    pd.testing.assert_series_equal(
        report.scores.loc["model"], report.scores.loc["mean of training likes"], check_names=False
    )
    assert "shuffled" in report.protocol
    assert len(report.predictions) == len(posts)  # K-fold predicts every post once


def test_recent_average_beats_the_mean_on_a_trending_account(tmp_path):
    from spe.datasets import make_posts

    posts = make_posts(
        120, directory=tmp_path, image_size=(8, 8), trend=3.0, pixel_effect=0.2, random_state=0
    )
    report = evaluate(DummyRegressor(), posts, cv="time", n_splits=4)
    scores = report.scores
    assert scores.loc["recent average (k=10)", "MAE"] < 0.8 * scores.loc["mean of training likes", "MAE"]


def test_cnn_pipeline_is_evaluated_on_a_dataframe(posts):
    pipe = Pipeline(
        [
            ("load", ImageLoader(size=(8, 8))),
            (
                "cnn",
                CNNLikesRegressor(epochs=1, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0),
            ),
        ]
    )
    ticks = []
    report = evaluate(pipe, posts, cv="time", n_splits=2, model_name="CNN", progress=ticks.append)
    assert len(ticks) == 6
    assert np.isfinite(report.scores.loc["CNN", "MAE"])


def test_too_few_posts_and_bad_cv(posts):
    with pytest.raises(ValueError, match="too few for 50 folds"):
        evaluate(DummyRegressor(), posts, cv="time", n_splits=50)
    with pytest.raises(ValueError, match="cv must be"):
        make_cv("random")
    with pytest.raises(ValueError, match="'likes' column"):
        evaluate(DummyRegressor(), posts.drop(columns="likes"))
