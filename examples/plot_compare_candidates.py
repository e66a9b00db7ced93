"""
Beating the recent average on a realistic account
=================================================

On real personal accounts likes drift with the account's growth, and the
picture matters less than when it was posted. ``make_posts(realistic=True)``
makes such an account. Here every candidate model is cross-validated in time
order beside the two baselines: a straight trend over posting order, the
seed's CNN on pixels, interpretable image features, embeddings from a
``keras.applications`` backbone, and :class:`~spe.LikesRegressor`, which
multiplies the recent average by what the picture's features add to it.
"""

import tempfile

import matplotlib.pyplot as plt

from spe.datasets import make_posts
from spe.evaluation import candidates, evaluate
from spe.plotting import plot_likes, plot_predicted_vs_actual

posts = make_posts(200, directory=tempfile.mkdtemp(), image_size=(32, 32), realistic=True, random_state=0)
plot_likes(posts)

# %%
# The embeddings use random backbone weights here (``embedding_weights=None``),
# since the docs build downloads nothing. By default ``candidates()`` uses
# ImageNet weights when Keras has them cached or can download them, and
# otherwise leaves the row out with a warning saying how to get them.
report = evaluate(candidates(size=32, epochs=20, embedding_weights=None), posts, cv="time")
print(report)

# %%
# Mean absolute error per model: lower is better. The dashed line is the
# recent average, the number a person already knows.
mae = report.scores["MAE"]
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.barh(mae.index, mae.to_numpy())
ax.axvline(mae["recent average (k=10)"], color="k", linestyle="--")
ax.invert_yaxis()
ax.set(xlabel="MAE (likes), time-ordered CV", title="Which model beats the recent average?")

# %%
plot_predicted_vs_actual(report, label="trend x picture")
plt.show()
