"""The "What works on this account" section, opened in a real browser at a laptop's and a phone's width."""

from pathlib import Path

import numpy as np
import pytest

from spe.datasets import make_posts
from spe.inspection import picture_themes
from spe.report import render_page
from spe.report._themes import themes_section
from tests.report import test_pages

browser = test_pages.browser


@pytest.fixture(scope="module")
def themes(tmp_path_factory):
    """An account of 80 posts whose backbone outputs are drawn (no backbone pass: the page is tested)."""
    folder = tmp_path_factory.mktemp("account")
    posts = make_posts(80, directory=folder, image_size=(48, 64), random_state=0)
    rng = np.random.default_rng(0)
    centres = rng.gamma(1.0, 1.0, (3, 64))
    embeddings = np.abs(centres[np.arange(80) % 3] + rng.normal(0, 0.1, (80, 64)))
    probabilities = rng.dirichlet(np.ones(1000) * 0.01, 80)
    # a nasty name: the page must show it as text
    nasty = folder / "<b>x<i>.jpg"
    Path(posts.loc[0, "image"]).rename(nasty)
    posts.loc[0, "image"] = str(nasty)
    return picture_themes(None, posts, embeddings=embeddings, probabilities=probabilities, faces=False)


def test_section_lists_themes_best_first_with_thumbnails(themes):
    section = themes_section(themes, n_pictures=3)
    rows = section.context["themes"]
    assert section.kind == "themes" and section.heading == "What works on this account"
    assert len(rows) == len(themes.themes) and all(1 <= len(r["pictures"]) <= 3 for r in rows)
    assert all(p["uri"].startswith("data:image/jpeg") for r in rows for p in r["pictures"])
    assert len(section.context["extremes"]["most"]) == 3 and len(section.context["extremes"]["least"]) == 3
    html = render_page([themes_section(themes, n_pictures=100)], title="Themes")  # every post shown
    assert "&lt;b&gt;x&lt;i&gt;.jpg" in html and "<b>x<i>" not in html
    assert "beat the trend most" in html


def test_a_missing_picture_is_said_not_fatal(themes, tmp_path):
    moved = themes.posts.copy()
    moved.loc[themes.themes["members"].iloc[0][0], "image"] = str(tmp_path / "gone.jpg")
    broken = type(themes)(themes.themes, moved, themes.confidence, themes.note)
    pictures = themes_section(broken, n_pictures=100).context["themes"][0]["pictures"]
    assert any(p["problem"] and "gone.jpg" in p["problem"] for p in pictures)


@pytest.mark.parametrize("width", [1280, 390])
def test_page_in_a_real_browser(browser, themes, tmp_path, width):
    few = picture_themes(None, themes.posts.head(12).assign(post_index=range(1, 13)))
    path = tmp_path / "themes.html"
    render_page(
        [themes_section(themes), themes_section(few, heading="A small account")], title="Themes", path=path
    )
    page = browser.open(path, width=width)
    assert page["problems"] == [] and page["scripts"] == 0
    assert page["all_images"] > 10 and page["images"] == page["all_images"]  # every thumbnail loads
    assert page["overflow"] <= 0, page["overflow"]
    assert "What works on this account" in page["text"]
    assert "Themes need at least 30 posts" in page["text"]
    assert all(url.startswith(("file:", "data:")) for url in page["requests"])


@pytest.mark.parametrize("width", [1280, 390])
def test_prediction_page_shows_each_candidates_theme_in_a_real_browser(browser, themes, tmp_path, width):
    import pandas as pd

    from spe.inspection import with_themes
    from spe.report import prediction_page

    pictures = themes.posts["image"].iloc[[1, 2, 3]].tolist()
    table = pd.DataFrame(
        {
            "image": pictures,
            "predicted": [131.0, 118.0, 97.5],
            "low": [98.0, 88.0, 70.0],
            "high": [170.0, 153.0, 130.0],
            "trend": [117.0] * 3,
            "picture factor": [1.12, 1.01, 0.83],
            "reasons": [
                "the picture as a whole +12%",
                "the picture as a whole +1%",
                "the picture as a whole -17%",
            ],
        },
        index=pd.RangeIndex(1, 4, name="rank"),
    )
    table.attrs.update(confidence=0.8, when="2026-12-01T17:00:00+00:00", skill="Skill line.")
    rng = np.random.default_rng(1)
    seen = themes.projection.components.shape[1]
    embeddings, probabilities = rng.gamma(1.0, 1.0, (3, seen)), rng.dirichlet(np.ones(1000) * 0.01, 3)
    table = with_themes(table, themes, embeddings=embeddings, probabilities=probabilities)
    assert table["reasons"].str.startswith("looks like theme ").all()  # the picture's number kept beside it
    assert table["reasons"].str.endswith(("+12%", "+1%", "-17%")).all()
    path = tmp_path / "predict.html"
    prediction_page(table, path=path)
    page = browser.open(path, width=width)
    assert page["problems"] == [] and page["scripts"] == 0 and page["overflow"] <= 0, page["overflow"]
    assert "Each picture among the account's themes" in page["text"]
    for row in table.itertuples():
        assert f"theme {row.theme}" in page["text"]
    assert "Closest past posts: post " in page["text"]
