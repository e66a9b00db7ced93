"""
When and with which caption: the post's own features
=====================================================

An account read from a CSV file or an instaloader folder knows when each post
went up and its caption. :class:`~spe.PostFeatures` turns these into named
features known before posting: hour of day and weekday in the account's time
zone, days since the previous post, posts in the previous 7 and 30 days, and
the caption's words, hashtags, mentions and emoji.

Here ``make_posts(time_effect=0.3)`` makes an account whose evening posts get
more likes than its morning ones; we write it as a CSV file, read it back as
any account with timestamps and captions would be, and see whether the post's
features help predict the next posts.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from spe import PostFeatures
from spe.datasets import load_csv, make_posts
from spe.evaluation import candidates, evaluate

folder = Path(tempfile.mkdtemp())
made = make_posts(
    150, directory=folder / "images", image_size=(32, 32), realistic=True, time_effect=0.3, random_state=0
)
made[["image", "likes", "timestamp", "caption"]].to_csv(folder / "posts.csv", index=False)
posts = load_csv(folder / "posts.csv")
print(posts[["likes", "timestamp", "caption"]].head().to_string())

# %%
# The features of the last few posts. ``timezone`` is where the account
# lives; the synthetic account posts on UTC time.
features = PostFeatures(timezone="UTC").fit(posts).set_output(transform="pandas")
print(features.transform(posts).tail().round(2).to_string())

# %%
# Likes against the hour of posting: evening posts do better, on top of the
# account's growth and what is in the picture.
hour = posts["timestamp"].dt.hour + posts["timestamp"].dt.minute / 60
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.scatter(hour, posts["likes"], s=12)
ax.set(xlabel="hour of posting (UTC)", ylabel="likes", title="When the post went up")

# %%
# Time-ordered cross-validation: ``trend x picture + post`` is ``trend x
# picture`` whose ridge also sees the post's features; ``account's own model``
# keeps it only if it wins walking forward over each fold's training posts.
pool = candidates(size=32, cnn=False, embeddings=False, post_features=PostFeatures(timezone="UTC"))
report = evaluate(pool, posts, cv="time")
print(report)

# %%
mae = report.scores["MAE"]
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.barh(mae.index, mae.to_numpy())
ax.axvline(mae["recent average (k=10)"], color="k", linestyle="--")
ax.invert_yaxis()
ax.set(xlabel="MAE (likes), time-ordered CV", title="Does the post's timing and caption help?")
plt.show()
