import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_regressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe._keras._backend import keras
from spe.datasets import make_posts

TINY = dict(epochs=2, batch_size=8, conv_filters=(4, 8), dense_units=8, random_state=0)


@pytest.fixture(scope="module")
def Xy(posts):
    return ImageLoader(size=(8, 8)).transform(posts["image"]), posts["likes"].to_numpy()


def tiny_pipeline(**cnn):
    return Pipeline([("load", ImageLoader(size=(8, 8))), ("cnn", CNNLikesRegressor(**{**TINY, **cnn}))])


def test_seed_network_has_the_seed_parameter_count():
    X = np.zeros((2, 64, 64, 3), dtype=np.float32)
    reg = CNNLikesRegressor().initialize(X, np.array([1.0, 2.0]))
    assert reg.model_.count_params() == 1_625_281
    kinds = [type(layer).__name__ for layer in reg.model_.layers]
    assert kinds == [
        "InputLayer",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
    ]


def test_is_a_regressor():
    assert is_regressor(CNNLikesRegressor())
    assert is_regressor(tiny_pipeline())


def test_fit_predict_and_history(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY, validation_split=0.25)
    assert reg.fit(X, y) is reg
    pred = reg.predict(X)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()
    assert set(reg.history_) == {"loss", "val_loss"}
    assert len(reg.history_["loss"]) == 2


@pytest.mark.slow
def test_target_is_scaled_and_unscaled(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY).fit(X, y)
    # Predictions come back in likes, near the mean, not near zero.
    assert abs(reg.predict(X).mean() - y.mean()) < 2 * y.std()
    assert reg.target_encoder_.mean_ == pytest.approx(y.mean())
    raw = CNNLikesRegressor(**TINY, scale_target=False).fit(X, y)
    assert raw.target_encoder_.scale_ == 1.0


def test_composes_with_log_target(Xy):
    X, y = Xy
    model = TransformedTargetRegressor(CNNLikesRegressor(**TINY), func=np.log1p, inverse_func=np.expm1)
    pred = model.fit(X, y).predict(X)
    assert pred.shape == y.shape and (pred > 0).all()


def test_named_and_routed_learning_rate(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY, learning_rate=0.005).fit(X, y)
    assert float(reg.model_.optimizer.learning_rate) == pytest.approx(0.005)
    routed = CNNLikesRegressor(**TINY, learning_rate=0.005, optimizer__learning_rate=0.02).fit(X, y)
    assert float(routed.model_.optimizer.learning_rate) == pytest.approx(0.02)
    assert "optimizer__learning_rate" in routed.get_params()


def test_an_optimizer_instance_keeps_its_own_rate(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY, optimizer=keras.optimizers.Adam(learning_rate=3e-3)).fit(X, y)
    assert float(reg.model_.optimizer.learning_rate) == pytest.approx(3e-3)  # not the default 1e-4
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.5)
    reg = CNNLikesRegressor(**TINY, optimizer=keras.optimizers.SGD(learning_rate=schedule)).fit(X, y)
    assert isinstance(reg.model_.optimizer._learning_rate, keras.optimizers.schedules.ExponentialDecay)
    named = CNNLikesRegressor(**TINY, optimizer="sgd", learning_rate=0.007).fit(X, y)
    assert float(named.model_.optimizer.learning_rate) == pytest.approx(0.007)


@pytest.mark.slow
def test_a_continued_fit_goes_on_with_the_next_shuffle_orders(Xy):
    X, y = Xy
    params = {**TINY, "dropout": 0.0, "epochs": 3}
    whole = CNNLikesRegressor(**params).fit(X, y)
    for dtype in ("float32", "uint8"):
        Xd = X if dtype == "float32" else (X * 255).round().astype("uint8")
        ref = whole if dtype == "float32" else CNNLikesRegressor(**params).fit(Xd, y)
        part = CNNLikesRegressor(**{**params, "epochs": 1}).fit(Xd, y)
        part.set_params(warm_start=True, epochs=2).fit(Xd, y, initial_epoch=1)
        np.testing.assert_allclose(part.predict(Xd), ref.predict(Xd), rtol=1e-5)


def _steps(reg):
    return int(reg.model_.optimizer.iterations)


def test_rotation_augmentation_multiplies_training_data_only(Xy):
    X, y = Xy[0][:20], Xy[1][:20]
    plain = CNNLikesRegressor(**{**TINY, "batch_size": 10}).fit(X, y)
    rotated = CNNLikesRegressor(**{**TINY, "batch_size": 10}, rotations=(0, 90, 180, 270)).fit(X, y)
    assert _steps(plain) == 2 * 2  # 2 epochs of 20 / 10
    assert _steps(rotated) == 2 * 8  # 80 augmented samples
    assert rotated.predict(X).shape == (20,)  # predict never augments
    # The validation part (last 25%) is held out before augmenting.
    held = CNNLikesRegressor(**{**TINY, "batch_size": 10}, rotations=(0, 180), validation_split=0.25).fit(
        X, y
    )
    assert _steps(held) == 2 * 3  # 15 training images x 2 angles = 30


def test_tta_averages_over_rotations(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY, rotations=(0, 180)).fit(X, y)
    p0, p180 = reg.predict(X), reg.predict(np.rot90(X, 2, axes=(1, 2)))
    reg.set_params(tta=True)
    np.testing.assert_allclose(reg.predict(X), (p0 + p180) / 2, rtol=1e-5)


def test_rotations_of_90_need_square_images(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match="square images"):
        CNNLikesRegressor(**TINY, rotations=(0, 90)).fit(X[:, :, :6], y)


def test_early_stopping_stops(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**{**TINY, "epochs": 200}, learning_rate=0.5, early_stopping=2).fit(X, y)
    assert len(reg.history_["loss"]) < 200


def test_batch_larger_than_data_is_one_step(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**{**TINY, "batch_size": 1000}).fit(X[:5], y[:5])
    assert _steps(reg) == 2


def test_same_seed_same_predictions_and_unseeded_fit_still_works(Xy):
    X, y = Xy
    a = CNNLikesRegressor(**TINY).fit(X, y).predict(X)
    b = CNNLikesRegressor(**TINY).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    # scikeras alone leaves TF's op determinism on here and the next
    # unseeded fit crashes.
    CNNLikesRegressor(**{**TINY, "random_state": None}).fit(X, y)
    state = np.random.get_state()[1].copy()
    CNNLikesRegressor(**TINY).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched


def test_pickle_and_joblib_round_trip_a_fitted_pipeline(posts, tmp_path):
    pipe = tiny_pipeline().fit(posts["image"], posts["likes"])
    expected = pipe.predict(posts["image"])
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict(posts["image"]), expected)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "pipe.joblib").predict(posts["image"]), expected)


@pytest.mark.slow
def test_grid_search_over_epochs_and_learning_rate(posts, tmp_path):
    grid = GridSearchCV(
        tiny_pipeline(),
        {"cnn__epochs": [1, 3], "cnn__learning_rate": [1e-2, 1e-3]},
        cv=KFold(2),
        scoring="neg_mean_squared_error",
    )
    grid.fit(posts["image"], posts["likes"])
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["cnn__epochs"] in (1, 3)
    assert np.all(grid.cv_results_["mean_test_score"] < 0)
    assert grid.predict(posts["image"][:3]).shape == (3,)


@pytest.mark.slow
def test_successive_halving_with_epochs_as_the_resource(posts):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(
        tiny_pipeline(),
        {"cnn__learning_rate": [1e-2, 1e-3, 1e-4]},
        resource="cnn__epochs",
        min_resources=1,
        max_resources=3,
        factor=3,
        cv=KFold(2),
        scoring="neg_mean_squared_error",
    ).fit(posts["image"], posts["likes"])
    assert search.n_resources_ == [1, 3]
    assert search.n_candidates_ == [3, 1]
    assert search.best_params_["cnn__epochs"] == 3
    assert len(search.best_estimator_.named_steps["cnn"].history_["loss"]) == 3


@pytest.mark.slow
def test_grid_search_in_two_processes(posts):
    grid = GridSearchCV(tiny_pipeline(), {"cnn__learning_rate": [1e-2, 1e-3]}, cv=KFold(2), n_jobs=2)
    grid.fit(posts["image"], posts["likes"])
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


def test_cross_validate_cross_val_predict_and_clone(posts):
    pipe = tiny_pipeline()
    scores = cross_validate(
        pipe, posts["image"], posts["likes"], cv=KFold(2), scoring="neg_mean_squared_error"
    )
    assert scores["test_score"].shape == (2,)
    pred = cross_val_predict(pipe, posts["image"], posts["likes"], cv=KFold(2))
    assert pred.shape == (len(posts),)
    assert clone(pipe).get_params()["cnn__conv_filters"] == (4, 8)


@pytest.mark.slow
def test_pipeline_memory_decodes_images_once_per_fold(posts, tmp_path, count_decodes):
    pipe = tiny_pipeline(epochs=1)
    pipe.set_params(memory=str(tmp_path / "cache"))
    grid = GridSearchCV(pipe, {"cnn__learning_rate": [1e-2, 1e-3, 1e-4]}, cv=KFold(2), refit=False)
    grid.fit(posts["image"], posts["likes"])
    n = len(posts)
    # Training images: once per fold (2 x 20), not once per candidate (6 x 20).
    # Test images are decoded at every score, which Pipeline does not cache.
    train_decodes = sum(count_decodes) - 3 * n
    assert train_decodes == n


@pytest.mark.slow
def test_default_pipeline_learns_the_sample_data(tmp_path):
    # The real defaults: 64x64 images, the seed network, 50 epochs, on one held-out quarter (3
    # folds took 3 minutes of the suite; the split's R^2 was 0.60, another seed's 0.48).
    posts = make_posts(200, directory=tmp_path, random_state=0)
    X = ImageLoader().transform(posts["image"])
    y = posts["likes"].to_numpy()
    cv = ShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
    cnn = cross_val_score(CNNLikesRegressor(random_state=0), X, y, cv=cv, scoring="r2")
    dummy = cross_val_score(DummyRegressor(), X, y, cv=cv, scoring="r2")
    print(f"held-out R^2: CNN {cnn.mean():.3f}, mean-guess {dummy.mean():.3f}")
    assert cnn.mean() > 0.3
    assert cnn.mean() > dummy.mean() + 0.3


# -- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"epochs": -1}, "epochs"),
        ({"epochs": 0}, "epochs"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"dropout": 1.0}, "dropout"),
        ({"batch_size": 0}, "batch_size"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"rotations": (45,)}, "rotations"),
        ({"rotations": ()}, "rotations"),
        ({"conv_filters": (0,)}, "conv_filters"),
        ({"early_stopping": -3}, "early_stopping"),
    ],
)
def test_parameters_out_of_range_are_named(Xy, params, name):
    X, y = Xy
    with pytest.raises(ValueError, match=name):
        CNNLikesRegressor(**{**TINY, **params}).fit(X, y)


def test_bad_input_is_a_clear_error(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match="5-D"):
        CNNLikesRegressor(**TINY).fit(X[..., np.newaxis], y)
    with pytest.raises(ValueError, match="1-D input"):
        CNNLikesRegressor(**TINY).fit(X[:, 0, 0, 0], y)
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        CNNLikesRegressor(**TINY).fit(X, y_nan)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CNNLikesRegressor(**TINY).fit(X, y[:-1])
    with pytest.raises(ValueError, match="n_samples=1"):
        CNNLikesRegressor(**TINY).fit(X[:1], y[:1])
    with pytest.raises(NotFittedError):
        CNNLikesRegressor(**TINY).predict(X)


def test_predicting_on_another_image_size_is_refused(Xy):
    X, y = Xy
    reg = CNNLikesRegressor(**TINY).fit(X, y)
    small = X[:, :6, :6]
    with pytest.raises(ValueError, match="same ImageLoader size"):
        reg.predict(np.ascontiguousarray(small))


def test_model_code_uses_the_configured_backend():
    assert keras.backend.backend() in ("tensorflow", "jax", "torch")


@pytest.mark.parametrize(
    "params",
    [{}, {"rotations": (0, 90, 180, 270), "tta": True, "validation_split": 0.25}],
    ids=["plain", "rotations-tta-validation"],
)
def test_uint8_images_train_the_same_network_as_floats(posts, params):
    # Unshuffled, both feeding paths give the same batches in the same order.
    params = {**params, "shuffle": False}
    X8 = ImageLoader(size=(8, 8), dtype="uint8").transform(posts["image"])
    y = posts["likes"].to_numpy()
    on_uint8 = CNNLikesRegressor(**TINY, **params).fit(X8, y)
    on_float = CNNLikesRegressor(**TINY, **params).fit(X8.astype(np.float32) / np.float32(255), y)
    np.testing.assert_allclose(on_uint8.history_["loss"], on_float.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(on_uint8.predict(X8), on_float.predict(X8), rtol=1e-5)
    # Either kind of input predicts the same on either model: uint8 is divided by 255.
    np.testing.assert_allclose(on_uint8.predict(X8 / np.float32(255)), on_uint8.predict(X8), rtol=1e-5)


def test_large_uint8_predictions_are_made_in_chunks(Xy, monkeypatch):
    import spe.models._cnn

    X8 = (Xy[0] * 255).round().astype(np.uint8)
    reg = CNNLikesRegressor(**TINY).fit(X8, Xy[1])
    whole = reg.predict(X8)
    monkeypatch.setattr(spe.models._cnn, "_PREDICT_CHUNK", 7)  # 40 images: 6 chunks
    # Equal up to float rounding: a batch of another size may sum in another order.
    np.testing.assert_allclose(reg.predict(X8), whole, rtol=1e-6)


@pytest.mark.slow
def test_a_uint8_memory_map_is_never_converted_whole(tmp_path, monkeypatch):
    import tracemalloc

    import spe.models._cnn

    rng = np.random.RandomState(0)
    n, side = 2000, 32  # the images outweigh what tracing the network costs
    np.save(tmp_path / "x.npy", (rng.rand(n, side, side, 3) * 255).astype(np.uint8))
    X = np.load(tmp_path / "x.npy", mmap_mode="r")
    y = rng.rand(n) * 100
    float_bytes = n * side * side * 3 * 4  # what one float32 copy of the images takes
    reg = CNNLikesRegressor(**{**TINY, "epochs": 1, "batch_size": 32}, rotations=(0, 180))
    monkeypatch.setattr(spe.models._cnn, "_PREDICT_CHUNK", 100)
    peaks = []
    for step in (lambda: reg.fit(X, y), lambda: reg.predict(X)):
        tracemalloc.start()  # NumPy reports its allocations to tracemalloc
        try:
            step()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert max(peaks) < float_bytes / 2, f"peaks {peaks} bytes, one float copy is {float_bytes}"
