"""A synthetic account: pictures whose likes follow a known rule, written in the seed's folder format."""

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw
from sklearn.utils import check_random_state

from ._parsing import LIKES_FILE
from ._readers import load_folder
from ._scenes import scene_pictures
from ._spiky import spiky_log_likes

__all__ = ["make_posts"]

_WORDS = "sunset lake city friends coffee morning walk home summer light view weekend new old".split()
_TAGS = "#nofilter #travel #photooftheday #love #instagood #nature #food #art".split()
# Sun, fire, heart, camera, sparkles.
_EMOJI = ("\U0001f31e", "\U0001f525", "\u2764\ufe0f", "\U0001f4f7", "\u2728")


def _post_times_and_captions(n_samples, rng):
    """Posting times (UTC, 1 + Poisson(2) days apart, 7:00 to 24:00) and captions."""
    days = np.cumsum(1 + rng.poisson(2.0, n_samples))
    seconds = rng.randint(7 * 3600, 24 * 3600, n_samples)
    timestamps = (
        pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(days, "D") + pd.to_timedelta(seconds, "s")
    )
    captions = []
    for _ in range(n_samples):
        parts = list(rng.choice(_WORDS, rng.randint(0, 9)))
        parts += list(rng.choice(_TAGS, rng.randint(0, 4), replace=False))
        if rng.random_sample() < 0.3:
            parts.append("@friend")
        parts += list(rng.choice(_EMOJI, rng.randint(0, 3)))
        captions.append(" ".join(parts))
    return pd.DatetimeIndex(timestamps), captions


def make_posts(
    n_samples=200,
    *,
    directory,
    image_size=(64, 64),
    pixel_effect=None,
    trend=None,
    drift=None,
    noise=None,
    realistic=False,
    spiky=False,
    faint_pictures=False,
    time_effect=0.0,
    random_state=None,
    return_truth=False,
    content="discs",
):
    """Write a synthetic account in the seed's folder format and read it back.

    Each picture is a flat background with one filled disc, red or blue,
    of random radius and position. Like counts follow::

        size   = (radius / min(height, width) - 0.1) / 0.35      # 0 .. 1
        pixels = 0.7 * size + 0.3 * (disc is red) - 0.5          # -0.5 .. 0.5
        t      = post_index / n_samples                          # 0 .. 1
        walk   = cumulative sum of drift * N(0, 1), one step per post, centred
        hour   = posting hour of day, 7:00 to 24:00 (UTC)
        likes  = round(100 * exp(pixel_effect * pixels
                                 + trend * (t - 0.5) + walk
                                 + time_effect * cos(2 * pi * (hour - 20) / 24)
                                 + noise * N(0, 1)))

    so bigger and red discs get more likes, the account grows over time
    (steadily with ``trend``, wandering with ``drift``) and the log-normal
    noise gives the heavy upper tail of real like counts. Posts go up
    1 to about 8 days apart (1 + Poisson(2) days) from 1 January 2024, at a
    uniform time of day between 7:00 and midnight UTC; with ``time_effect``
    evening posts (peak at 20:00) get more likes than morning ones. Each
    post has a caption of a few words, 0 to 3 hashtags, sometimes a mention
    and up to 2 emoji, which do not change its likes.

    Two presets. The default makes the pixels matter: 200 posts have a
    mean near 110, a standard deviation near 45 and a maximum near 260,
    close to the seed's real account (mean 118, sd 48, min 16, max 296),
    and the pixel signal is strong enough for a small CNN to learn
    (``pixel_effect=1.5, trend=0.5, drift=0, noise=0.15``).
    ``realistic=True`` is what real personal accounts look like: the time
    trend and drift dominate and the picture's effect is modest
    (``pixel_effect=0.7, trend=1.5, drift=0.06, noise=0.25``; 200 posts have a
    mean near 106, a standard deviation near 43 and a maximum near 300). Parameters
    given explicitly override either preset. ``spiky=True`` is an account that
    is not well-behaved: the realistic preset plus spikes (4% of posts get 2
    to 3 times their likes), level shifts that stay, and a change of regime
    part-way (growth slows or reverses and the posts get noisier); see
    ``spe/datasets/_spiky.py`` for the exact rule.

    Parameters
    ----------
    n_samples : int, default=200
        Number of posts.
    directory : str or path-like
        Where to write ``1.jpg`` … ``n.jpg`` and ``y_likes_data.txt``.
        Created if needed; must be empty if it exists.
    image_size : tuple of (int, int), default=(64, 64)
        ``(height, width)`` of the pictures.
    pixel_effect : float, default=None
        Weight of the picture on log-likes (1.5, or 0.7 when realistic).
    trend : float, default=None
        Growth of log-likes from the first post to the last (0.5, or 1.5).
    drift : float, default=None
        Step size of the random walk of log-likes (0, or 0.06).
    noise : float, default=None
        Standard deviation of the log-normal noise (0.15, or 0.25).
    realistic : bool, default=False
        Use the realistic preset for the parameters not given.
    preset = (0.7, 1.5, 0.06, 0.25) if realistic or spiky else (1.5, 0.5, 0.0, 0.15)
    preset = (0.3, 1.5, 0.06, 0.3) if faint_pictures else preset
    time_effect : float, default=0.0
        Weight of the posting hour on log-likes (off in both presets):
        0.3 gives posts at 20:00 about 35% more likes, and posts at 8:00
        about 26% fewer, than the same post at 14:00.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible data.
    return_truth : bool, default=False
        Also return the generator's hidden truth, apart from the posts.
    content : {"discs", "scenes"}, default="discs"
        What the pictures show. ``"scenes"``: in place of the disc, one of
        six photographs from scikit-image's samples (a cat, a cup of
        coffee, an astronaut, a rocket, a photographer, coins), randomly
        cropped, mirrored and jittered in brightness, contrast, saturation
        and hue (some in grey); ``pixels`` is the scene's score (cat 0.5, astronaut
        0.3, photographer 0.1, coins -0.1, rocket -0.3, coffee -0.5), so
        what a picture shows sets its likes, not its colours (each
        scene has a look-alike of opposite score). Use
        ``image_size=(224, 224)`` for a pretrained backbone. Needs
        scikit-image; the truth then has ``scene`` and ``pixel_score``.

    Returns
    -------
    posts : DataFrame
        As :func:`load_folder` returns (``image``, ``likes``,
        ``post_index``), plus ``timestamp`` (UTC) and ``caption`` columns as
        :func:`load_csv` reads them (the folder written has no place for
        them): what a real account gives, nothing more, so no column
        selector can find the answer in it.
        ``DataFrame.attrs["directory"]`` is the folder written.
    truth : DataFrame
        Only with ``return_truth=True``: the true picture attributes,
        ``radius`` (pixels), ``red`` (bool) and ``pixel_score``, with the
        same index as ``posts``; with ``spiky=True`` also ``spike`` (bool).

    Raises
    ------
    FileExistsError
        If ``directory`` exists and is not empty.

    Examples
    --------
    >>> import tempfile
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(20, directory=tempfile.mkdtemp(), random_state=0)
    >>> list(posts.columns)
    ['image', 'likes', 'post_index', 'timestamp', 'caption']
    >>> bool((posts["likes"] > 0).all())
    True
    >>> posts, truth = make_posts(5, directory=tempfile.mkdtemp(), random_state=0, return_truth=True)
    >>> list(truth.columns)
    ['radius', 'red', 'pixel_score']
    """
    preset = (0.7, 1.5, 0.06, 0.25) if realistic or spiky else (1.5, 0.5, 0.0, 0.15)
    preset = (0.3, 1.5, 0.06, 0.3) if faint_pictures else preset
    pixel_effect, trend, drift, noise = (
        default if value is None else value
        for value, default in zip((pixel_effect, trend, drift, noise), preset)
    )
    n_samples = int(n_samples)
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    if content not in ("discs", "scenes"):
        raise ValueError(f"make_posts parameter 'content' must be 'discs' or 'scenes', got {content!r}")
    height, width = image_size
    rng = check_random_state(random_state)
    folder = Path(directory).expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"make_posts writes into an empty folder; {folder} is not empty")
    folder.mkdir(parents=True, exist_ok=True)

    side = min(height, width)
    if content == "scenes":  # writes the pictures now; the disc loop below then draws none
        pixels, scene_truth = scene_pictures(n_samples, (height, width), folder, rng)
    else:
        frac = rng.uniform(0.1, 0.45, n_samples)
        red = rng.random_sample(n_samples) < 0.5
        pixels = 0.7 * (frac - 0.1) / 0.35 + 0.3 * red - 0.5
    t = np.arange(1, n_samples + 1) / n_samples
    log_likes = pixel_effect * pixels + trend * (t - 0.5) + noise * rng.standard_normal(n_samples)
    if drift:
        walk = np.cumsum(drift * rng.standard_normal(n_samples))
        log_likes += walk - walk.mean()

    for i in range(0 if content == "scenes" else n_samples):
        background = tuple(int(v) for v in rng.randint(90, 200, 3))
        img = Image.new("RGB", (width, height), background)
        r = frac[i] * side
        cx = rng.uniform(r, width - r)
        cy = rng.uniform(r, height - r)
        colour = (220, 30, 30) if red[i] else (30, 50, 220)
        ImageDraw.Draw(img).ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        img.save(folder / f"{i + 1}.jpg", quality=95)
    # Drawn after the pictures, so that the likes and pictures of a seed
    # stay what they were before posts had times and captions.
    timestamps, captions = _post_times_and_captions(n_samples, rng)
    hour = (timestamps - timestamps.normalize()) / pd.Timedelta(hours=1)
    log_likes += time_effect * np.cos(2 * np.pi * (hour.to_numpy() - 20) / 24)
    if spiky:  # drawn last: the other presets' accounts stay what they were for every seed
        departures, spike = spiky_log_likes(n_samples, rng)
        log_likes += departures
    likes = np.round(100.0 * np.exp(log_likes)).astype(np.int64)
    lines = ["# post number: likes (written by spe.datasets.make_posts)"]
    lines += [f"{i + 1}: {count}" for i, count in enumerate(likes)]
    (folder / LIKES_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")

    posts = load_folder(folder)
    posts["timestamp"] = timestamps
    posts["caption"] = captions
    posts.attrs["directory"] = str(folder)
    if not return_truth:
        return posts
    # Apart from the posts: as columns, any selector by dtype would train on it.
    if content == "scenes":
        truth = scene_truth.set_axis(posts.index)
    else:
        truth = pd.DataFrame({"radius": frac * side, "red": red, "pixel_score": pixels}, index=posts.index)
    if spiky:
        truth["spike"] = spike
    return posts, truth
