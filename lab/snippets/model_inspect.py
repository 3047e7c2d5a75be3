"""Code panel of the inside-a-trained-model page: load a saved run and recompute its accuracy and confusion matrix."""
from __future__ import annotations

from core.training import TrainConfig
from lab.snippets.training import data_code, model_code


def inspect_script(config: TrainConfig, checkpoint: str) -> str:
    """A runnable script that loads a saved run and recomputes its test accuracy and confusion matrix."""
    prep = "(x.unsqueeze(1).float() / 255 - 0.5) / 0.5" if config.normalize else "x.unsqueeze(1).float() / 255"
    return f'''import torch, torch.nn as nn, torch.nn.functional as F

{data_code(config)}
{model_code(config)}model = LeNet5({config.seed})
saved = torch.load({checkpoint!r}, weights_only=True)  # weights only: a file with code in it is refused
model.load_state_dict(saved["state_dict"])
model.eval()
with torch.no_grad():
    x = {prep.replace("x.", "test_images.")}  # (N, 1, 28, 28)
    probs = F.softmax(model(x), dim=1)  # (N, 10)
predicted = probs.argmax(1)
confusion = torch.bincount(test_labels * 10 + predicted, minlength=100).reshape(10, 10)  # row: true, column: answer
accuracy = (predicted == test_labels).float().mean().item()
print(f"test accuracy {{accuracy:.2%}}")
print(confusion)
result = (accuracy, confusion.tolist())
'''
