import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from spe.datasets import make_posts  # noqa: E402

#: The scikit-learn API checks every spe estimator passes (tests/*/test_*.py run them).
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_mixin_order",
]


@pytest.fixture
def count_decodes(monkeypatch):
    """A list that gets the number of pictures of every ImageLoader decode."""
    from spe import ImageLoader

    calls = []
    original = ImageLoader._decode

    def counting(self, paths, size):
        calls.append(len(paths))
        return original(self, paths, size)

    monkeypatch.setattr(ImageLoader, "_decode", counting)
    return calls


@pytest.fixture(scope="session")
def posts(tmp_path_factory):
    """A small synthetic account: 40 posts of 16x16 pixels."""
    folder = tmp_path_factory.mktemp("posts")
    return make_posts(40, directory=folder, image_size=(16, 16), random_state=0)


@pytest.fixture(scope="session")
def account(tmp_path_factory):
    """``account(n, size, **make_posts_options)``: a synthetic account, made once per session.

    The same arguments give the same DataFrame object (copy it before
    changing it): realistic accounts (``realistic=True``), null ones
    (``pixel_effect=0``), of any size.
    """
    made = {}

    def make(n_samples, size=16, **options):
        key = (n_samples, size, tuple(sorted(options.items())))
        if key not in made:
            folder = tmp_path_factory.mktemp(f"account{n_samples}")
            options.setdefault("random_state", 0)
            made[key] = make_posts(n_samples, directory=folder, image_size=(size, size), **options)
        return made[key]

    return make


@pytest.fixture(scope="session")
def fitted_cnn(posts):
    """A tiny CNN pipeline (8x8 pictures, one 4-filter convolution, 2 epochs) fitted on ``posts``.

    Shared by every test file that needs a fitted network; a test that
    changes it must clone it first.
    """
    from sklearn.pipeline import Pipeline

    from spe import CNNLikesRegressor, ImageLoader

    pipe = Pipeline(
        [
            ("load", ImageLoader(size=(8, 8))),
            (
                "cnn",
                CNNLikesRegressor(epochs=2, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0),
            ),
        ]
    )
    return pipe.fit(posts, posts["likes"])


def write_instaloader_post(
    folder,
    stem,
    likes,
    *,
    typename="GraphImage",
    video=False,
    images=("",),
    timestamp=1_700_000_000,
    caption=None,
    location=None,
):
    """Write a post as instaloader does: its own writer, its own layout.

    ``caption`` defaults to ``"caption {stem}"``; ``location`` is a place
    name, saved as instaloader saves a post's location.
    """
    import instaloader

    context = instaloader.Instaloader(quiet=True).context
    node = {
        "shortcode": stem.replace("-", "").replace("_", "")[:11],
        "__typename": typename,
        "is_video": video,
        "taken_at_timestamp": timestamp,
        "edge_media_preview_like": {"count": likes},
        "edge_media_to_comment": {"count": 2},
        "edge_media_to_caption": {
            "edges": [{"node": {"text": f"caption {stem}" if caption is None else caption}}]
        },
        "location": None
        if location is None
        else {"id": "1", "has_public_page": True, "name": location, "slug": "x"},
    }
    instaloader.save_structure_to_file(instaloader.Post(context, node), str(folder / f"{stem}.json.xz"))
    for suffix in images:
        Image.new("RGB", (8, 8), "red").save(folder / f"{stem}{suffix}.jpg")
