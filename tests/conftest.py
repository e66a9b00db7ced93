import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

from spe.datasets import make_posts  # noqa: E402


@pytest.fixture(scope="session")
def posts(tmp_path_factory):
    """A small synthetic account: 40 posts of 16x16 pixels."""
    folder = tmp_path_factory.mktemp("posts")
    return make_posts(40, directory=folder, image_size=(16, 16), random_state=0)
