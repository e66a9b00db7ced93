"""``spe evaluate`` tells the story ``spe fit`` tells (issue 36): the own model against the recent average."""

import json

import pytest

from spe.cli import main
from tests.report import test_pages

browser = test_pages.browser  # the fixture: headless chromium, as the report pages are tested

TINY = ["--size", "8", "--folds", "2"]


def _evaluate(posts, tmp_path, *extra):
    out = tmp_path / "report"
    code = main(["--quiet", "evaluate", posts.attrs["directory"], *TINY, *extra, "--out", str(out)])
    return code, out


def test_evaluate_judges_the_model_spe_fit_saves_by_default(posts, tmp_path, capsys):
    code, out = _evaluate(posts, tmp_path)
    assert code == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert list(report["scores"]) == [
        "mean of training likes",
        "recent average (k=10)",
        "trend chosen on training posts",
        "account's own model",
    ]
    answer = report["headline"]
    assert answer["model"] == "account's own model" and report["notes"][0] == answer["sentence"]
    # The first sentence answers the question with the paired difference and its interval.
    assert answer["sentence"].startswith("The account's own model missed ")
    assert "than your recent average (95% interval" in answer["sentence"]
    assert answer["low"] <= answer["percent"] <= answer["high"]
    assert f"as spe fit does, it chooses {answer['chosen']}" in answer["sentence"]
    assert "nan" not in printed.lower() and "CNN" not in printed
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.index('class="answer"') < page.index("<h3>Scores</h3>")


def test_the_headline_is_the_paired_figure_of_the_walked_predictions(posts, tmp_path):
    import pandas as pd

    from spe.evaluation._report import fewer_missed

    code, out = _evaluate(posts, tmp_path, "--model", "trend x picture")
    assert code == 0
    answer = json.loads((out / "report.json").read_text())["headline"]
    walked = pd.read_csv(out / "predictions.csv")
    recent = walked["recent average (k=10)"]
    percent, low, high = fewer_missed(walked["actual"], walked["trend x picture"], recent)
    assert answer["model"] == "trend x picture"
    assert (answer["percent"], answer["low"], answer["high"]) == pytest.approx((percent, low, high))
    mae = (walked["actual"] - walked["trend x picture"]).abs().mean()
    assert percent == pytest.approx(100 * (1 - mae / (walked["actual"] - recent).abs().mean()))


def test_model_names_one_candidate_and_compare_all(posts, tmp_path, capsys):
    code, out = _evaluate(posts, tmp_path, "--model", "cnn-on-pixels", "--epochs", "1")
    assert code == 0
    rows = list(json.loads((out / "report.json").read_text())["scores"])
    assert rows[-1] == "CNN on pixels" and len(rows) == 4
    capsys.readouterr()
    assert main(["--quiet", "evaluate", posts.attrs["directory"], *TINY, "--model", "no such"]) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "'no such' is not one of spe's models" in error
    assert main(["--quiet", "evaluate", posts.attrs["directory"], "--compare", "--model", "trend only"]) == 1
    assert "give one" in capsys.readouterr().err


def test_compare_refits_every_row_on_the_own_models_schedule(account, capsys):
    """About 20 refits for every row, the CNN as often as --folds: not one refit per post."""
    posts = account(120, 8)
    args = ["evaluate", posts.attrs["directory"], "--size", "8", "--folds", "2", "--epochs", "1", "--compare"]
    assert main(args) == 0
    err = capsys.readouterr().err
    refits = {}
    for part in err.split("\r"):
        for row in ("trend only", "image features", "CNN on pixels", "account's own model"):
            marker = f"{row}, refit "
            if marker in part:
                refits[row] = int(part.split(marker)[1].split("/")[1].split(",")[0].split("]")[0])
    assert refits["CNN on pixels"] == 2
    assert all(14 <= refits[row] <= 28 for row in ("trend only", "image features", "account's own model"))
    # Time left is said only once a refit of the row has been timed (never tqdm's, from counts).
    shown = [part for part in err.split("\r") if part.startswith("evaluating")]
    estimates = [part for part in shown if "left on this row" in part]
    assert estimates and all(", refit " in part for part in estimates)
    assert not any("<" in part.split("]")[0] for part in shown)  # tqdm's elapsed<remaining


def test_compare_refits_the_cnn_three_times_and_says_so(account, capsys):
    """The seed's CNN took 94% of --compare at 5 refits: 3 by default there, said under the table."""
    posts = account(120, 8)
    args = ["evaluate", posts.attrs["directory"], "--size", "8", "--epochs", "1", "--compare"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "CNN on pixels, refit 1/3" in captured.err
    assert "(first 20 posts;" in captured.out  # every row walks the posts --folds 5 sets, the CNN too
    assert "the CNN on pixels was refitted 3 times walking forward" in captured.out
    assert "--folds 5 refits it 5 times" in captured.out
    # Evaluating the CNN alone keeps its 5 refits, and says nothing of it.
    assert (
        main(
            ["evaluate", posts.attrs["directory"], "--size", "8", "--epochs", "1", "--model", "CNN on pixels"]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "CNN on pixels, refit 1/5" in captured.err and "refitted 3 times" not in captured.out


def test_the_page_leads_with_the_answer_and_fits_a_laptop(posts, tmp_path, browser):
    code, out = _evaluate(posts, tmp_path)
    assert code == 0
    for width in (1280, 390):
        page = browser.open(out / "report.html", width=width)
        assert page["problems"] == [] and page["overflow"] < 1, (width, page["overflow"])
    text = page["text"]
    assert text.index("than your recent average") < text.index("Scores")
    assert "pairs of nearby posts ranked right" in text or "pairwise" not in text


@pytest.mark.slow
def test_one_backbone_pass_serves_every_row_and_the_themes(account, tmp_path, monkeypatch):
    """Issue 38: the page's themes cost no second pass; the walk reads the same embeddings."""
    from spe import PretrainedEmbedder
    from spe.inspection import _themes

    posts = account(40, 32)
    passes, embedded = [], []
    original_pass, original_predict = _themes.backbone_pass, PretrainedEmbedder._predict
    monkeypatch.setattr(_themes, "backbone_pass", lambda e, p: passes.append(len(p)) or original_pass(e, p))
    monkeypatch.setattr(
        PretrainedEmbedder, "_predict", lambda s, X: embedded.append(len(X)) or original_predict(s, X)
    )
    code, out = _evaluate(posts, tmp_path)
    assert code == 0
    assert passes == [len(posts)] and embedded == []  # one pass, over every picture, read by the walk
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "What works on this account" in page
