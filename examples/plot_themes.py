"""
What works on this account: picture themes
==========================================

"Which kinds of my pictures do well?" :func:`spe.inspection.picture_themes`
groups an account's pictures by what the offline EfficientNet-Lite0
backbone sees in them, names each group only by what it can say with
confidence (whether a face is there and how much of the picture it fills,
and the ImageNet classes the backbone is sure of), and measures each
group's effect honestly: every post's likes against the trend of the posts
before it, the group's posts against the account's other posts, with
intervals that hold together for all the groups at once.

The account here shows six scenes, whose generator gives the cat +0.5 and
the coffee -0.5 on log-likes (and the astronaut +0.3, the rocket -0.3,
the photographer +0.1, the coins -0.1).
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from spe.datasets import make_posts
from spe.inspection import picture_themes

posts, truth = make_posts(
    150,
    directory=tempfile.mkdtemp(),
    image_size=(224, 224),
    content="scenes",
    random_state=0,
    return_truth=True,
)
themes = picture_themes(None, posts)  # one backbone pass per picture, no network
print(themes)

# %%
# Each theme holds one scene; its name says what the backbone is confident
# of, and its effect has the sign of the scene's score where the interval
# excludes no effect. Below, each theme as a row of its pictures, with its
# effect and family-wise 90% interval.

rows = themes.themes
fig, axes = plt.subplots(
    len(rows), 5, figsize=(9, 1.9 * len(rows)), gridspec_kw={"width_ratios": [2.2, 1, 1, 1, 1]}
)
for ax_row, row in zip(axes, rows.itertuples()):
    ax_row[0].errorbar(
        [row.effect],
        [0],
        xerr=[[row.effect - row.low], [row.high - row.effect]],
        fmt="o",
        capsize=4,
        color="tab:green" if row.stands_out and row.effect > 0 else "tab:red" if row.stands_out else "grey",
    )
    ax_row[0].axvline(0, color="black", linewidth=0.8)
    ax_row[0].set(xlim=(-1, 3), yticks=[], title=f"{row.name or 'no confident name'}\n{row.n_posts} posts")
    ax_row[0].title.set_fontsize(8)
    for ax, member in zip(ax_row[1:], np.asarray(row.members)[:4]):
        ax.imshow(Image.open(posts["image"].iloc[member]))
    for ax in ax_row[1:]:
        ax.axis("off")
axes[-1, 0].set_xlabel("effect against the other posts")
fig.tight_layout()
plt.show()
