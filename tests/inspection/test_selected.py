import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import AutoLikesRegressor, AutoTrendRegressor, ImageFeatures, LikesRegressor
from spe.evaluation import candidates, evaluate
from spe.inspection import feature_importance
from spe.inspection._selected import explain_selected
from spe.report import evaluation_page


@pytest.fixture(scope="module")
def posts(account):
    return account(60, 16)


def _features(**kwargs):
    return make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), RidgeCV(**kwargs))


def test_the_report_says_why_the_account_s_own_model_predicts(posts, tmp_path):
    own = candidates(size=16, cnn=False, embeddings=False)["account's own model"]
    report = evaluate({"account's own model": own}, posts, refit_every=10)
    why = report.explanation
    # The same fit as a person's on all the posts.
    fitted = clone(own).fit(posts.drop(columns="likes"), posts["likes"])
    assert why["model"] == "account's own model" and why["n_samples"] == len(posts)
    assert why["selected"] == fitted.selected_ == "trend x picture"
    assert [f["feature"] for f in why["features"]] == list(feature_importance(fitted).index)
    top = why["features"][0]
    assert np.isclose(top["coefficient"], feature_importance(fitted)["coefficient"].iloc[0])
    text = report.to_string().split("Why this model predicts what it does: ")[1].splitlines()
    assert "chose 'trend x picture'" in text[0] and len(text) == 6  # the note, then the top 5
    assert text[1].split() == [*top["reason"].split(), *top["effect"].split()]
    report.to_json(tmp_path / "report.json")
    saved = json.loads((tmp_path / "report.json").read_text())["explanation"]
    assert saved["selected"] == "trend x picture" and saved["features"][0]["effect"] == top["effect"]
    html = evaluation_page(report, posts=posts)
    assert "<h3>Why this model predicts what it does</h3>" in html and top["effect"] in html


def test_the_report_says_when_the_own_model_chose_the_trend(posts):
    own = AutoLikesRegressor({"trend": AutoTrendRegressor()})
    report = evaluate(
        {"own": own, "picture": LikesRegressor(image_model=_features())}, posts, cv="time", n_splits=3
    )
    assert report.explanation["model"] == "own" and report.explanation["features"] == []
    assert "trend alone" in report.explanation["note"]
    assert "no picture factor" in report.to_string()
    html = evaluation_page(report)
    assert "Why this model predicts what it does" in html and 'class="reasons"' not in html


def test_no_why_without_a_selected_model(posts):
    report = evaluate(LikesRegressor(image_model=_features()), posts, cv="time", n_splits=3)
    assert report.explanation is None
    assert "Why this model" not in report.to_string() and "Why this model" not in evaluation_page(report)


def test_the_report_explains_a_mean_of_two_models_by_their_features(posts):
    twins = {"trend": AutoTrendRegressor(), "a": LikesRegressor(image_model=_features())}
    twins["b"] = clone(twins["a"])
    why = explain_selected({"own": AutoLikesRegressor(twins)}, posts.drop(columns="likes"), posts["likes"])
    assert why["selected"] == "mean of a and b"
    alone = feature_importance(clone(twins["a"]).fit(posts.drop(columns="likes"), posts["likes"]))
    # The mean of a model and its twin: each feature once, with the model's own effect.
    assert [f["feature"] for f in why["features"]] == list(alone.index)
    # As a share of the likes: a ratio model's coefficient c from its average factor b is c / b.
    expected = alone["coefficient"] / alone.attrs["baseline"]
    assert np.allclose([f["coefficient"] for f in why["features"]], expected)
    assert "chose 'mean of a and b'" in why["note"] and "about" in why["note"]
