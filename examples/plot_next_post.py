"""
Which picture next: ranked, with intervals and reasons
=======================================================

The question a person asks is "I have these pictures; if I post one next,
what will each get, how sure are you, and why?". :func:`spe.next_post_model`
builds what ``spe fit`` trains: the account's own model
(:class:`~spe.AutoLikesRegressor`, which keeps a picture model only where it
beats the trend walking forward) inside a
:class:`~spe.ConformalLikesRegressor`, whose 80% intervals come from how far
off the model was on the account's own posts. :func:`spe.predict_next` then
puts each candidate picture in the account's next slot.

We do it twice: on a realistic account, where the generator gives pictures
an effect, and on a null account (``pixel_effect=0``), where it gives none.
"""

import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from spe import next_post_model, predict_next
from spe.datasets import make_posts

tables = {}
for name, extra in [("realistic", {}), ("null (pixel_effect=0)", {"pixel_effect": 0})]:
    posts = make_posts(
        160, directory=tempfile.mkdtemp(), image_size=(32, 32), realistic=True, random_state=0, **extra
    )
    history, candidates = posts.iloc[:150], posts.iloc[150:]
    model = next_post_model(size=32).fit(history.drop(columns="likes"), history["likes"])
    print(f"{name}: the account's own model chose {model.estimator_.selected_!r}")
    when = history["timestamp"].iloc[-1] + pd.Timedelta(days=1)
    tables[name] = table = predict_next(model, candidates["image"], when=when)
    print(table.drop(columns="image").round(2).to_string())
    print(table.attrs["skill"], "\n")

# %%
# On the realistic account the pictures are ranked apart, each with the
# reasons that move it; on the null account the model is the trend, every
# picture gets the same prediction and the skill line says the order is a
# tie. The intervals are as wide as the account's own misses.

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (name, table) in zip(axes, tables.items()):
    ranks = table.index.to_numpy()
    ax.errorbar(
        ranks,
        table["predicted"],
        yerr=[table["predicted"] - table["low"], table["high"] - table["predicted"]],
        fmt="o",
        capsize=4,
        label="predicted, 80% interval",
    )
    ax.axhline(table["trend"].iloc[0], color="grey", linestyle="--", label="the trend alone")
    ax.set(title=name, xlabel="rank of the candidate picture", xticks=ranks)
axes[0].set_ylabel("likes if posted next")
axes[0].legend(loc="lower left")
fig.tight_layout()
plt.show()
