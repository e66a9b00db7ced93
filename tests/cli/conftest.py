"""Fixtures of the command-line tests."""

import pytest

from spe import AutoTrendRegressor, ConformalLikesRegressor
from spe.persistence import save_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A saved trend model (quick to fit and to load): it gives every picture the same prediction."""
    from spe.datasets import make_posts

    folder = tmp_path_factory.mktemp("account")
    posts = make_posts(40, directory=folder / "posts", image_size=(8, 8), random_state=0)
    fitted = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts.drop(columns="likes"), posts["likes"])
    return save_model(fitted, folder / "model", data=posts)
