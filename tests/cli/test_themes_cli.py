"""``spe fit`` finds the account's picture themes and saves them; ``spe predict`` places each candidate."""

import pandas as pd
import pytest

from spe.cli import main
from spe.datasets import make_posts
from spe.persistence._layout import THEMES_FILE


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """A 60-post scenes account (pictures matter by what they show), fitted with spe fit once."""
    folder = tmp_path_factory.mktemp("scenes")
    posts, truth = make_posts(
        60,
        directory=folder / "posts",
        image_size=(64, 64),
        content="scenes",
        random_state=0,
        return_truth=True,
    )
    new, new_truth = make_posts(
        8, directory=folder / "new", image_size=(64, 64), content="scenes", random_state=7, return_truth=True
    )
    return folder, posts, truth, new, new_truth


@pytest.fixture(scope="module")
def fitted(scenes):
    folder, posts, *_ = scenes
    model = folder / "model"
    from contextlib import redirect_stdout
    from io import StringIO

    said = StringIO()
    with redirect_stdout(said):
        assert main(["--quiet", "fit", posts.attrs["directory"], "--size", "16", "--out", str(model)]) == 0
    return model, said.getvalue()


@pytest.mark.slow
def test_fit_saves_the_themes_and_says_which_stand_out(fitted):
    model, said = fitted
    assert (model / THEMES_FILE).is_file()
    assert "picture themes found and saved with the model" in said
    assert "nan" not in said


@pytest.mark.slow
def test_predict_names_each_candidates_theme_closest_posts_and_page(scenes, fitted, tmp_path, capsys):
    _, posts, truth, new, new_truth = scenes
    model, _ = fitted
    out = tmp_path / "predicted"
    assert main(["--quiet", "predict", str(model), *new["image"], "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Among the account's own pictures" in said and "Closest past posts: post " in said
    assert "the picture as a whole" not in said  # said as the theme it looks like
    table = pd.read_csv(out / "predictions.csv")
    assert {"theme", "theme name", "theme effect", "shows", "closest posts"} <= set(table.columns)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "Each picture among the account&#39;s themes" in page
        or "Each picture among the account's themes" in page
    )
    # Each new picture joins the theme holding most of the account's posts of its scene.
    from spe.inspection import PictureThemes
    from spe.persistence import load_themes

    themes = PictureThemes.from_data(load_themes(model))
    home = pd.crosstab(truth["scene"], themes.posts["theme"]).idxmax(axis=1)
    by_name = dict(zip(new["image"].map(lambda p: p.rsplit("/", 1)[-1]), new_truth["scene"]))
    joined = {row.image.rsplit("/", 1)[-1]: row.theme for row in table.itertuples()}
    right = sum(joined[name] == home[scene] for name, scene in by_name.items())
    assert right >= 6, (joined, by_name, home.to_dict())


def test_a_model_folder_without_themes_predicts_as_before(model, posts, tmp_path, capsys):
    assert main(["predict", str(model), posts["image"].iloc[0], "--out", str(tmp_path / "p")]) == 0
    said = capsys.readouterr().out
    assert "Among the account's own pictures" not in said
    assert "theme" not in pd.read_csv(tmp_path / "p" / "predictions.csv").columns
