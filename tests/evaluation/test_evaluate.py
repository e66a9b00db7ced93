import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader, RecentAverageRegressor
from spe.evaluation import (
    WalkForwardSplit,
    evaluate,
    make_cv,
    median_absolute_percentage_error,
    spearman_score,
    spearman_scorer,
    walk_forward_predict,
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
    assert [str(t) for t in ticks][-2:] == ["recent average (k=10), fold 2", "CNN, fold 2"]
    assert [t.done for t in ticks] == [0.5, 1, 1.5, 2, 2.5, 3] and {t.total for t in ticks} == {3}
    assert np.isfinite(report.scores.loc["CNN", "MAE"])


def test_network_refits_set_the_networks_refits_and_keep_the_walked_posts(posts):
    pipe = Pipeline(
        [
            ("load", ImageLoader(size=(8, 8))),
            (
                "cnn",
                CNNLikesRegressor(epochs=1, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0),
            ),
        ]
    )
    steps = []
    report = evaluate({"CNN": pipe}, posts, network_refits=2, progress=steps.append)
    default = evaluate({"trend": RecentAverageRegressor(k=3)}, posts)
    assert {str(s) for s in steps if str(s).startswith("CNN, refit")} == {"CNN, refit 1/2", "CNN, refit 2/2"}
    assert len(report.predictions) == len(default.predictions)  # the same walked posts as n_splits sets
    assert report.predictions["CNN"].notna().all()
    with pytest.raises(ValueError, match="network_refits"):
        evaluate({"CNN": pipe}, posts, network_refits=0)


def test_progress_moves_within_each_models_walk(posts):
    # Reported after every refit, not once a model's whole walk is done: a network training
    # for minutes moves the count. In models: each model's refits add up to 1.
    steps = []
    evaluate({"a": RecentAverageRegressor(k=3)}, posts, refit_every=5, progress=steps.append)
    done = [s.done for s in steps]
    assert done == sorted(set(done)) and done[-1] == 4 and {s.total for s in steps} == {4}
    mine = [str(s) for s in steps if str(s).startswith("a, ")]
    n = len(mine)
    assert n > 1 and mine[0] == f"a, refit 1/{n}" and mine[-1] == f"a, refit {n}/{n}"
    assert steps[-1].done - steps[-len(mine) - 1].done == 1
    with joblib.parallel_config(backend="threading", n_jobs=2):  # a walk elsewhere: reported when it returns
        steps = []
        evaluate({"a": RecentAverageRegressor(k=3)}, posts, refit_every=5, progress=steps.append, n_jobs=2)
    assert [s.done for s in steps] == [1, 2, 3, 4] and str(steps[-1]) == "a, walk forward"


def test_walk_forward_predict_reports_each_block():
    calls = []
    cv = WalkForwardSplit(min_train_size=3, test_size=2)
    X, y = np.arange(8), np.arange(8.0)
    pred = walk_forward_predict(RecentAverageRegressor(k=1), X, y, cv, progress=lambda *a: calls.append(a))
    assert calls == [(1, 3), (2, 3), (3, 3)] and np.isnan(pred[:3]).all()


def test_too_few_posts_and_bad_cv(posts):
    with pytest.raises(ValueError, match="too few for 50 folds"):
        evaluate(DummyRegressor(), posts, cv="time", n_splits=50)
    with pytest.raises(ValueError, match="cv must be"):
        make_cv("random")
    with pytest.raises(ValueError, match="'likes' column"):
        evaluate(DummyRegressor(), posts.drop(columns="likes"))


def test_no_column_selector_sees_the_likes(posts):
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    numbers = make_pipeline(
        ColumnTransformer([("numbers", "passthrough", make_column_selector(dtype_include="number"))]),
        LinearRegression(),
    )
    # Given the likes it would be perfect; given post_index only it cannot be.
    scores = evaluate(numbers, posts, n_splits=4).scores.loc["model"]
    assert scores["MAE"] > 5 and scores["R2"] < 0.9
    asks_for_likes = make_pipeline(ColumnTransformer([("y", "passthrough", ["likes"])]), LinearRegression())
    with pytest.raises(ValueError, match="likes"):
        evaluate(asks_for_likes, posts, n_splits=4)


def _trending(n=120, seed=0):
    rng = np.random.RandomState(seed)
    log_likes = 1.5 * (np.arange(n) / n - 0.5) + 0.25 * rng.standard_normal(n)
    return pd.DataFrame({"post_index": np.arange(1, n + 1), "likes": np.round(100 * np.exp(log_likes))})


@pytest.mark.parametrize("order", ["newest first", "shuffled"])
def test_posts_out_of_posting_order_are_refused(order):
    posts = _trending(40)
    rows = np.arange(40)[::-1] if order == "newest first" else np.random.RandomState(0).permutation(40)
    unordered = posts.iloc[rows]
    first = int(np.flatnonzero(np.diff(unordered["post_index"]) < 0)[0])
    # Time-ordered folds split by rows: these would train on later posts.
    with pytest.raises(ValueError, match=rf"'post_index' falls .* \(row {first}\) .*sort_values"):
        evaluate(RecentAverageRegressor(k=3), unordered, n_splits=3)
    with pytest.raises(ValueError, match="'post_index' falls"):
        evaluate(RecentAverageRegressor(k=3), unordered, cv="kfold", n_splits=3)
    assert (
        evaluate(RecentAverageRegressor(k=3), unordered.sort_values("post_index"), n_splits=3).n_samples == 40
    )


def test_timestamps_out_of_order_are_refused():
    posts = _trending(20).assign(timestamp=pd.date_range("2024-01-01", periods=20, freq="D", tz="UTC"))
    posts.loc[5, "timestamp"] = pd.Timestamp("2023-06-01", tz="UTC")  # post 6 dated before post 5
    with pytest.raises(ValueError, match=r"'timestamp' falls from 2024-01-05.* \(row 4\) to 2023-06-01"):
        evaluate(RecentAverageRegressor(k=3), posts, n_splits=3)
    # Missing dates and equal ones are no disorder.
    posts.loc[5, "timestamp"] = pd.NaT
    posts.loc[7, "timestamp"] = posts.loc[6, "timestamp"]
    assert evaluate(RecentAverageRegressor(k=3), posts, n_splits=3).n_samples == 20


def test_verdicts_only_beyond_the_paired_noise():
    report = evaluate(
        {"k=3": RecentAverageRegressor(k=3), "k=9": RecentAverageRegressor(k=9), "mean": DummyRegressor()},
        _trending(),
        cv="time",
        n_splits=4,
    )
    notes = {":".join(note.split(":")[:2]) for note in report.notes}
    # The short average follows the trend: clearly better than either baseline.
    assert "K=3: better than the mean of training likes" in notes
    assert "K=3: better than the recent average (k=10)" in notes
    # k=9 against k=10: a lower MAE (by 0.1 likes), but well inside the noise.
    mae = report.scores["MAE"]
    assert mae["k=9"] < mae["recent average (k=10)"]
    assert "K=9: no measurable difference from the recent average (k=10)" in notes
    assert "Mean: worse than the recent average (k=10)" in notes
    assert "Mean: no measurable difference from the mean of training likes" in notes


def _picture(shrink=None):
    from spe import LikesRegressor
    from spe.models._base import picture_model

    return LikesRegressor(
        image_model=picture_model(size=(16, 16)), **({} if shrink is None else {"shrink": shrink})
    )


def test_pictures_that_rank_are_said_to_rank_with_the_share_of_pairs(account):
    report = evaluate({"trend x picture": _picture()}, account(200, realistic=True), refit_every=5)
    row = report.scores.loc["trend x picture"]
    assert (
        row["picture skill low"] > 0
        and 55 < row["pairwise % low"] <= row["pairwise %"] <= row["pairwise % high"]
    )
    # Models that never see a picture get no picture skill at all.
    assert (
        report.scores.loc[["mean of training likes", "trend chosen on training posts"], "pairwise %"]
        .isna()
        .all()
    )
    assert any("rank posts better than chance" in note and "% of pairs" in note for note in report.notes)


def test_a_faint_picture_effect_keeps_its_ranking_once_the_factor_is_shrunk(account):
    posts = account(200, faint_pictures=True)
    report = evaluate({"shrunk": _picture(), "whole": _picture(shrink=1.0)}, posts, refit_every=5)
    s, trend = report.scores, report.scores.loc["trend chosen on training posts", "MAE"]
    assert s.loc["whole", "MAE"] > trend  # an MAE-only choice keeps the trend and calls a tie
    assert s.loc["shrunk", "MAE"] <= 1.01 * trend and s.loc["shrunk", "pairwise %"] > 55


# -- issue 36: one answer, on the own model's schedule ---------------------------------


def test_a_walk_answers_against_the_recent_average_for_the_model_evaluated(account):
    from spe.evaluation._report import fewer_missed

    posts = account(80, 8, realistic=True)
    report = evaluate(RecentAverageRegressor(k=3), posts, model_name="k=3")
    answer = report.headline
    walked = report.predictions
    expected = fewer_missed(walked["actual"], walked["k=3"], walked["recent average (k=10)"])
    assert (answer["percent"], answer["low"], answer["high"]) == pytest.approx(expected)
    assert report.notes[0] == answer["sentence"] and "your recent average" in answer["sentence"]
    assert answer["pairwise"] == [None, None, None]  # it never sees a picture
    # Several models and no own model among them: no one answer.
    both = {"k=3": RecentAverageRegressor(k=3), "k=5": RecentAverageRegressor(k=5)}
    assert evaluate(both, posts).headline is None
    assert evaluate(RecentAverageRegressor(k=3), posts, cv="time").headline is None


def test_fewer_missed_is_zero_for_the_same_predictions_and_says_noise_plainly():
    from spe.evaluation._report import against_recent_average, fewer_missed

    rng = np.random.RandomState(0)
    actual = rng.lognormal(4, 0.3, 200)
    same = fewer_missed(actual, actual * 1.1, actual * 1.1)
    assert same == (0.0, 0.0, 0.0)
    noisy = fewer_missed(actual, actual * rng.lognormal(0, 0.2, 200), actual * rng.lognormal(0, 0.2, 200))
    assert noisy[1] < 0 < noisy[2]
    assert "a gap within noise" in against_recent_average("The model", *noisy, 200)
    assert all(np.isnan(fewer_missed([1.0], [1.0], [2.0])))
    assert "nan" not in against_recent_average("The model", np.nan, np.nan, np.nan, 1)


def test_every_row_refits_about_twenty_times_by_default(account):
    posts = account(200, 8, realistic=True)
    totals = {}

    def record(step):
        if ", refit " in step.description:
            name, counts = step.description.rsplit(", refit ", 1)
            totals[name] = int(counts.split("/")[1])

    evaluate({"trend x k=3": RecentAverageRegressor(k=3)}, posts, progress=record)
    assert totals and all(14 <= total <= 28 for total in totals.values()), totals
    totals.clear()
    evaluate({"trend x k=3": RecentAverageRegressor(k=3)}, posts, progress=record, refit_every=1)
    assert set(totals.values()) == {len(posts) - WalkForwardSplit().first_train_size(len(posts))}
