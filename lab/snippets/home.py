"""Code panel of the home page: the untrained LeNet-5 (seed 0) on one test digit, layer by layer."""
from __future__ import annotations

from core.training import TrainConfig
from lab.snippets.training import EMBEDDED, MNIST, model_code


def home_script(data_source: str, index: int) -> str:
    """Every layer's output shape, the parameter count and the logits of test digit `index`;
    result = (shapes, parameters, logits)."""
    return f'''import torch
import torch.nn as nn

{MNIST if data_source == "mnist" else EMBEDDED}
{model_code(TrainConfig(activation="tanh"))}torch.manual_seed(0)  # the random starting weights the page shows
model = LeNet5(0).eval()
x = (test_images[{index}:{index + 1}].unsqueeze(1).float() / 255 - 0.5) / 0.5  # ToTensor + Normalize: (1, 1, 28, 28)
shapes = [list(x.shape)]
with torch.no_grad():
    for layer in (model.conv1, model.act1, model.pool1, model.conv2, model.act2, model.pool2):
        x = layer(x)
        shapes.append(list(x.shape))
    x = x.flatten(1)  # (1, 400)
    shapes.append(list(x.shape))
    for layer in (model.fc1, model.act3, model.fc2, model.act4, model.fc3):
        x = layer(x)
        shapes.append(list(x.shape))
parameters = sum(p.numel() for p in model.parameters())
print(" -> ".join(str(s) for s in shapes))
print(parameters, "parameters; logits:", x[0])
result = (shapes, parameters, x[0].tolist())
'''
