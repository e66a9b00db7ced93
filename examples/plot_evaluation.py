"""
Evaluating honestly: the model against your recent average
==========================================================

One picture's error proves nothing. :func:`spe.evaluation.evaluate`
cross-validates the model and two baselines on the same folds: always
guessing the mean, and the recent average of the ten posts before each post,
the number a person already has in their head. Folds are time-ordered by
default: train on earlier posts, test on later ones.
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.datasets import make_posts
from spe.evaluation import evaluate
from spe.plotting import plot_likes, plot_predicted_vs_actual

posts = make_posts(150, directory=tempfile.mkdtemp(), image_size=(32, 32), random_state=0)
plot_likes(posts)

# %%
pipe = Pipeline(
    [
        ("load", ImageLoader(size=(32, 32))),
        ("cnn", CNNLikesRegressor(epochs=20, learning_rate=1e-3, random_state=0)),
    ]
)
# ``evaluate`` gives the models the posts without their ``likes`` column, and
# checks that the posts are oldest first before splitting by row order.
report = evaluate(pipe, posts, cv="time", n_splits=4, model_name="CNN")
print(report)

# %%
# The out-of-fold predictions against the truth. Points on the dashed line
# are perfect predictions.
plot_predicted_vs_actual(report, label="CNN")
plt.show()
