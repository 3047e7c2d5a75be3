"""nn.Module anatomy: the course's NeuralNetwork, Conv2d counts, flattening and state_dict, checked against torch."""
import pytest
import torch
import torch.nn as nn

from core.errors import LabError
from core.model_building import (weight_sharing, FEATURE_MAPS, NeuralNetwork, call_vs_forward, conv_params, count_params, flatten_demo,
                          network_and_input, parameter_table, predict, state_dict_round_trip)


def test_the_notes_network_and_its_parameters():
    model, _ = network_and_input(0, 1)
    rows = parameter_table(model)
    assert [(r.name, r.shape) for r in rows] == [
        ("linear_relu_stack.0.weight", (512, 784)), ("linear_relu_stack.0.bias", (512,)),
        ("linear_relu_stack.2.weight", (512, 512)), ("linear_relu_stack.2.bias", (512,)),
        ("linear_relu_stack.4.weight", (10, 512)), ("linear_relu_stack.4.bias", (10,))]  # Linear weight is [out, in]
    assert count_params(model) == sum(r.count for r in rows) == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10 == 669706
    assert "(0): Linear(in_features=784, out_features=512, bias=True)" in str(model)
    assert "(flatten): Flatten(start_dim=1, end_dim=-1)" in str(model)


def test_seeded_build_matches_the_notes_code_and_leaves_the_generator_alone():
    torch.manual_seed(7)
    state = torch.random.get_rng_state()
    model, x = network_and_input(3, 5)
    assert torch.equal(state, torch.random.get_rng_state())
    torch.manual_seed(3)
    oracle = NeuralNetwork()
    x_oracle = torch.rand(5, 28, 28)
    torch.testing.assert_close(x, x_oracle)
    for (_, a), (_, b) in zip(model.named_parameters(), oracle.named_parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("n", [1, 7, 64])
def test_prediction_shapes_softmax_rows_and_argmax(n):
    model, x = network_and_input(1, n)
    pred = predict(model, x)
    assert pred.logits.shape == (n, 10) and pred.probs.shape == (n, 10)
    torch.testing.assert_close(pred.row_sums, torch.ones(n))
    torch.testing.assert_close(pred.probs, torch.softmax(pred.logits, dim=1))
    assert torch.equal(pred.predicted, pred.logits.argmax(1))  # softmax keeps the order
    assert (pred.probs > 0).all()


@pytest.mark.parametrize("n", [0, 65])
def test_batch_out_of_range(n):
    with pytest.raises(LabError) as err:
        network_and_input(0, n)
    assert err.value.code == "build.bad_batch"


def test_forward_hook_only_fires_through_call():
    model, x = network_and_input(0, 3)
    cf = call_vs_forward(model, x)
    assert cf.same_values and cf.max_difference == 0.0
    assert (cf.hook_fired_on_call, cf.hook_fired_on_forward) == (1, 0)
    assert not model._forward_hooks  # the hook was removed again


@pytest.mark.parametrize("cin,cout,k,bias,groups", [(192, 128, 3, True, 1), (192, 128, 3, False, 1), (1, 6, 5, True, 1),
                                                    (6, 16, 5, True, 2), (32, 32, 3, True, 32)])
def test_conv_count_equals_torch_and_the_formula(cin, cout, k, bias, groups):
    cc = conv_params(cin, cout, k, bias, groups)
    layer = nn.Conv2d(cin, cout, k, groups=groups, bias=bias)
    assert cc.total == sum(p.numel() for p in layer.parameters())
    assert cc.weight_shape == (cout, cin // groups, k, k)
    assert cc.weight == cout * (cin // groups) * k * k and cc.bias == (cout if bias else 0)


def test_the_notes_conv_example():
    cc = conv_params(192, 128, 3)
    assert cc.weight == 3 * 3 * 192 * 128 == 221184 and cc.total == 221312


def test_conv_groups_must_divide_channels_torchs_message_kept():
    with pytest.raises(LabError) as err:
        conv_params(192, 128, 3, groups=5)
    assert err.value.code == "build.bad_conv" and "divisible by groups" in err.value.params["detail"]


@pytest.mark.parametrize("name,features", [("lenet", 400), ("notes", 3136)])
def test_flatten_keeps_the_batch_and_view_one_does_not(name, features):
    c, _, _ = FEATURE_MAPS[name]
    one = flatten_demo(name, 1)
    assert one.view_shape == one.flatten_shape == (1, features) and one.same_values
    assert one.linear_out == (1, 10) and one.linear_params == features * 10 + 10
    assert one.gap_shape == (1, c) and one.gap_is_mean and one.gap_linear_params == c * 10 + 10
    three = flatten_demo(name, 3)
    assert three.view_shape == (1, 3 * features) and three.flatten_shape == (3, features) and three.same_values
    assert flatten_demo("notes").linear_params == 31370 and flatten_demo("notes").gap_linear_params == 650
    with pytest.raises(LabError):
        flatten_demo("vgg")


def test_state_dict_round_trip_gives_identical_outputs():
    rt = state_dict_round_trip(2, 6)
    model, _ = network_and_input(2, 1)
    assert rt.keys == tuple((k, tuple(v.shape)) for k, v in model.state_dict().items())
    assert rt.fresh_differs and rt.identical and rt.max_difference == 0.0
    assert rt.saved_bytes > count_params(model) * 4  # float32 values plus the archive's bookkeeping


def test_weight_sharing_counts_and_windows():
    share = weight_sharing()
    assert share.conv_params == 6 * 5 * 5 + 6 == 156
    assert share.dense_params == 784 * 4704 + 4704 == 3_692_640
    assert share.conv_inputs_seen == 25  # an interior cell sees its 5x5 window only
    assert share.dense_inputs_seen == 784
    assert weight_sharing(row=0, col=0).conv_inputs_seen == 9  # at the corner, padding leaves a 3x3 of real pixels
