"""Design your own LeNet: the layer table against the built model and torch's FLOP counter, the refusals, the presets,
and the run keys of existing checkpoints, which must not change."""
import itertools
from dataclasses import field, make_dataclass

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import core.checkpoint as checkpoint
from core.checkpoint import Checkpoint, load_checkpoint, run_key, save_checkpoint
from core.errors import LabError
from core.i18n import LANGUAGES, load_catalog, translate
from core.lenet import (ARCH_PRESETS, CLASSIC_SIZES, KERNEL_SIZES, LAYER_NAMES, LeNetConfig, apply_preset,
                        build_lenet, count_parameters, layer_plan)
from core.training import TrainConfig

CONFIGS = [LeNetConfig(), LeNetConfig("relu", "avg", kernel_size=3, conv1_padding=0),
           LeNetConfig(kernel_size=7, conv1_padding=3, conv1_channels=1, conv2_channels=3, fc1_units=7, fc2_units=1),
           LeNetConfig(kernel_size=7, conv1_padding=0), LeNetConfig(kernel_size=3, conv1_padding=1, fc1_units=512),
           *(apply_preset(LeNetConfig(), name) for name in ARCH_PRESETS)]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_plan_matches_the_built_model(config):
    model = build_lenet(config).eval()
    plan = layer_plan(config)
    assert plan.params == count_parameters(model) == sum(p.numel() for p in model.parameters())
    modules = dict(model.named_children())
    for row in plan.rows:
        module = modules.get(row.name)
        assert row.params == (sum(p.numel() for p in module.parameters()) if module is not None else 0), row.name
    with torch.no_grad():
        outs = model.forward_all(torch.randn(2, 1, 28, 28))
    assert [r.name for r in plan.rows] == list(LAYER_NAMES)
    assert {r.name: (2, *r.shape) for r in plan.rows} == {k: tuple(v.shape) for k, v in outs.items()}


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_multiply_adds_match_torch_flop_counter(config):
    """torch counts 2 FLOPs (a multiply and an add) per multiply-add of conv2d and linear, and nothing else here."""
    model = build_lenet(config).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, 28, 28))
    assert counter.get_total_flops() == 2 * layer_plan(config).macs


def test_classic_table_by_hand():
    plan = layer_plan(LeNetConfig())
    macs = {r.name: r.macs for r in plan.rows if r.macs}
    assert macs == {"conv1": 6 * 28 * 28 * 5 * 5,  # 6 maps of 28x28, each cell 25 products: 117,600
                    "conv2": 16 * 10 * 10 * 6 * 5 * 5,  # 16 maps of 10x10, each 6 channels x 25: 240,000
                    "fc1": 400 * 120, "fc2": 120 * 84, "fc3": 84 * 10}
    assert plan.macs == 416_520 and plan.params == 61_706
    assert plan.row("pool2").shape == (16, 5, 5) and plan.row("flatten").shape == (400,)


def test_classic_defaults_keep_their_state_dict_keys():
    model = build_lenet()
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == {
        "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
        "fc1.weight": (120, 400), "fc1.bias": (120,), "fc2.weight": (84, 120), "fc2.bias": (84,),
        "fc3.weight": (10, 84), "fc3.bias": (10,)}
    assert LeNetConfig() == LeNetConfig(**{"activation": "tanh", "pooling": "max", **CLASSIC_SIZES})


def test_every_allowed_choice_fits_a_28x28_digit():
    """With kernels of at most 7 and no negative padding, two conv + pool stages never shrink a 28x28 map below 2x2."""
    for k, p in itertools.product(KERNEL_SIZES, range(4)):
        assert layer_plan(LeNetConfig(kernel_size=k, conv1_padding=p)).row("pool2").shape[1] >= 2


def test_a_map_below_1x1_is_refused_with_the_formula_in_numbers():
    config = LeNetConfig(kernel_size=7, conv1_padding=0)
    with pytest.raises(LabError) as info:
        layer_plan(config, size=12)  # conv1 12 -> 6, pool1 -> 3, conv2: 3 - 7 + 1 = -3
    err = info.value
    assert err.code == "lenet.map_too_small"
    assert err.params == dict(layer="conv2", size=3, padding=0, kernel=7, stride=1, out=-3)
    with pytest.raises(RuntimeError):  # what torch itself says about that layer
        torch.nn.functional.conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 7, 7))
    en, zh = (translate(load_catalog(lang), f"errors.{err.code}", **err.params) for lang in LANGUAGES)
    assert "⌊(3 + 2×0 − 7) / 1⌋ + 1 = -3" in en and "⌊(3 + 2×0 − 7) / 1⌋ + 1 = -3" in zh and "特征图" in zh
    with pytest.raises(LabError) as info:
        layer_plan(LeNetConfig(kernel_size=3, conv1_padding=0), size=4)  # conv1 2x2, pool1 1x1, conv2 -1
    assert info.value.params["layer"] == "conv2"
    with pytest.raises(LabError) as info:
        layer_plan(LeNetConfig(kernel_size=3, conv1_padding=0), size=3)  # conv1 1x1, pool1: (1 - 2) // 2 + 1 = 0
    assert info.value.params == dict(layer="pool1", size=1, padding=0, kernel=2, stride=2, out=0)


@pytest.mark.parametrize("bad, code", [(dict(kernel_size=4), "lenet.bad_kernel"), (dict(kernel_size=True), "lenet.bad_kernel"),
                                       (dict(conv1_channels=0), "lenet.out_of_range"),
                                       (dict(conv2_channels=1000), "lenet.out_of_range"),
                                       (dict(fc1_units=2.5), "lenet.out_of_range"),
                                       (dict(conv1_padding=-1), "lenet.out_of_range"),
                                       (dict(fc2_units=True), "lenet.out_of_range")])
def test_bad_sizes_are_refused(bad, code):
    with pytest.raises(LabError) as info:
        LeNetConfig(**bad)
    assert info.value.code == code


def test_presets():
    assert set(ARCH_PRESETS) == {"classic_1998", "modern", "tiny", "wide"}
    classic = apply_preset(LeNetConfig("relu", "max", kernel_size=3), "classic_1998")
    assert (classic.activation, classic.pooling) == ("tanh", "avg") and layer_plan(classic).params == 61_706
    modern = apply_preset(LeNetConfig(), "modern")
    assert (modern.activation, modern.pooling, modern.kernel_size) == ("relu", "max", 5)
    tiny, wide = apply_preset(LeNetConfig(), "tiny"), apply_preset(LeNetConfig(), "wide")
    assert build_lenet(tiny).conv1.weight.shape == (2, 1, 5, 5) and build_lenet(tiny).conv2.weight.shape == (4, 2, 5, 5)
    assert build_lenet(wide).conv2.weight.shape == (32, 16, 5, 5)
    assert layer_plan(tiny).params < 61_706 < layer_plan(wide).params
    with pytest.raises(LabError) as info:
        apply_preset(LeNetConfig(), "huge")
    assert info.value.code == "lenet.bad_preset"


# ---- run keys: every configuration that could be saved before must keep its checkpoint name ------------------------

FP = "0123456789abcdef"
KEYS_ON_MAIN = {  # run_key(config, FP) computed on main at 64aafe0, before the layer sizes existed
    TrainConfig(): "182c123270f23b98",
    TrainConfig(activation="tanh"): "70c7f7f69182cd62",
    TrainConfig(activation="tanh", pooling="avg", optimizer="sgd", lr=0.01): "7417b45bc54c041a",
    TrainConfig(dropout=0.3, epochs=3): "2425fb6a19fb9965",
    TrainConfig(dataset="mnist", seed=2): "388565e80c424937",
}
# TrainConfig as it will be once it holds the layer sizes too (the page wiring adds them), with the classic defaults.
FutureConfig = make_dataclass("FutureConfig", [(n, int, field(default=v)) for n, v in CLASSIC_SIZES.items()],
                              bases=(TrainConfig,), frozen=True)


@pytest.mark.parametrize("config, key", KEYS_ON_MAIN.items(), ids=str)
def test_run_keys_of_existing_configurations_do_not_change(config, key):
    assert run_key(config, FP) == key
    future = FutureConfig(**{f: getattr(config, f) for f in config.__dataclass_fields__})
    assert run_key(future, FP) == key  # the classic sizes are left out of the hash
    assert run_key(future.but(kernel_size=3), FP) != key and run_key(future.but(conv1_channels=7), FP) != key
    assert run_key(future.but(fc2_units=84), FP) == key


def test_a_checkpoint_saved_before_the_sizes_existed_still_loads_once_they_do(tmp_path, monkeypatch):
    config = TrainConfig(epochs=1, seed=5)
    model = build_lenet(config.lenet, config.seed).eval()
    path = save_checkpoint(tmp_path, Checkpoint(config, model, (), (2.3,), 1, "finished", 1, 1, None, 0.1), FP)
    assert path.name == f"lenet-{run_key(config, FP)}.pt"
    monkeypatch.setattr(checkpoint, "TrainConfig", FutureConfig)
    back = load_checkpoint(path, FP)
    assert isinstance(back.config, FutureConfig) and back.config == FutureConfig(epochs=1, seed=5)
    torch.testing.assert_close(back.model.conv1.weight, model.conv1.weight)
