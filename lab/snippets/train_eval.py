"""Code panel of the train() vs eval() page: dropout and batch norm in both modes, running statistics, no_grad."""
from __future__ import annotations

from core.training import TrainConfig
from lab.snippets.training import EMBEDDED, MNIST, model_code


def modes_script(data_source: str, dropout: float, momentum: float, repeats: int, seed: int, steps: int,
                 stats_batch: int, eval_steps: int, no_grad_batch: int) -> str:
    """The page's ModeNet, run repeatedly in each mode, its running statistics, and LeNet-5's saved tensors;
    result = (logits per mode, running means after every call, (bytes saved with grad, without))."""
    return f'''import torch
import torch.nn as nn

{MNIST if data_source == "mnist" else EMBEDDED}
def prep(images):  # uint8 (N, 28, 28) -> (N, 1, 28, 28), ToTensor then Normalize((0.5,), (0.5,))
    return (images.unsqueeze(1).float() / 255 - 0.5) / 0.5

class ModeNet(nn.Module):
    def __init__(self, dropout, momentum):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=5)
        self.bn = nn.BatchNorm2d(4, momentum=momentum)
        self.act, self.pool = nn.ReLU(), nn.MaxPool2d(4)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * 6 * 6, 10)
    def forward(self, x):
        x = self.pool(self.act(self.bn(self.conv(x))))
        return self.fc(self.drop(x.flatten(1)))

x = prep(test_images[:16])
logits = {{}}
for mode in ("train", "eval"):
    torch.manual_seed({seed})
    model = ModeNet({dropout!r}, {momentum!r})
    model.train(mode == "train")  # the same as model.train() / model.eval()
    with torch.no_grad():
        logits[mode] = [model(x)[0].tolist() for _ in range({repeats})]  # the first digit, {repeats} times
    print(mode, "running_mean after the calls:", model.bn.running_mean)

# Forward passes only, no training: in train mode batch norm's running statistics still move
torch.manual_seed({seed})
model = ModeNet(0.0, {momentum!r})
means = [model.bn.running_mean.tolist()]
with torch.no_grad():
    for step in range({steps}):
        model.train()
        model(prep(train_images[step * {stats_batch}:(step + 1) * {stats_batch}]))
        means.append(model.bn.running_mean.tolist())
    for _ in range({eval_steps}):
        model.eval()  # running statistics are used, not updated
        model(prep(train_images[({steps} - 1) * {stats_batch}:{steps} * {stats_batch}]))
        means.append(model.bn.running_mean.tolist())

# What torch.no_grad() saves: the tensors autograd keeps for backward
{model_code(TrainConfig(activation="tanh"))}torch.manual_seed(0)
lenet = LeNet5(0).eval()
def saved_bytes(track):
    storages = {{}}
    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.set_grad_enabled(track):
        lenet(prep(test_images[:{no_grad_batch}]))
    return sum(storages.values())
saved = (saved_bytes(True), saved_bytes(False))
print("bytes kept for backward: with tracking", saved[0], "under no_grad", saved[1])
result = (logits, means, saved)
'''
