"""PostFeatures: what a post says besides its pixels, known before it goes up."""

import re
import warnings
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["PostFeatures"]

_TIME = ("hour_sin", "hour_cos", "weekday", "weekend")
_HISTORY = ("days_since_previous", "posts_previous_7_days", "posts_previous_30_days")
_CAPTION = ("caption_words", "hashtags", "mentions", "emoji")
_DAY_NS = 86_400 * 10**9

# Instaloader's own patterns (instaloader.structures), so counts match its
# caption_hashtags and caption_mentions.
_HASHTAG = re.compile(r"#\w{1,150}")
_MENTION = re.compile(r"(?:^|\W|_)@(\w(?:(?:\w|\.(?!\.)){0,28}\w)?)", re.ASCII)
# One emoji as a person sees it: a flag (two regional indicators), a keycap, or
# a pictograph with its variation selector, skin tone and zero-width-joined
# parts. The pictographs are Unicode's Extended_Pictographic blocks.
_PICTOGRAPH = (
    "[\u203c\u2049\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa"
    "\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c"
    "\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001f0ff\U0001f10d-\U0001f1e5"
    "\U0001f200-\U0001f3fa\U0001f400-\U0001faff]"
)
_MODIFIER = "[\ufe0f\U0001f3fb-\U0001f3ff]*"
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"
    "|[0-9#*]\ufe0f?\u20e3"
    f"|{_PICTOGRAPH}{_MODIFIER}(?:\u200d{_PICTOGRAPH}{_MODIFIER})*"
)


def _caption_counts(caption):
    """Words, hashtags, mentions and emoji of one caption.

    Parameters
    ----------
    caption : str or None
        ``None`` or NaN count as an empty caption.

    Returns
    -------
    tuple of int
        ``(words, hashtags, mentions, emoji)``; words are the
        whitespace-separated tokens, hashtags and mentions included.

    Examples
    --------
    >>> _caption_counts("Lake at dusk #sunset #lake with @anna 🌅")
    (8, 2, 1, 1)
    """
    if caption is None or (not isinstance(caption, str) and pd.isna(caption)):
        caption = ""
    caption = str(caption)
    return (
        len(caption.split()),
        len(_HASHTAG.findall(caption)),
        len(_MENTION.findall(caption)),
        len(_EMOJI.findall(caption)),
    )


class PostFeatures(TransformerMixin, BaseEstimator):
    """Features of a post besides its picture, each known before it goes up.

    From the posting time, in the account's time zone: the hour of day,
    encoded on a circle (``hour_sin``, ``hour_cos``, so 23:30 sits next to
    00:30), the ``weekday`` (Monday 0 to Sunday 6) and ``weekend``. From
    the account's posting history: ``days_since_previous`` post and the
    posts in the 7 and 30 days before (``posts_previous_7_days``,
    ``posts_previous_30_days``). From the caption: ``caption_words``,
    ``hashtags``, ``mentions`` and ``emoji``. And ``followers`` where ``X``
    has such a column (the count when the post went up).

    Nothing here reads a post's likes or comments, which are only known
    after it is posted. The history counts every post with a timestamp
    strictly before the one described, from the training posts (kept by
    :meth:`fit`) and the posts in ``X`` itself, so a planned post passed to
    :meth:`transform` alone still sees the account's past. Posts at the
    very same instant count once. The account's first post has no previous
    one: its ``days_since_previous`` is the median gap between the
    training posts (0 with fewer than two).

    Parameters
    ----------
    timezone : str, default="UTC"
        IANA name of the account's time zone (e.g. ``"Europe/Berlin"``),
        where hour and weekday are read. Timestamps without a time zone are
        taken as UTC, as :func:`~spe.datasets.load_csv` reads them.
    missing : {"raise", "skip"}, default="raise"
        What to do when ``X`` lacks the ``timestamp`` or ``caption``
        column (the seed's folder format has neither): ``"raise"`` a
        ``ValueError`` naming them, or ``"skip"`` the features that need
        them, with a warning.
    timestamp : str or None, default="timestamp"
        Column of posting times; ``None`` leaves out the time and history
        features.
    caption : str or None, default="caption"
        Column of captions; ``None`` leaves out the caption features.
    followers : str or None, default="followers"
        Column of follower counts, used where ``X`` has it when fitted.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        The names of the columns :meth:`transform` returns.
    timestamps_ : ndarray of int64
        The training posts' times (ns since the epoch, UTC), sorted and
        unique: the history later posts see. Empty without timestamps.
    median_gap_days_ : float
        The first post's ``days_since_previous``.
    uses_timestamp_, uses_caption_, uses_followers_ : bool
        Which columns :meth:`fit` found and the features read.
    n_features_in_ : int
        Columns of ``X`` seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Their names.

    See Also
    --------
    spe.ImageFeatures : The features of the picture.
    spe.LikesRegressor : Takes both through its ``image_model``.

    Examples
    --------
    >>> import pandas as pd
    >>> from spe import PostFeatures
    >>> posts = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2024-03-01 18:00", "2024-03-03 21:30"], utc=True),
    ...     "caption": ["First one #hello", "Sunday 🌞 with @anna"],
    ... })
    >>> features = PostFeatures(timezone="Europe/Berlin").fit(posts)
    >>> table = features.set_output(transform="pandas").transform(posts)
    >>> table[["weekday", "days_since_previous", "hashtags", "mentions", "emoji"]]
       weekday  days_since_previous  hashtags  mentions  emoji
    0      4.0             2.145833       1.0       0.0    0.0
    1      6.0             2.145833       0.0       1.0    1.0
    """

    def __init__(
        self, timezone="UTC", missing="raise", timestamp="timestamp", caption="caption", followers="followers"
    ):
        self.timezone = timezone
        self.missing = missing
        self.timestamp = timestamp
        self.caption = caption
        self.followers = followers

    @staticmethod
    def _check_frame(X):
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "PostFeatures reads named columns (timestamp, caption, followers) of the posts "
                f"DataFrame the spe.datasets readers return; got {type(X).__name__}."
            )

    def _check_params(self):
        if self.missing not in ("raise", "skip"):
            raise ValueError(
                f"PostFeatures parameter 'missing' must be 'raise' or 'skip', got {self.missing!r}."
            )
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"PostFeatures parameter 'timezone' must be an IANA time zone name such as "
                f"'Europe/Berlin', got {self.timezone!r}."
            ) from None

    def fit(self, X, y=None):
        """Check the columns and remember the account's posting times.

        Parameters
        ----------
        X : DataFrame
            Posts, as the :mod:`spe.datasets` readers return them.
        y : None
            Ignored.

        Returns
        -------
        self : PostFeatures
        """
        self._check_frame(X)
        self._check_params()
        validate_data(self, X, skip_check_array=True)
        wanted = [c for c in (self.timestamp, self.caption) if c is not None]
        absent = [c for c in wanted if c not in X.columns]
        if absent and self.missing == "raise":
            raise ValueError(
                f"PostFeatures needs column(s) {absent}, which X does not have (columns: "
                f"{list(X.columns)}). The seed's folder format has no posting times or captions: "
                "read a CSV or an instaloader folder, or pass missing='skip' to compute only the "
                "rest (or timestamp=None / caption=None to leave them out)."
            )
        self.uses_timestamp_ = self.timestamp is not None and self.timestamp in X.columns
        self.uses_caption_ = self.caption is not None and self.caption in X.columns
        self.uses_followers_ = self.followers is not None and self.followers in X.columns
        names = (_TIME + _HISTORY if self.uses_timestamp_ else ()) + (_CAPTION if self.uses_caption_ else ())
        names += ("followers",) if self.uses_followers_ else ()
        if not names:
            looked_for = wanted + ([self.followers] if self.followers is not None else [])
            raise ValueError(
                f"PostFeatures has nothing to compute: X has none of the columns {looked_for} "
                f"(columns: {list(X.columns)})."
            )
        if absent:
            skipped = [
                n
                for c, group in ((self.timestamp, _TIME + _HISTORY), (self.caption, _CAPTION))
                if c in absent
                for n in group
            ]
            warnings.warn(
                f"PostFeatures: X has no column(s) {absent}; skipping {skipped}.", UserWarning, stacklevel=2
            )
        self.feature_names_out_ = np.array(names, dtype=object)
        times = self._times(X) if self.uses_timestamp_ else np.array([], dtype=np.int64)
        self.timestamps_ = np.unique(times)
        gaps = np.diff(self.timestamps_) / _DAY_NS
        self.median_gap_days_ = float(np.median(gaps)) if len(gaps) else 0.0
        return self

    def _column(self, X, name):
        if name not in X.columns:
            raise ValueError(
                f"PostFeatures was fitted with column {name!r}, which X does not have "
                f"(columns: {list(X.columns)})."
            )
        return X[name]

    def _times(self, X):
        """Posting times as int64 ns since the epoch, UTC."""
        column = self._column(X, self.timestamp)
        try:
            times = pd.to_datetime(column, utc=True, format="mixed")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"PostFeatures: column {self.timestamp!r} is not a date/time ({exc}).") from None
        if times.isna().any():
            row = times.index[times.isna().to_numpy()][0]
            raise ValueError(
                f"PostFeatures: column {self.timestamp!r} has no time for the post at row {row!r}."
            )
        return times.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()

    def _time_features(self, times, zone):
        local = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).tz_convert(zone)
        hour = local.hour + local.minute / 60 + local.second / 3600
        angle = 2 * np.pi * np.asarray(hour) / 24
        weekday = np.asarray(local.day_of_week, dtype=np.float64)
        return [np.sin(angle), np.cos(angle), weekday, (weekday >= 5).astype(np.float64)]

    def _history_features(self, times):
        history = np.union1d(self.timestamps_, times)
        before = np.searchsorted(history, times, side="left")  # posts strictly earlier
        previous = history[np.maximum(before - 1, 0)]
        gap = np.where(before > 0, (times - previous) / _DAY_NS, self.median_gap_days_)
        counts = [before - np.searchsorted(history, times - days * _DAY_NS, side="left") for days in (7, 30)]
        return [gap, *(c.astype(np.float64) for c in counts)]

    def transform(self, X):
        """Compute the features of each post.

        Parameters
        ----------
        X : DataFrame
            Posts with the columns seen in :meth:`fit`; other columns are
            ignored, so planned posts need only those.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        self._check_frame(X)
        zone = self._check_params()
        columns = []
        if self.uses_timestamp_:
            times = self._times(X)
            columns += self._time_features(times, zone) + self._history_features(times)
        if self.uses_caption_:
            counts = np.array([_caption_counts(c) for c in self._column(X, self.caption)], dtype=np.float64)
            columns += list(counts.reshape(len(X), len(_CAPTION)).T)
        if self.uses_followers_:
            followers = pd.to_numeric(self._column(X, self.followers), errors="coerce").to_numpy(np.float64)
            if not np.isfinite(followers).all():
                row = X.index[~np.isfinite(followers)][0]
                raise ValueError(
                    f"PostFeatures: column {self.followers!r} has no follower count at row {row!r}."
                )
            columns.append(followers)
        return np.column_stack(columns) if len(X) else np.empty((0, len(self.feature_names_out_)))

    def get_feature_names_out(self, input_features=None):
        """Names of the features, in column order.

        Parameters
        ----------
        input_features : None
            Ignored; the names do not depend on the input's.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
