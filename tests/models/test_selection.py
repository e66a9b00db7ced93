import numpy as np
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from spe import AutoLikesRegressor, AutoTrendRegressor, ImageFeatures, LikesRegressor
from spe.datasets import make_posts
from spe.evaluation import evaluate

from ..conftest import API_CHECKS


@pytest.mark.parametrize("check", API_CHECKS)
def test_sklearn_api_checks(check):
    getattr(estimator_checks, check)("AutoLikesRegressor", AutoLikesRegressor())


def _candidates(size=32):
    features = make_pipeline(
        ImageFeatures(size=(size, size), faces=False),
        StandardScaler(),
        RidgeCV(alphas=np.logspace(-2, 3, 12)),
    )
    return {"trend": AutoTrendRegressor(), "trend x image features": LikesRegressor(image_model=features)}


def test_bad_candidates_are_named(posts):
    with pytest.raises(ValueError, match="parameter 'candidates'"):
        AutoLikesRegressor(candidates={}).fit(posts, posts["likes"])
    with pytest.raises(ValueError, match="parameter 'fallback'"):
        AutoLikesRegressor(candidates=_candidates(), fallback="mean").fit(posts, posts["likes"])
    with pytest.raises(ValueError, match="parameter 'average' must be True or False, got 'yes'"):
        AutoLikesRegressor(candidates=_candidates(), average="yes").fit(posts, posts["likes"])
    with pytest.raises(ValueError, match="n_splits=50"):
        AutoLikesRegressor(candidates=_candidates(), n_splits=50).fit(posts, posts["likes"])


def test_fit_reports_its_choice_and_keeps_residuals(posts):
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    model = AutoLikesRegressor(_candidates(16)).fit(X.iloc[:35], y[:35])
    scores = model.selection_scores_
    assert model.selected_ in scores.index and scores.loc["trend", "vs fallback"] == 0
    assert len(model.walk_residuals_) == 5 * (35 // 6)  # the posts after the first stretch
    assert model.predict(X.iloc[35:]).shape == (5,)  # new pictures go through the features
    model.partial_fit(X.iloc[35:], y[35:])
    with pytest.raises(ValueError, match="older than the latest post"):
        model.partial_fit(X.iloc[:1], y[:1])


@pytest.mark.slow
@pytest.mark.parametrize("pixel_effect", [None, 0.0])
def test_the_accounts_own_model_walk_forward(tmp_path, pixel_effect):
    # Issue 12's bars, walked forward on 200 posts (refit every 10 posts to keep the test short).
    posts = make_posts(
        200,
        directory=tmp_path,
        image_size=(32, 32),
        realistic=True,
        pixel_effect=pixel_effect,
        random_state=0,
    )
    candidates = _candidates()
    models = {**candidates, "account's own model": AutoLikesRegressor(candidates)}
    report = evaluate(models, posts, refit_every=10)
    print(report)
    mae = report.scores["MAE"]
    own, recent = mae["account's own model"], mae["recent average (k=10)"]
    best_trend = mae[["recent average (k=10)", "trend chosen on training posts"]].min()
    if pixel_effect is None:
        assert own <= 0.9 * recent
        assert own <= 1.03 * mae[list(candidates)].min()
        assert any("the pictures add" in note and "nothing" not in note for note in report.notes)
    else:
        assert own <= 1.02 * best_trend
        assert any("pictures add nothing measurable" in note for note in report.notes)


def test_a_picture_model_is_kept_for_its_ranking_when_it_is_not_worse():
    import pandas as pd

    scores = pd.DataFrame(
        {
            "MAE": [100.0, 101.0, 100.5],
            "vs fallback": [0.0, 1.0, 0.5],
            "standard error": [0.0, 0.6, 0.6],
            "picture skill": [np.nan, 0.2, 0.1],
            "skill low": [np.nan, 0.05, -0.02],
            "skill high": [np.nan, 0.35, 0.22],
        },
        index=["trend", "trend x picture", "trend x picture + post"],
    )
    auto = AutoLikesRegressor(fallback="trend")
    errors = {name: np.zeros(3) for name in scores.index}  # not read: no two candidates beat the trend
    # Not better in MAE, but within noise and ranking better than chance: kept for its ranking.
    assert auto._choose(scores, errors) == "trend x picture"
    # Measurably worse in MAE: the trend.
    assert auto._choose(scores.assign(**{"standard error": [0.0, 0.1, 0.1]}), errors) == "trend"
    # No skill: the trend, as before.
    assert auto._choose(scores.assign(**{"skill low": [np.nan, -0.1, -0.1]}), errors) == "trend"
    # Measurably better in MAE wins whatever its skill.
    better = scores.assign(**{"MAE": [100.0, 101.0, 98.0], "vs fallback": [0.0, 1.0, -2.0]})
    assert auto._choose(better, errors) == "trend x picture + post"


def _two_that_beat_the_trend(rng):
    """Per-post errors of the trend and of two candidates that beat it, within noise of each other."""
    trend = 20 + rng.exponential(10, 200)
    simple = trend - 4 + rng.normal(0, 3, 200)
    noise = rng.normal(0, 3, 200)
    return trend, simple, {"trend": trend, "simple": simple, "complex": simple - 0.1 + noise - noise.mean()}


def test_of_two_candidates_that_beat_the_trend_the_earlier_is_kept_unless_measurably_beaten():
    rng = np.random.default_rng(0)
    trend, simple, errors = _two_that_beat_the_trend(rng)
    auto = AutoLikesRegressor(fallback="trend")
    scores = auto._scores({name: None for name in errors}, {}, errors, None)
    assert scores["MAE"].idxmin() == "complex"  # lowest, but within noise of "simple"
    assert auto._choose(scores, errors) == "simple"
    errors["complex"] = simple - 2 + rng.normal(0, 0.5, 200)  # now measurably better than "simple"
    scores = auto._scores({name: None for name in errors}, {}, errors, None)
    assert auto._choose(scores, errors) == "complex"
    # Given first, the better one is simply the best.
    reordered = {name: errors[name] for name in ("trend", "complex", "simple")}
    assert auto._choose(auto._scores(dict.fromkeys(reordered), {}, reordered, None), reordered) == "complex"


def test_of_two_skilful_rankings_the_earlier_is_kept_unless_the_later_ranks_measurably_better():
    import pandas as pd

    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    actual = 100 * np.exp(0.3 * z + 0.2 * rng.normal(size=200))
    trend = np.full(200, 100.0)
    weak = 100 * np.exp(0.3 * (z + 1.5 * rng.normal(size=200)))
    preds = {"trend": trend, "weak": weak, "strong": 100 * np.exp(0.3 * z)}
    scores = pd.DataFrame(
        {"MAE": 10.0, "vs fallback": 0.0, "standard error": 1.0, "picture skill": [np.nan, 0.2, 0.6]},
        index=list(preds),
    ).assign(**{"skill low": [np.nan, 0.1, 0.5], "skill high": [np.nan, 0.3, 0.7]})
    auto = AutoLikesRegressor(fallback="trend")
    # Neither beats the trend in MAE; both rank better than chance; "strong" measurably better.
    assert auto._choose(scores, {}, preds, actual) == "strong"
    # As good as the earlier one, another draw of its noise: the earlier is kept, though its skill is lower.
    preds["strong"] = 100 * np.exp(0.3 * (z + 1.5 * rng.normal(size=200)))
    assert auto._choose(scores, {}, preds, actual) == "weak"


def test_a_short_account_walks_from_five_posts_and_fewer_is_the_trend(posts):
    # Fitted on 12 posts the walk's first stretch would be 2 posts: a picture model cannot learn from 1.
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    model = AutoLikesRegressor(_candidates(16)).fit(X[:12], y[:12])
    assert len(model.walk_actual_) == 12 - 5
    # Five posts or fewer (the first refits of a walked evaluation of a small account): nothing
    # to walk, so the trend alone, every picture the same prediction.
    tiny = AutoLikesRegressor(_candidates(16)).fit(X[:5], y[:5])
    assert tiny.selected_ == "trend" and len(tiny.walk_actual_) == 0 and tiny.selection_scores_.empty
    assert np.ptp(tiny.predict(X[5:9].assign(post_index=6))) == 0


def test_evaluate_walks_the_accounts_own_model_on_a_small_account(tmp_path):
    posts = make_posts(36, directory=tmp_path, image_size=(16, 16), realistic=True, random_state=0)
    report = evaluate(AutoLikesRegressor(_candidates(16)), posts, cv="walk")
    assert np.isfinite(report.predictions["model"]).all()


def _scored(auto, errors):
    return auto._scores(dict.fromkeys(errors), {}, errors, None), errors


def test_candidates_the_choice_cannot_be_told_from_are_averaged():
    rng = np.random.default_rng(0)
    trend, simple, errors = _two_that_beat_the_trend(rng)
    auto = AutoLikesRegressor(fallback="trend")
    scores, errors = _scored(auto, errors)
    assert auto._choose(scores, errors) == "simple"
    assert auto._alike("simple", scores, errors, None, None) == ["simple", "complex"]
    assert auto._alike("trend", scores, errors, None, None) == ["trend"]  # the fallback alone
    # Measurably better than "simple": chosen alone.
    errors["complex"] = simple - 2 + rng.normal(0, 0.5, 200)
    scores, errors = _scored(auto, errors)
    assert auto._choose(scores, errors) == "complex"
    assert auto._alike("complex", scores, errors, None, None) == ["complex"]
    # Within noise of the choice but no better than the trend itself: not a model to keep, not averaged.
    small, large = rng.normal(0, 0.5, 200), rng.normal(0, 1.0, 200)
    errors["simple"] = trend - 0.12 + small - small.mean()  # beats the trend: SE 0.035
    errors["complex"] = trend - 0.05 + large - large.mean()  # does not: SE 0.07
    scores, errors = _scored(auto, errors)
    assert auto._choose(scores, errors) == "simple"
    assert not auto._better(errors["simple"], errors["complex"])
    assert auto._alike("simple", scores, errors, None, None) == ["simple"]


def test_two_models_alike_are_fitted_as_their_mean_unless_average_is_off(posts):
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    picture = _candidates(16)["trend x image features"]
    twin = LikesRegressor(**picture.get_params(deep=False))
    twins = {"trend": AutoTrendRegressor(), "a": picture, "b": twin}
    single = AutoLikesRegressor(twins, average=False).fit(X, y)
    assert single.selected_ == "a" and single.averaged_ == ["a"]  # the first of two equals
    model = AutoLikesRegressor(twins).fit(X, y)
    assert model.selected_ == "mean of a and b" and model.averaged_ == ["a", "b"]
    walked = model.walk_predictions_
    assert np.allclose(walked["mean of a and b"], np.sqrt((walked["a"] + 1) * (walked["b"] + 1)) - 1)
    assert np.allclose(model.walk_residuals_, model.walk_actual_ - walked["mean of a and b"])
    # Scored on the same walk, in the last row.
    assert list(model.selection_scores_.index) == ["trend", "a", "b", "mean of a and b"]
    assert model.selection_scores_.loc["mean of a and b", "MAE"] == pytest.approx(
        model.selection_scores_.loc["a", "MAE"]
    )
    assert type(model.estimator_).__name__ == "AveragedLikesRegressor"
    assert list(model.estimator_.named_estimators_) == ["a", "b"]
    assert np.allclose(model.predict(X), single.predict(X))  # the mean of a model and its twin


def test_fit_reports_each_candidate_s_walk_and_changes_nothing(posts):
    # issue 36: `spe fit` shows which step and which refit; fit(progress=) is a keyword, not a parameter.
    X, y = posts.drop(columns="likes"), posts["likes"]
    steps = []
    model = AutoLikesRegressor(_candidates(16)).fit(X, y, progress=steps.append)
    alone = AutoLikesRegressor(_candidates(16)).fit(X, y)
    assert model.selected_ == alone.selected_ and "progress" not in model.get_params()
    np.testing.assert_array_equal(model.walk_predictions_, alone.walk_predictions_)
    walks = {step.step: step for step in steps if step.total}
    assert list(walks) == [f"choosing: walking {name} forward over 30 posts" for name in _candidates()]
    assert [step.walks_left for step in walks.values()] == [1, 0]
    assert all(step.done == step.total for step in walks.values())  # the last report of each walk
    assert steps[0].step == "featurizing the pictures for trend x image features"
    assert steps[-1].step == f"fitting {model.selected_} on all 40 posts"
