"""
A first likes pipeline
======================

Load pictures, fit the CNN and predict likes for posts it has not seen, with
a scikit-learn :class:`~sklearn.pipeline.Pipeline` of
:class:`~spe.ImageLoader` and :class:`~spe.CNNLikesRegressor`.
"""

# %%
# A synthetic account
# -------------------
# :func:`~spe.datasets.make_posts` writes pictures and a likes file in the seed
# project's folder format and reads them back, as
# :func:`~spe.datasets.load_folder` would read your own posts.
import tempfile

import matplotlib.pyplot as plt
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.datasets import make_posts
from spe.plotting import plot_loss_curve, plot_predicted_vs_actual

posts = make_posts(150, directory=tempfile.mkdtemp(), image_size=(32, 32), random_state=0)
posts.head()

# %%
# Fit on the older posts, predict the newer ones
# ----------------------------------------------
# The pipeline takes the DataFrame itself, less the ``likes`` it must predict:
# the loader reads its ``image`` column.
pipe = Pipeline(
    [
        ("load", ImageLoader(size=(32, 32))),
        ("cnn", CNNLikesRegressor(epochs=30, learning_rate=1e-3, validation_split=0.2, random_state=0)),
    ]
)
X, y = posts.drop(columns="likes"), posts["likes"]
pipe.fit(X.iloc[:120], y.iloc[:120])  # posts are oldest first
predicted = pipe.predict(X.iloc[120:])

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_loss_curve(pipe, ax=axes[0])
plot_predicted_vs_actual(y.iloc[120:], predicted, ax=axes[1])
plt.show()
