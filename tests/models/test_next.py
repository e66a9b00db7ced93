"""spe predict_next and the `spe fit` / `spe predict` pair: ranked candidates, how sure, why."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from spe import AutoTrendRegressor, ConformalLikesRegressor, LikesRegressor, PostFeatures, predict_next
from spe.cli import main
from spe.datasets import make_posts
from spe.exceptions import ImageLoadError
from spe.models._next import next_post_model, skill_note, what_was_chosen


@pytest.fixture(scope="module")
def timed_posts(account):
    """60 posts with times and captions, and a model that reads the posting time."""
    return account(60, 8)


def _time_model(posts):
    model = LikesRegressor(image_model=make_pipeline(PostFeatures(), Ridge()))
    return ConformalLikesRegressor(model).fit(posts.drop(columns="likes"), posts["likes"])


def test_a_trend_model_gives_every_picture_the_same_likes_and_says_so(posts):
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts.drop(columns="likes"), posts["likes"])
    images = list(posts["image"].iloc[[5, 2, 9]])
    table = predict_next(model, images, when="2030-01-01")
    assert table["image"].tolist() == images  # a tie keeps the order given
    assert np.ptp(table["predicted"]) == 0 and np.allclose(table["picture factor"], 1.0)
    assert (table["low"] <= table["predicted"]).all() and (table["predicted"] <= table["high"]).all()
    # As if posted next: the trend's prediction after the last training post.
    last = model.estimator_.predict(pd.DataFrame({"post_index": [posts["post_index"].max() + 1]}))
    assert table["predicted"].iloc[0] == pytest.approx(last[0])
    assert "every picture gets the same prediction" in table.attrs["skill"]
    assert table.attrs["skill"] == skill_note(model)
    assert list(table.index) == [1, 2, 3]
    one = predict_next(model, Path(images[0]), when="2030-01-01")  # a single path-like
    assert one["image"].tolist() == [images[0]]


def test_unreadable_pictures_are_all_named_and_none_is_ranked(posts, tmp_path):
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts.drop(columns="likes"), posts["likes"])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    missing = tmp_path / "missing.jpg"
    good = list(posts["image"].iloc[:2])
    with pytest.raises(ImageLoadError) as info:
        predict_next(model, [good[0], str(broken), good[1], str(missing)], when="2030-01-01")
    message = str(info.value)
    assert "2 of 4 pictures" in message and "broken.jpg" in message and "missing.jpg" in message
    assert "\n" not in message


def test_when_is_a_time_after_the_last_training_post(timed_posts):
    model = _time_model(timed_posts)
    image = timed_posts["image"].iloc[:1]
    with pytest.raises(ValueError, match="when='next tuesday' is not a date and time"):
        predict_next(model, image, when="next tuesday")
    last = pd.Timestamp(timed_posts["timestamp"].max())
    with pytest.raises(ValueError, match="not after the model's last training post"):
        predict_next(model, image, when=str(last - pd.Timedelta(days=1)))
    table = predict_next(model, image, when=str(last + pd.Timedelta(days=1)))
    assert pd.Timestamp(table.attrs["when"]) == (last + pd.Timedelta(days=1)).tz_convert("UTC")


def test_the_posting_time_changes_a_model_that_reads_it(timed_posts):
    model = _time_model(timed_posts)
    image = timed_posts["image"].iloc[:1]
    last = pd.Timestamp(timed_posts["timestamp"].max())
    morning = predict_next(model, image, when=str(last.normalize() + pd.Timedelta(days=2, hours=8)))
    evening = predict_next(model, image, when=str(last.normalize() + pd.Timedelta(days=2, hours=21)))
    assert morning["predicted"].iloc[0] != pytest.approx(evening["predicted"].iloc[0])


def test_the_planned_caption_reaches_a_model_that_reads_captions(timed_posts):
    model = _time_model(timed_posts)
    image, when = timed_posts["image"].iloc[:1], "2030-01-01 18:00"
    plain = predict_next(model, image, when=when)
    tagged = predict_next(model, image, when=when, caption="sunset #beach #summer #travel @friend 🌅")
    assert tagged["predicted"].iloc[0] != pytest.approx(plain["predicted"].iloc[0])
    # The same planned post, given as a table with its own caption column.
    table = pd.DataFrame({"image": image, "caption": ["sunset #beach #summer #travel @friend 🌅"]})
    assert predict_next(model, table, when=when)["predicted"].iloc[0] == tagged["predicted"].iloc[0]


def test_bad_arguments_name_the_parameter(posts):
    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts.drop(columns="likes"), posts["likes"])
    with pytest.raises(ValueError, match="images: no pictures"):
        predict_next(model, [])
    with pytest.raises(ValueError, match="reasons must be"):
        predict_next(model, posts["image"].iloc[:1], reasons=-1)
    with pytest.raises(ValueError, match="'auto'"):
        next_post_model("the best one")


# -- spe fit, then spe predict ------------------------------------------------------------


@pytest.fixture(scope="module")
def realistic_account(tmp_path_factory):
    """A realistic account as a CSV of its first 200 posts, and its next 40 posts held out."""
    folder = tmp_path_factory.mktemp("realistic")
    posts = make_posts(240, directory=folder / "images", image_size=(32, 32), realistic=True, random_state=0)
    posts.iloc[:200].to_csv(folder / "posts.csv", index=False)
    return folder, posts


def test_fit_then_predict_ranks_held_out_pictures(realistic_account, tmp_path, capsys):
    folder, posts = realistic_account
    model = tmp_path / "model"
    assert main(["--quiet", "fit", str(folder / "posts.csv"), "--size", "32", "--out", str(model)]) == 0
    printed = capsys.readouterr().out
    assert "Chose " in printed and "walking forward over" in printed
    scores = json.loads((model / "spe.json").read_text())["scores"]
    assert scores["asked"] == "auto" and scores["chosen"] in scores["candidate MAE"]

    held_out = posts.iloc[200:]
    when = str(pd.Timestamp(posts["timestamp"].iloc[199]) + pd.Timedelta(hours=1))
    out = tmp_path / "out"
    assert main(["predict", str(model), *held_out["image"], "--when", when, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("If posted next (")
    assert printed[1].split()[:3] == ["rank", "picture", "predicted"]
    assert "better than chance" in printed[-2] or "no measurable skill" in printed[-2]
    assert "% of pairs" in printed[-2]
    table = pd.read_csv(out / "predictions.csv", index_col="rank")
    assert sorted(table["image"]) == sorted(held_out["image"]) and table["predicted"].is_monotonic_decreasing
    assert ((table["low"] <= table["predicted"]) & (table["predicted"] <= table["high"])).all()
    assert (out / "report.html").read_text().count("<img") == 40

    # The picture factor against what each picture really did above or below its own trend.
    trend = AutoTrendRegressor().fit(posts.drop(columns="likes"), posts["likes"]).predict(posts)[200:]
    ratio = pd.Series(held_out["likes"].to_numpy() / trend, index=held_out["image"])
    rho = spearmanr(table["picture factor"], ratio[table["image"]].to_numpy()).statistic
    assert rho > 0.3, rho


def test_predict_keeps_actual_and_refuses_bad_input_writing_nothing(realistic_account, tmp_path, capsys):
    folder, posts = realistic_account
    model = tmp_path / "model"
    args = ["--quiet", "fit", str(folder / "posts.csv"), "--size", "16", "--model", "trend-x-picture"]
    assert main([*args, "--out", str(model)]) == 0
    capsys.readouterr()
    image = posts["image"].iloc[210]
    assert main(["predict", str(model), image, "--actual", "100", "--when", "2030-01-01"]) == 0
    printed = capsys.readouterr().out
    assert "actual" in printed.splitlines()[1] and "One picture's error proves nothing" in printed

    out = tmp_path / "out"
    for bad, message in [
        (["--when", "soon"], "when='soon' is not a date and time"),
        (["--when", "2020-01-01"], "not after the model's last training post"),
        ([str(folder / "posts.csv")], "1 of 2 pictures cannot be read"),
    ]:
        assert main(["predict", str(model), image, *bad, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not out.exists()

    meta = json.loads((model / "spe.json").read_text())
    meta["format_version"] = 99
    (model / "spe.json").write_text(json.dumps(meta))
    assert main(["predict", str(model), image]) == 1
    assert "Upgrade spe" in capsys.readouterr().err


def test_a_tampered_model_file_is_one_line_and_nothing_written(realistic_account, tmp_path, capsys):
    folder, posts = realistic_account
    model = tmp_path / "model"
    args = ["--quiet", "fit", str(folder / "posts.csv"), "--size", "16", "--model", "trend only"]
    assert main([*args, "--out", str(model)]) == 0
    data = bytearray((model / "model.skops").read_bytes())
    data[len(data) // 3] ^= 0xFF
    (model / "model.skops").write_bytes(bytes(data))
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["predict", str(model), posts["image"].iloc[210], "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("spe: error: ") and "model.skops" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_a_format_1_cnn_folder_still_predicts_and_says_what_it_lacks(posts, tmp_path, capsys):
    from sklearn.pipeline import Pipeline

    from spe import CNNLikesRegressor, ImageLoader
    from spe.persistence.old._format1 import save_format1

    cnn = CNNLikesRegressor(epochs=1, conv_filters=(4,), dense_units=8, random_state=0)
    pipe = Pipeline([("load", ImageLoader(size=(8, 8))), ("cnn", cnn)]).fit(posts, posts["likes"])
    save_format1(pipe, tmp_path / "old", data=posts)
    images = list(posts["image"].iloc[:2])
    assert main(["predict", str(tmp_path / "old"), *images]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[3] for line in lines[2:4]] == ["n/a", "n/a"]  # no interval, no trend
    assert "unknown" in lines[-1]
    expected = sorted(pipe.predict(images), reverse=True)
    assert [float(line.split()[2]) for line in lines[2:4]] == pytest.approx(np.round(expected), abs=0.51)


def test_when_now_is_this_moment_in_utc_whatever_the_time_zone(posts, monkeypatch):
    import time
    from datetime import datetime, timezone

    model = ConformalLikesRegressor(AutoTrendRegressor()).fit(posts.drop(columns="likes"), posts["likes"])
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: local time labelled UTC is 14 hours off
    time.tzset()
    try:
        assert time.localtime().tm_gmtoff == 14 * 3600  # the zone took effect
        for when in ("now", "today", None):
            table = predict_next(model, posts["image"].iloc[:1], when=when)
            off = pd.Timestamp(table.attrs["when"]) - pd.Timestamp(datetime.now(timezone.utc))
            assert abs(off) < pd.Timedelta(minutes=1), (when, off)
    finally:
        monkeypatch.undo()  # TZ as it was, then the C library told so
        time.tzset()


def test_pictures_are_ordered_by_their_factor_only_when_they_showed_skill(posts):
    from spe import ImageFeatures

    picture = LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge()))
    model = ConformalLikesRegressor(picture).fit(posts.drop(columns="likes"), posts["likes"])
    images = list(posts["image"].iloc[:6])
    model.picture_skill_ = (0.3, 0.1, 0.5)  # as measured walking forward
    table = predict_next(model, images, when="2030-01-01")
    assert table.attrs["ranked_by"] == "picture factor" and not table.attrs["tie"]
    assert table["picture factor"].is_monotonic_decreasing
    assert "better than chance" in table.attrs["skill"] and "65% of pairs" in table.attrs["skill"]
    model.picture_skill_ = (0.1, -0.05, 0.25)
    table = predict_next(model, images, when="2030-01-01")
    assert table.attrs["tie"] and "a tie" in table.attrs["skill"] and "55% of pairs" in table.attrs["skill"]
    chosen = what_was_chosen(model, "trend x picture")
    assert chosen["pairwise accuracy"] == pytest.approx([0.55, 0.475, 0.625])
    assert chosen["pictures ranked"] is False and chosen["skill"] == table.attrs["skill"]
    json.dumps(chosen)  # spe.json stays JSON


# -- issue 36: what the skill line says on a short walk, and beside a choice -------------------------


def _picture_model(posts, n):
    from spe import ImageFeatures

    picture = LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge()))
    return ConformalLikesRegressor(picture).fit(posts.drop(columns="likes")[:n], posts["likes"][:n])


def test_a_walk_too_short_for_a_skill_interval_says_what_it_takes_and_never_nan(posts):
    model = _picture_model(posts, 26)  # 20 posts walked: two stretches of 10, too few for an interval
    assert np.isfinite(model.picture_skill_[0]) and np.isnan(model.picture_skill_[1])
    note = skill_note(model)
    assert note.startswith("Too few posts to tell whether the pictures rank posts better than chance")
    assert "over 20 posts walked forward, and an interval takes 22, an account of 30 posts" in note
    assert "nan" not in note and note.endswith("the order of the pictures is a tie.")
    json.dumps(what_was_chosen(model), allow_nan=False)  # spe.json: null, never NaN


def test_no_skill_beside_a_model_chosen_for_its_likes_is_no_contradiction(posts):
    model = _picture_model(posts, 40)
    model.picture_skill_ = (0.1, -0.05, 0.25)  # ranks no better than chance
    walk = model.walk_
    walk["predicted"] = walk["actual"] + 0.5 * (walk["trend"] - walk["actual"])  # misses half the trend's
    note = skill_note(model)
    assert note.endswith("the order of the pictures is a tie.") and "trust" not in note
    walk["predicted"] = walk["actual"] + 2 * (walk["trend"] - walk["actual"])  # misses twice the trend's
    assert skill_note(model).endswith(
        "the order of the pictures is a tie, and the trend alone missed fewer likes walking forward "
        f"({np.mean(np.abs(walk['actual'] - walk['trend'])):.1f} a post, this model "
        f"{np.mean(np.abs(walk['actual'] - walk['predicted'])):.1f})."
    )
