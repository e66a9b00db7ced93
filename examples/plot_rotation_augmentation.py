"""
Rotation augmentation on and off
================================

The seed project proposed adding rotated copies of the training pictures.
``CNNLikesRegressor(rotations=(0, 90, 180, 270))`` does it inside ``fit``
only, so cross-validation folds never leak. Does it help on the sample data?
The same folds, with and without.
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.datasets import make_posts

posts = make_posts(120, directory=tempfile.mkdtemp(), image_size=(32, 32), random_state=0)
cv = KFold(3, shuffle=True, random_state=0)
scores = {}
for name, rotations in [("no augmentation", (0,)), ("4 rotations", (0, 90, 180, 270))]:
    pipe = Pipeline(
        [
            ("load", ImageLoader(size=(32, 32))),
            ("cnn", CNNLikesRegressor(epochs=15, learning_rate=1e-3, rotations=rotations, random_state=0)),
        ]
    )
    scores[name] = cross_val_score(pipe, posts.drop(columns="likes"), posts["likes"], cv=cv, scoring="r2")
    print(f"{name:16s} R^2 per fold {scores[name].round(3)}, mean {scores[name].mean():.3f}")

# %%
fig, ax = plt.subplots(layout="constrained")
ax.bar(list(scores), [s.mean() for s in scores.values()], yerr=[s.std() for s in scores.values()])
ax.set(ylabel="cross-validated R^2", title="Rotation augmentation")
plt.show()
