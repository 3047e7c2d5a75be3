"""Errors that carry a translation key, so a page can explain them in the user's language.

CODES is the one registry of every error a user can be shown: its code (the key under [errors] in assets/en.toml
and assets/zh.toml) and the values its message shows. tests/test_error_catalog.py checks both catalogs against it,
and LabError refuses a code that is not in it, so a code may be built at run time (a variable) and still be checked.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

_SHOWN = {  # code -> the {placeholders} its message shows, space separated
    # activations page
    "act.bad_depth": "depth",
    "act.bad_init": "init",
    "act.bad_param": "name param",
    "act.not_finite": "",
    "act.unknown": "name",
    # data augmentation
    "augment.bad_count": "high n",
    "augment.bad_range": "degrees shift zoom",
    # autograd graph
    "autograd.bad_calls": "calls most",
    "autograd.bad_layer": "name",
    "autograd.bad_pass": "name",
    "autograd.bad_v": "n",
    "autograd.no_graph": "",
    # building a model
    "build.bad_batch": "most n",
    "build.bad_conv": "detail",
    "build.bad_map": "name",
    # checkpoints of finished runs
    "checkpoint.damaged": "name",
    "checkpoint.disk_full": "folder",
    "checkpoint.foreign": "name",
    "checkpoint.not_finished": "reason",
    "checkpoint.readonly": "folder",
    "checkpoint.save_failed": "",
    "checkpoint.unreadable": "name",
    "checkpoint.unsafe": "name",
    # convolution
    "conv.bad_dilation": "dilation",
    "conv.bad_dtype": "dtype what",
    "conv.bad_pad_value": "value",
    "conv.bad_shape": "shape what",
    "conv.bad_stride": "stride",
    "conv.channels_mismatch": "image kernel",
    "conv.dtype_mismatch": "image kernel",
    "conv.empty_image": "h w",
    "conv.empty_kernel": "kh kw",
    "conv.kernel_too_large": "h w kh kw",
    "conv.negative_padding": "padding",
    "conv.no_channels": "",
    "conv.not_integer": "name value",
    # evaluating a model
    "eval.bad_class": "classes",
    "eval.bad_digit_shape": "shape",
    "eval.shape_mismatch": "a b",
    # pictures (uploads, drawings)
    "image.blank": "",
    "image.empty": "",
    "image.empty_canvas": "",
    "image.file_too_big": "mb",
    "image.not_image": "",
    "image.too_many_pixels": "height width limit",
    "image.truncated": "",
    # data loading
    "loader.bad_batch": "batch_size",
    "loader.bad_lr": "lr",
    "loader.batch_too_large": "batch_size n",
    "loader.empty": "",
    "loader.index_outside": "index n",
    "loader.length_mismatch": "images labels",
    # softmax and losses
    "loss.bad_shape": "shape",
    "loss.bad_target": "last target",
    "loss.bad_temperature": "temperature",
    "loss.class_count": "high low n",
    "loss.empty_logits": "",
    "loss.label_count": "n rows",
    "loss.not_finite": "",
    "loss.unparseable": "token",
    # train / eval modes
    "modes.bad_dropout": "p",
    "modes.bad_mode": "mode",
    "modes.bad_momentum": "momentum",
    "modes.bad_repeats": "repeats",
    "modes.batch_of_one": "",
    # optimizers (optim.bad_<hyperparameter> are built from core.optim_paths.OPTIMIZERS)
    "optim.bad_alpha": "value",
    "optim.bad_batch": "n value",
    "optim.bad_beta": "name value",
    "optim.bad_classes": "a b",
    "optim.bad_eps": "value",
    "optim.bad_lr": "value",
    "optim.bad_momentum": "value",
    "optim.bad_start": "value",
    "optim.bad_steps": "max value",
    "optim.bad_weight_decay": "value",
    "optim.nesterov_needs_momentum": "value",
    "optim.unknown_hyperparam": "name opt",
    "optim.unknown_optimizer": "name",
    "optim.unknown_surface": "name",
    # pitfalls lab
    "pitfalls.bad_classes": "classes",
    "pitfalls.bad_order": "order",
    "pitfalls.bad_probe": "batch n steps",
    "pitfalls.unknown": "name",
    # pooling
    "pool.bad_dtype": "dtype",
    "pool.bad_kernel": "kernel",
    "pool.bad_kind": "kind",
    "pool.bad_shape": "shape",
    "pool.bad_stride": "stride",
    "pool.bad_upstream": "expected shape",
    "pool.kernel_too_large": "h w kernel",
    "pool.negative_padding": "padding",
    "pool.not_integer": "name value",
    "pool.padding_too_large": "kernel padding",
    # images as tensors
    "tensor.bad_bins": "bins",
    "tensor.bad_norm": "name",
    "tensor.bad_pixels": "dtype shape",
    "tensor.bad_std": "std",
    "tensor.channels_mismatch": "channels given",
    "tensor.pixel_outside": "row col height width",
    # training
    "train.bad_dataset": "name",
    "train.bad_lr": "lr",
    "train.bad_mistake": "name",
    "train.bad_momentum": "momentum",
    "train.bad_optimizer": "name",
    "train.bad_preset": "name",
    "train.bad_size": "",
    "train.bad_weight_decay": "value",
    "train.failed": "",
    "train.no_mnist": "",
    "train.out_of_memory": "",
    "train.worker_died": "",
    # where training runs: the device and the Ray cluster (issue 14)
    "train.bad_device": "name",
    "train.no_cuda": "name count",
    "train.cluster_worker_died": "",
    "train.cluster_unreachable": "",
    "train.data_mismatch": "",
    "image.too_large_to_open": "limit",
    # architecture, attributions, snapshots, notebooks and quizzes (issue 17)
    "attr.bad_input": "shape",
    "attr.not_finite": "",
    "lenet.bad_kernel": "kernel",
    "lenet.bad_preset": "name",
    "lenet.map_too_small": "layer size padding kernel stride out",
    "lenet.out_of_range": "name low high value",
    "notebook.failed": "error detail",
    "quiz.bad_kind": "kind",
    "quiz.bad_seed": "seed",
    "snap.damaged": "",
    "snap.no_digit": "label",
}
CODES: Mapping[str, frozenset[str]] = MappingProxyType({code: frozenset(v.split()) for code, v in _SHOWN.items()})


class LabError(ValueError):
    """Bad input or settings. `code` is a translation key under [errors]; `params` fill its {placeholders}.

    A code missing from CODES, or params missing a value its message shows, is a programming error: LookupError.
    """

    def __init__(self, code: str, message: str = "", **params: object) -> None:
        if code not in CODES:
            raise LookupError(f"unknown error code {code!r}: add it to core.errors and to [errors] of both catalogs")
        missing = CODES[code] - params.keys()
        if missing:
            raise LookupError(f"error {code!r} shows {sorted(missing)}, which were not given")
        super().__init__(message or code)
        self.code = code
        self.params = params

    def __reduce__(self):
        """Pickle as (code, message, params): the default would rebuild it from its message alone."""
        return _restore, (self.code, str(self), dict(self.params))


def _restore(code: str, message: str, params: dict) -> LabError:
    return LabError(code, message, **params)
