"""Code panel of the model-building page: the course's NeuralNetwork, a Conv2d's parameters, flattening, state_dict."""
from __future__ import annotations

import inspect

from core.model_building import FEATURE_MAPS, NeuralNetwork

NETWORK_SOURCE = inspect.getsource(NeuralNetwork)  # the page's own class, so the panel cannot drift from it


def modules_script(seed: int, n: int, in_channels: int, out_channels: int, kernel: int, bias: bool, groups: int,
                   feature_map: str, batch: int) -> str:
    """Everything the page shows, as one plain script; result = a dict of the same numbers."""
    c, h, w = FEATURE_MAPS[feature_map]
    return f'''import io

import torch
import torch.nn as nn


{NETWORK_SOURCE}

torch.manual_seed({seed})
model = NeuralNetwork()
X = torch.rand({n}, 28, 28)
print(model)
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.numel())  # a Linear's weight is [out_features, in_features]
total = sum(p.numel() for p in model.parameters())
print("total parameters", total)

with torch.no_grad():
    logits = model(X)  # [{n}, 10]
    probs = nn.Softmax(dim=1)(logits)
    y_pred = probs.argmax(1)
print("Predicted class:", y_pred)

# model(X) goes through __call__, which runs the hooks around forward(); model.forward(X) skips them
fired = []
handle = model.register_forward_hook(lambda module, inputs, output: fired.append("hook"))
with torch.no_grad():
    a = model(X)
    on_call = len(fired)
    b = model.forward(X)
handle.remove()
print("same values:", torch.equal(a, b), "| hook ran", on_call, "time(s) for model(X),", len(fired) - on_call, "for forward")

conv = nn.Conv2d({in_channels}, {out_channels}, kernel_size={kernel}, groups={groups}, bias={bias})
conv_total = sum(p.numel() for p in conv.parameters())
print("Conv2d weight", tuple(conv.weight.shape), "->", conv_total, "parameters")

torch.manual_seed(0)
x = torch.randn({batch}, {c}, {h}, {w})  # a feature map [B, C, H, W]
head = nn.Linear({c * h * w}, 10)
small_head = nn.Linear({c}, 10)
flat = nn.Flatten()(x)
print(x.view(1, -1).shape, flat.shape, torch.equal(x.view({batch}, -1), flat))
gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())(x)
print("global average pooling", gap.shape, "then", sum(p.numel() for p in small_head.parameters()), "parameters")

buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
torch.manual_seed({seed + 1})
fresh = NeuralNetwork()
fresh.load_state_dict(torch.load(buffer, weights_only=True))
with torch.no_grad():
    identical = torch.equal(model(X), fresh(X))
print("identical after loading:", identical)

result = {{
    "parameters": [(name, tuple(p.shape), p.numel()) for name, p in model.named_parameters()],
    "total": total, "logits": logits, "probs": probs, "predicted": y_pred.tolist(),
    "hooks": (on_call, len(fired) - on_call), "same": torch.equal(a, b),
    "conv": (tuple(conv.weight.shape), conv_total),
    "flatten": (tuple(x.view(1, -1).shape), tuple(flat.shape), tuple(head(flat).shape), tuple(gap.shape)),
    "heads": (sum(p.numel() for p in head.parameters()), sum(p.numel() for p in small_head.parameters())),
    "state_dict": [(k, tuple(v.shape)) for k, v in fresh.state_dict().items()], "identical": identical,
}}
'''
