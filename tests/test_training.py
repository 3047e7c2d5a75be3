"""Training: loss falls, same seed same run, divergence stops cleanly, early stopping, cancel, the mistakes."""
import math

import pytest
import torch

from core.errors import LabError
from core.training import (BatchRecord, DoneRecord, EpochRecord, TrainConfig, bucket_means, evaluate,
                           preset_configs, run_to_end, train)


SMALL = (512, 200)  # training / test digits of the small fixture (conftest)


def test_loss_falls(small):
    epochs, done = run_to_end(TrainConfig(epochs=3, train_size=512), small)
    assert done.reason == "finished" and len(epochs) == 3
    assert epochs[-1].train_loss < epochs[0].train_loss < math.log(10) + 0.1
    assert epochs[-1].test_acc > 0.3  # chance is 0.1
    assert not done.model.training


def test_same_seed_same_run_other_seed_differs(small):
    cfg = TrainConfig(epochs=1, train_size=256)
    a = [r.loss for r in train(cfg, small) if isinstance(r, BatchRecord)]
    b = [r.loss for r in train(cfg, small) if isinstance(r, BatchRecord)]
    c = [r.loss for r in train(cfg.but(seed=1), small) if isinstance(r, BatchRecord)]
    assert a == b and a != c


def test_records_in_order(small):
    recs = list(train(TrainConfig(epochs=2, train_size=128, batch_size=64), small, snapshots=False))
    kinds = [type(r).__name__ for r in recs]
    assert kinds == ["BatchRecord"] * 2 + ["EpochRecord"] + ["BatchRecord"] * 2 + ["EpochRecord", "DoneRecord"]
    assert [r.step for r in recs if isinstance(r, BatchRecord)] == [1, 2, 3, 4]


def test_snapshots_before_training_early_in_epoch_one_and_after_every_epoch(small):
    """512 digits in batches of 64: 8 batches an epoch, snapshots after 1 and 4 of them, then at each epoch's end;
    the last one holds the final model's numbers on the watched digit."""
    from core.data import to_model_input
    from core.snapshots import Snapshot, pick_digit

    data = small
    recs = list(train(TrainConfig(epochs=3, train_size=512, batch_size=64, seed=4), data))
    snaps = [r for r in recs if isinstance(r, Snapshot)]
    assert [(s.epoch, s.batch) for s in snaps] == [(0, 0), (1, 1), (1, 4), (1, 8), (2, 8), (3, 8)]
    kinds = [type(r).__name__ for r in recs]
    assert kinds[0] == "Snapshot" and kinds[kinds.index("EpochRecord") - 1] == "Snapshot"
    assert kinds[1:3] == ["BatchRecord", "Snapshot"]  # right after the first step
    i = pick_digit(data.test_images, data.test_labels)
    with torch.no_grad():
        probs = torch.softmax(recs[-1].model(to_model_input(data.test_images[i : i + 1]))[0], 0)
    torch.testing.assert_close(snaps[-1].probs.float(), probs, atol=1e-3, rtol=0)
    assert not torch.equal(snaps[0].filters, snaps[-1].filters)  # it learned


def test_snapshots_do_not_change_the_run(small):
    cfg = TrainConfig(epochs=2, train_size=256, dropout=0.5, seed=3)
    with_, without = (list(train(cfg, small, snapshots=s)) for s in (True, False))
    strip = lambda recs: [(type(r).__name__, getattr(r, "loss", None), getattr(r, "test_loss", None))  # noqa: E731
                          for r in recs if not isinstance(r, DoneRecord) and type(r).__name__ != "Snapshot"]
    assert strip(with_) == strip(without)
    for a, b in zip(with_[-1].model.parameters(), without[-1].model.parameters()):
        assert torch.equal(a, b)


def test_time_left_never_goes_up_and_follows_the_pace():
    from core.training import time_left

    assert time_left(None, 0.0, 0, 100) is None and time_left(None, 1.0, 0, 100) is None
    assert time_left(None, 1.0, 10, 100) == pytest.approx(9.0)  # 0.1 s a step, 90 steps left
    assert time_left(9.0, 5.0, 20, 100) == 9.0  # slowed down (20 s left at this pace): it waits, never goes up
    assert time_left(9.0, 2.0, 40, 100) == pytest.approx(9.0 + 0.2 * (3.0 - 9.0))  # faster: moves towards 3 s
    shown, previous, elapsed = [], None, 0.0
    for step in range(1, 101):  # steady steps, with a slow test pass after every 20 (an epoch's end)
        elapsed += 0.01 + (0.5 if step % 20 == 1 and step > 1 else 0.0)
        previous = time_left(previous, elapsed, step, 100)
        shown.append(previous)
    assert all(b <= a for a, b in zip(shown, shown[1:]))  # never backwards
    assert shown[-1] < 0.2 * shown[0]


def test_label_fields_and_what_differs():
    from core.training import differing_fields, label_fields

    assert label_fields(TrainConfig()) == {"activation": "relu", "optimizer": "adam", "lr": 1e-3}
    assert label_fields(TrainConfig(epochs=3, conv1_channels=2)) == {
        "activation": "relu", "optimizer": "adam", "lr": 1e-3, "epochs": 3, "conv1_channels": 2}
    assert TrainConfig(conv1_channels=2, kernel_size=3).run_label == \
        "relu · adam lr=0.001 · conv1_channels=2 · kernel_size=3"
    base = TrainConfig(epochs=4)
    assert differing_fields(preset_configs(base, "activation")) == ("activation",)
    assert differing_fields(preset_configs(base, "optimizer")) == ("optimizer", "lr")
    assert differing_fields(preset_configs(base, "grid")) == ("activation", "optimizer", "lr")
    assert differing_fields([base, base.but(seed=2)]) == ("seed",)
    assert differing_fields([base]) == () and differing_fields([base.but(momentum=0.5), base]) == ()  # Adam: unused


def test_architecture_fields_build_that_network(small):
    cfg = TrainConfig(epochs=1, train_size=128, conv1_channels=2, conv2_channels=4, kernel_size=3, fc1_units=20,
                      fc2_units=10, conv1_padding=1)
    assert cfg.lenet.conv1_channels == 2 and cfg.lenet.kernel_size == 3
    _, done = run_to_end(cfg, small)
    assert done.model.conv1.weight.shape == (2, 1, 3, 3) and done.model.fc2.weight.shape == (10, 20)
    with pytest.raises(LabError) as info:
        TrainConfig(kernel_size=4)
    assert info.value.code == "lenet.bad_kernel"
    with pytest.raises(LabError) as info:
        TrainConfig(conv1_channels=0)
    assert info.value.code == "lenet.out_of_range"


def test_divergence_stops_and_keeps_finite_weights(small):
    epochs, done = run_to_end(TrainConfig(optimizer="sgd", lr=1e6, epochs=3, train_size=256), small)
    assert done.reason == "diverged" and done.diverged_step is not None
    assert all(torch.isfinite(p).all() for p in done.model.parameters())


@pytest.mark.parametrize("bad", [dict(lr=float("nan")), dict(lr=-1.0), dict(lr=0.0), dict(momentum=1.5),
                                 dict(batch_size=0), dict(optimizer="lbfgs"), dict(activation="nope")])
def test_bad_config_rejected(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_bad_lr_has_code():
    with pytest.raises(LabError) as info:
        TrainConfig(lr=float("inf"))
    assert info.value.code == "train.bad_lr"


def test_cancel_stops_at_next_batch(small):
    seen = []
    recs = list(train(TrainConfig(epochs=5, train_size=512), small, should_stop=lambda: len(seen) >= 3 or seen.append(1)))
    assert isinstance(recs[-1], DoneRecord) and recs[-1].reason == "cancelled"
    assert sum(isinstance(r, BatchRecord) for r in recs) == 3


def test_early_stopping_restores_best(small):
    """64 digits are memorised within a few epochs, after which the test loss can only rise: it must stop early."""
    cfg = TrainConfig(optimizer="adam", lr=1e-2, epochs=40, train_size=64, batch_size=16, patience=3, seed=0)
    epochs, done = run_to_end(cfg, small)
    assert done.reason == "early_stop" and done.best_epoch < done.epochs_run < cfg.epochs
    assert done.epochs_run - done.best_epoch == cfg.patience and len(epochs) == done.epochs_run
    best = epochs[done.best_epoch - 1]
    assert best.best and best.test_loss == min(e.test_loss for e in epochs)
    assert epochs[-1].test_loss > best.test_loss  # the last weights are worse than the ones kept
    from core.data import to_model_input
    loss, acc, _ = evaluate(done.model, to_model_input(small.test_images), small.test_labels)
    assert loss == pytest.approx(best.test_loss, rel=1e-5) and acc == pytest.approx(best.test_acc)  # best restored


def test_normalized_merges_runs_that_train_identically(small):
    n = len(small.train_labels)
    adam = TrainConfig(epochs=1, train_size=256)
    assert adam.normalized(n) == adam  # the defaults are canonical: existing checkpoint names stay valid
    assert adam.but(momentum=0.5).normalized(n) == adam  # momentum is SGD's only
    sgd = adam.but(optimizer="sgd", lr=0.01)
    assert sgd.but(momentum=0.5).normalized(n).momentum == 0.5
    assert TrainConfig(train_size=4000).normalized(n).train_size == n  # clamped as train() clamps it
    assert TrainConfig(train_size=100, batch_size=512).normalized(n).batch_size == 100
    assert TrainConfig(epochs=3, patience=3).normalized(n).patience == 0  # can never stop early
    assert TrainConfig(epochs=4, patience=3).normalized(n).patience == 3
    for cfg in (adam.but(momentum=0.5, train_size=10_000), TrainConfig(epochs=2, patience=5, batch_size=999)):
        losses = [[r.loss for r in train(c, small) if isinstance(r, BatchRecord)] for c in (cfg, cfg.normalized(n))]
        assert losses[0] == losses[1]  # the very same training
    assert adam.but(momentum=0.5).normalized(n).normalized(n) == adam.normalized(n)


@pytest.mark.parametrize("mistake", ["no_zero_grad", "optimizer_in_loop", "softmax_before_loss"])
def test_mistakes_change_the_run(small, mistake):
    cfg = TrainConfig(optimizer="sgd", lr=0.05, epochs=1, train_size=256)
    good = [r.loss for r in train(cfg, small) if isinstance(r, BatchRecord)]
    bad = [r.loss for r in train(cfg.but(mistake=mistake), small) if isinstance(r, BatchRecord)]
    assert good[0] == pytest.approx(bad[0]) if mistake != "softmax_before_loss" else True
    assert good != bad


def test_no_eval_makes_test_metrics_noisy(small):
    cfg = TrainConfig(epochs=1, train_size=256, dropout=0.5)
    e1, _ = run_to_end(cfg, small)
    e2, _ = run_to_end(cfg.but(mistake="no_eval"), small)
    assert e1[0].train_loss == pytest.approx(e2[0].train_loss)
    assert e1[0].test_loss != pytest.approx(e2[0].test_loss)


def test_presets_differ_in_one_thing_only():
    base = TrainConfig(epochs=3, seed=7, train_size=500)
    act = preset_configs(base, "activation")
    assert [c.activation for c in act] == ["tanh", "relu"] and act[0].but(activation="relu") == act[1]
    opt = preset_configs(base, "optimizer")
    assert [(c.optimizer, c.lr) for c in opt] == [("sgd", 0.01), ("adam", 0.001)] and opt[0].momentum == 0.9
    grid = preset_configs(base, "grid")
    assert len(set(grid)) == 4 and all(c.seed == 7 and c.epochs == 3 and c.train_size == 500 for c in grid)
    with pytest.raises(LabError):
        preset_configs(base, "nope")


def test_risky_learning_rate_flag():
    assert not TrainConfig(optimizer="adam", lr=1e-3).lr_is_risky
    assert TrainConfig(optimizer="adam", lr=0.5).lr_is_risky
    assert not TrainConfig(optimizer="sgd", lr=0.1).lr_is_risky
    assert TrainConfig(optimizer="sgd", lr=10.0).lr_is_risky


@pytest.mark.parametrize("bad", [dict(dataset="cifar"), dict(mistake="typo"), dict(weight_decay=-1.0),
                                 dict(epochs=0), dict(patience=-1)])
def test_bad_fields_have_codes(bad):
    with pytest.raises(LabError) as info:
        TrainConfig(**bad)
    assert info.value.code.startswith("train.")


def test_divergence_record_and_restored_weights_give_finite_loss(small):
    cfg = TrainConfig(optimizer="sgd", lr=1e6, momentum=0.9, epochs=2, train_size=256)
    recs = list(train(cfg, small))
    done = recs[-1]
    assert isinstance(done, DoneRecord) and done.reason == "diverged"
    steps = [r for r in recs if isinstance(r, BatchRecord)]
    assert done.diverged_step == len(steps) + 1  # the step whose loss was not finite is not reported as a batch
    assert all(math.isfinite(r.loss) for r in steps)
    from core.data import to_model_input
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(done.model(to_model_input(small.train_images[:64])),
                                                 small.train_labels[:64])
    assert math.isfinite(loss.item())


def test_bucket_means_keeps_short_curves_and_averages_long_ones():
    assert bucket_means([3.0, 1.0], 5) == ([1.0, 2.0], [3.0, 1.0])
    steps, means = bucket_means([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 3)
    assert steps == [3.0, 6.0, 7.0] and means == pytest.approx([2.0, 5.0, 7.0])
    values = [float(i % 17) for i in range(1000)]
    steps, means = bucket_means(values, 300)
    assert len(means) <= 300 and steps[-1] == 1000.0
    assert sum(m * (s - p) for m, s, p in zip(means, steps, [0.0] + steps[:-1])) == pytest.approx(sum(values))


def test_labels_are_short_and_distinct():
    assert TrainConfig().run_label == "relu · adam lr=0.001"
    assert TrainConfig(optimizer="sgd", lr=0.01, momentum=0.5, epochs=3).run_label == \
        "relu · sgd lr=0.01 · momentum=0.5 · epochs=3"
    assert TrainConfig(seed=2, dataset="mnist", momentum=0.5).run_label == "relu · adam lr=0.001 · seed=2 · dataset=mnist"
    assert TrainConfig(normalize=False, dropout=0.25).run_label == "relu · adam lr=0.001 · normalize=False · dropout=0.25"
