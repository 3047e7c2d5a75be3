"""Code panel of the pitfalls lab: one training function run twice, correctly and with the chosen bug."""
from __future__ import annotations

from core.training import TrainConfig
from lab.snippets.training import data_code, model_code, optimizer_code

def diff_lines(name: str, config: TrainConfig) -> tuple[str, str]:
    """The lines that differ for a pitfall: (correct, mistaken), shown side by side on the page."""
    make_opt = optimizer_code(config)
    return {
        "no_zero_grad": ("optimizer.zero_grad()\nloss = loss_fn(model(xb), yb)\nloss.backward()\noptimizer.step()",
                         "# optimizer.zero_grad()  forgotten\nloss = loss_fn(model(xb), yb)\n"
                         "loss.backward()  # adds to .grad\noptimizer.step()"),
        "optimizer_in_loop": (f"optimizer = {make_opt}\nfor xb, yb in loader:\n    optimizer.zero_grad()\n    ...",
                              f"for xb, yb in loader:\n    optimizer = {make_opt}\n    optimizer.zero_grad()\n    ..."),
        "softmax_before_loss": ("logits = model(xb)\nloss = nn.CrossEntropyLoss()(logits, yb)",
                                "probs = nn.Softmax(dim=1)(model(xb))\nloss = nn.CrossEntropyLoss()(probs, yb)"),
        "no_eval": ("model.eval()\nwith torch.no_grad():\n    out = model(x_test)",
                    "# model.eval()  forgotten\nwith torch.no_grad():\n    out = model(x_test)"),
        "no_normalize": ("transforms.Compose([transforms.ToTensor(),\n                    transforms.Normalize((0.5,), (0.5,))])",
                         "transforms.ToTensor()  # [0, 1], no Normalize"),
    }[name]


def _bug_lines(name: str, make_opt: str) -> dict[str, str]:
    """Loop fragments: the pitfall's line is switched by `buggy`, every other line is the correct one."""
    lines = {"norm": "True", "new_opt": "", "zero": "\n            optimizer.zero_grad()", "softmax": "",
             "eval": "\n        model.eval()  # dropout off while testing"}
    if name == "no_normalize":
        lines["norm"] = "not buggy  # the bug: pixels stay in [0, 1]"
    elif name == "optimizer_in_loop":
        lines["new_opt"] = f"\n            if buggy:  # the bug: a new optimizer, so no momentum, every batch\n                optimizer = {make_opt}"
    elif name == "no_zero_grad":
        lines["zero"] = "\n            if not buggy:  # the bug is forgetting this: .grad keeps adding up\n                optimizer.zero_grad()"
    elif name == "softmax_before_loss":
        lines["softmax"] = "\n            if buggy:  # the bug: cross_entropy applies log-softmax itself\n                out = F.softmax(out, dim=1)"
    elif name == "no_eval":
        lines["eval"] = "\n        if not buggy:  # the bug is forgetting this: dropout stays on while testing\n            model.eval()"
    return lines


def pitfall_script(name: str, correct: TrainConfig) -> str:
    """Train the same seeded LeNet-5 twice, correctly and with the pitfall `name`;
    result = {"correct": test accuracy per epoch, "mistake": test accuracy per epoch}."""
    c = correct
    make_opt = optimizer_code(c)
    b = _bug_lines(name, make_opt)
    return f'''import math
import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim

{data_code(c)}
def prep(x, normalize):  # uint8 (N, 28, 28) -> float (N, 1, 28, 28): ToTensor, then Normalize((0.5,), (0.5,))
    x = x.unsqueeze(1).float() / 255
    return (x - 0.5) / 0.5 if normalize else x

{model_code(c)}
def run(buggy):
    """Test accuracy after each epoch."""
    seed = {c.seed}
    torch.manual_seed(seed)  # same seed: same initial weights in both runs
    model = LeNet5(seed)
    optimizer = {make_opt}
    normalize = {b["norm"]}
    x_train, y_train = prep(train_images[:{c.train_size}], normalize), train_labels[:{c.train_size}]
    x_test, y_test = prep(test_images, normalize), test_labels
    order = torch.Generator().manual_seed(seed)  # same seed: same batches in both runs
    accuracies = []
    for epoch in range({c.epochs}):
        model.train()
        perm = torch.randperm(len(y_train), generator=order)
        for i in range(0, len(y_train), {c.batch_size}):
            xb, yb = x_train[perm[i:i + {c.batch_size}]], y_train[perm[i:i + {c.batch_size}]]{b["new_opt"]}{b["zero"]}
            out = model(xb){b["softmax"]}
            loss = F.cross_entropy(out, yb)
            if not math.isfinite(loss.item()):
                return accuracies  # diverged
            loss.backward()
            optimizer.step()
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            return accuracies{b["eval"]}
        with torch.no_grad():
            out = model(x_test)
        if not math.isfinite(F.cross_entropy(out, y_test).item()):
            return accuracies
        accuracies.append((out.argmax(1) == y_test).float().mean().item())
        print("buggy" if buggy else "correct", f"epoch {{epoch + 1}}: test accuracy {{accuracies[-1]:.1%}}")
    return accuracies

result = {{"correct": run(False), "mistake": run(True)}}
'''
