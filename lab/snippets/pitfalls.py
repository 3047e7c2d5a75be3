"""Code panel of the pitfalls lab: one training function run twice, correctly and with the chosen bug."""
from __future__ import annotations

from core.training import TrainConfig
from lab.snippets.training import data_code, model_code, optimizer_code

CALL_LINES = {"z": "optimizer.zero_grad()", "b": "loss.backward()", "s": "optimizer.step()"}


def order_lines(order: str) -> str:
    """One training step with its three calls in `order` (e.g. "zbs")."""
    return "\n".join(["loss = loss_fn(model(xb), yb)"] + [CALL_LINES[c] for c in order])


def _accumulation_lines(k: int, divide: bool) -> str:
    over_k = f" / {k}  # each small batch weighs 1/{k}" if divide else f"  # forgotten: / {k}"
    return (f"optimizer.zero_grad()\nfor i, (xb, yb) in enumerate(loader):\n    loss = loss_fn(model(xb), yb){over_k}\n"
            f"    loss.backward()  # adds up in .grad\n    if (i + 1) % {k} == 0:\n        optimizer.step()\n"
            "        optimizer.zero_grad()")


def diff_lines(name: str, config: TrainConfig, order: str = "szb", k: int = 4) -> tuple[str, str]:
    """The lines that differ for a pitfall: (correct, mistaken), shown side by side on the page."""
    make_opt = optimizer_code(config)
    return {
        "call_order": (order_lines("zbs"), order_lines(order)),
        "accumulation": (_accumulation_lines(k, True), _accumulation_lines(k, False)),
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


def pitfall_script(name: str, correct: TrainConfig, order: str = "szb", k: int = 4, steps: int = 40, batch: int = 32,
                   micro: int = 16, updates: int = 3) -> str:
    """Train the same seeded LeNet-5 twice, correctly and with the pitfall `name`;
    result = {"correct": test accuracy per epoch, "mistake": test accuracy per epoch}.
    The two probes instead: call_order -> {"correct": losses, "mistake": losses, "used": gradient used per step,
    "failed_at": batch torch refused or None}; accumulation -> (max |accumulated - big|, ||undivided|| / ||big||,
    weight gap accumulated, weight gap undivided)."""
    if name == "call_order":
        return _order_script(correct, order, steps, batch)
    if name == "accumulation":
        return _accumulation_script(correct, k, micro, updates)
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


def _probe_head(c: TrainConfig, samples: str) -> str:
    return f'''import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim

{data_code(c)}
x_train = (train_images[:{samples}].unsqueeze(1).float() / 255 - 0.5) / 0.5  # ToTensor, Normalize((0.5,), (0.5,))
y_train = train_labels[:{samples}]

{model_code(c)}'''


def _order_script(c: TrainConfig, order: str, steps: int, batch: int) -> str:
    return _probe_head(c, str(steps * batch)) + f'''
def flat_grad():
    params = list(model.parameters())
    if all(p.grad is None for p in params):
        return None
    return torch.cat([(torch.zeros_like(p) if p.grad is None else p.grad).flatten() for p in params])


def train(order):  # "zbs" = zero_grad(), backward(), step() after each forward pass
    global model, optimizer
    torch.manual_seed({c.seed})
    model = LeNet5({c.seed})
    optimizer = {optimizer_code(c)}
    losses, used, grads = [], [], []
    for i in range({steps}):
        xb, yb = x_train[i * {batch}:(i + 1) * {batch}], y_train[i * {batch}:(i + 1) * {batch}]
        loss = F.cross_entropy(model(xb), yb)
        losses.append(loss.item())
        for call in order:
            if call == "z":
                optimizer.zero_grad()
            elif call == "b":
                try:
                    loss.backward()
                except RuntimeError as e:  # torch refuses: step() changed weights that this forward pass used
                    print("batch", i + 1, "backward() refused:", str(e).splitlines()[0])
                    return losses, used, i
                grads.append(flat_grad())
            else:
                now = flat_grad()  # what step() is about to apply: which batch's gradient is it?
                empty = now is None or not now.any()
                used.append(None if empty else next(j for j in reversed(range(len(grads))) if torch.equal(now, grads[j])))
                optimizer.step()
    return losses, used, None


good, _, _ = train("zbs")
bad, used, failed_at = train({order!r})
print("gradient applied by each step() (batch number, None = nothing):", [None if u is None else u + 1 for u in used][:8])
print("last loss, correct order:", round(good[-1], 4), " order {order}:", round(bad[-1], 4))
result = {{"correct": good, "mistake": bad, "used": used, "failed_at": failed_at}}
'''


def _accumulation_script(c: TrainConfig, k: int, micro: int, updates: int) -> str:
    return _probe_head(c, str(k * micro * updates)) + f'''
k, micro, updates = {k}, {micro}, {updates}


def run(how):  # "accumulated": loss / k on k small batches; "undivided": the same without / k; "big": k * micro at once
    torch.manual_seed({c.seed})
    model = LeNet5({c.seed})
    optimizer = {optimizer_code(c)}
    first = None
    for u in range(updates):
        optimizer.zero_grad()
        if how == "big":
            lo, hi = u * k * micro, (u + 1) * k * micro
            F.cross_entropy(model(x_train[lo:hi]), y_train[lo:hi]).backward()
        else:
            for i in range(u * k, (u + 1) * k):  # k small batches, adding up in .grad
                loss = F.cross_entropy(model(x_train[i * micro:(i + 1) * micro]), y_train[i * micro:(i + 1) * micro])
                (loss / k if how == "accumulated" else loss).backward()
        if first is None:
            first = torch.cat([p.grad.flatten() for p in model.parameters()])
        optimizer.step()
    return first, torch.cat([p.detach().flatten() for p in model.parameters()])


(g_acc, w_acc), (g_no, w_no), (g_big, w_big) = run("accumulated"), run("undivided"), run("big")
torch.testing.assert_close(g_acc, g_big)  # accumulating loss / k = one batch k times larger
print("max |g_accumulated - g_big|:", (g_acc - g_big).abs().max().item())
print("||g_undivided|| / ||g_big||:", (g_no.norm() / g_big.norm()).item())
print("weights after", updates, "steps, max |difference| from big batches:", (w_acc - w_big).abs().max().item(),
      "(divided),", (w_no - w_big).abs().max().item(), "(not divided)")
result = ((g_acc - g_big).abs().max().item(), (g_no.norm() / g_big.norm()).item(), (w_acc - w_big).abs().max().item(),
          (w_no - w_big).abs().max().item())
'''
