"""
The seed project's workflow, and the cross-validated view
=========================================================

The student project trained on 64x64 pictures with an 80/20 split, plotted
the loss curves and showed one demo picture ("predicted 103.7 likes,
actual 96"). Here is that workflow on the sample data, then the same network
cross-validated in time order against the baselines: the honest answer to
"how well can likes be predicted".
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.datasets import make_posts
from spe.evaluation import evaluate
from spe.plotting import plot_loss_curve

posts = make_posts(185, directory=tempfile.mkdtemp(), random_state=1)  # 64x64, like the seed
split = int(0.8 * len(posts))  # posts are oldest first: train on the earlier 80%
X, y = posts.drop(columns="likes"), posts["likes"]  # the answer never goes in X

pipe = Pipeline(
    [
        ("load", ImageLoader(size=(64, 64), crop="none")),  # the seed squashed pictures
        ("cnn", CNNLikesRegressor(epochs=30, validation_split=0.2, random_state=0)),
    ]
)
pipe.fit(X.iloc[:split], y.iloc[:split])
plot_loss_curve(pipe)

# %%
# One demo picture
# ----------------
predicted, actual = pipe.predict(X.iloc[[split]])[0], y.iloc[split]
print(f"predicted {predicted:.1f} likes, actual {actual} ({(predicted - actual) / actual:+.0%})")

# %%
# That is one picture. Across the whole held-out 20%:
errors = (pipe.predict(X.iloc[split:]) - y.iloc[split:]).abs()
print(f"median error on {len(errors)} held-out posts: {errors.median():.1f} likes")

# %%
# The cross-validated view
# ------------------------
report = evaluate(pipe.set_params(cnn__validation_split=0.0), posts, n_splits=3, model_name="seed CNN")
print(report)
plt.show()
