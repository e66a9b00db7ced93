"""
Tuning epochs and learning rate
===============================

A cross-validated grid search with :class:`~sklearn.model_selection.GridSearchCV`
over ``cnn__epochs`` and ``cnn__learning_rate``, in time order, with the
pipeline's ``memory`` so every fold's pictures are decoded once rather than
once per setting.
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.datasets import make_posts
from spe.plotting import plot_grid_heatmap

posts = make_posts(120, directory=tempfile.mkdtemp(), image_size=(32, 32), random_state=0)

pipe = Pipeline(
    [("load", ImageLoader(size=(32, 32))), ("cnn", CNNLikesRegressor(random_state=0))],
    memory=tempfile.mkdtemp(),
)
grid = GridSearchCV(
    pipe,
    {"cnn__epochs": [5, 20], "cnn__learning_rate": [1e-3, 1e-4]},
    cv=TimeSeriesSplit(3),
    scoring="neg_mean_squared_error",
)
grid.fit(posts.drop(columns="likes"), posts["likes"])  # the answer never goes in X
print("best settings:", grid.best_params_)
print(f"best RMSE: {(-grid.best_score_) ** 0.5:.1f} likes")

# %%
# Each cell is the mean test score over the folds (negative MSE: higher is better).
plot_grid_heatmap(grid.cv_results_)
plt.show()
