"""Autograd on the course's one-layer example: its graph read from the real grad_fn chain, .grad, accumulation."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.errors import LabError
from core.seeding import seeded

SECOND_PASS = ("retain_graph", "forward_again", "neither")  # how a second backward() can (or cannot) run
MAX_CALLS = 10


@dataclass(frozen=True, eq=False)
class NotesExample:
    """x = ones(5), y = zeros(3), w = randn(5, 3), b = randn(3), z = x @ w + b, loss = BCE with logits(z, y)."""

    x: torch.Tensor  # (5,) input
    y: torch.Tensor  # (3,) expected output
    w: torch.Tensor  # (5, 3) leaf, requires_grad
    b: torch.Tensor  # (3,) leaf, requires_grad
    z: torch.Tensor  # (3,) logits
    loss: torch.Tensor  # () scalar

    @property
    def tensors(self) -> dict[str, torch.Tensor]:
        """The named tensors, for labelling the graph."""
        return {"x": self.x, "y": self.y, "w": self.w, "b": self.b, "z": self.z, "loss": self.loss}


def _leaves(seed: int, x_requires_grad: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x, y, w, b exactly as the notes make them after torch.manual_seed(seed) (the global generator is restored)."""
    with seeded(seed):
        x = torch.ones(5, requires_grad=x_requires_grad)
        y = torch.zeros(3)
        w = torch.randn(5, 3, requires_grad=True)
        b = torch.randn(3, requires_grad=True)
    return x, y, w, b


def forward(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """z = x @ w + b and the binary cross-entropy of the logits z against y."""
    z = torch.matmul(x, w) + b  # (3,)
    return z, F.binary_cross_entropy_with_logits(z, y)


def notes_example(seed: int = 0, x_requires_grad: bool = False) -> NotesExample:
    """The example built, not yet differentiated."""
    x, y, w, b = _leaves(seed, x_requires_grad)
    z, loss = forward(x, y, w, b)
    return NotesExample(x, y, w, b, z, loss)


@dataclass(frozen=True)
class GraphNode:
    """A Function object of the backward graph (an op's grad_fn, or AccumulateGrad feeding a leaf's .grad)."""

    id: str
    op: str  # type(grad_fn).__name__, e.g. "AddBackward0", "AccumulateGrad"
    tensor: str | None  # name of the tensor this node produced ("z", "loss") or accumulates into ("w", "b")
    shape: tuple[int, ...] | None
    untracked: int  # inputs that need no gradient (next_functions entries that are None), e.g. x and y


@dataclass(frozen=True)
class Graph:
    """Nodes from the root's grad_fn to the leaves; an edge (a, b) means a passes gradient on to b."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[str, str], ...]

    def node(self, tensor: str) -> GraphNode | None:
        """The node of a named tensor, if it is in the graph."""
        return next((n for n in self.nodes if n.tensor == tensor), None)


def trace_graph(root: torch.Tensor, names: dict[str, torch.Tensor]) -> Graph:
    """Walk root.grad_fn and its next_functions; label nodes whose tensor is one of `names`."""
    if root.grad_fn is None:
        raise LabError("autograd.no_graph")
    produced = {id(t.grad_fn): n for n, t in names.items() if t.grad_fn is not None}
    nodes: dict[int, GraphNode] = {}
    edges: list[tuple[str, str]] = []
    stack = [root.grad_fn]
    while stack:
        fn = stack.pop()
        if id(fn) in nodes:
            continue
        variable = getattr(fn, "variable", None)  # AccumulateGrad holds its leaf tensor
        name = next((n for n, t in names.items() if t is variable), None) if variable is not None else produced.get(id(fn))
        shape = tuple(variable.shape) if variable is not None else (tuple(names[name].shape) if name else None)
        nexts = fn.next_functions
        nodes[id(fn)] = GraphNode(str(len(nodes)), type(fn).__name__, name, shape, sum(nf is None for nf, _ in nexts))
        for nf, _ in nexts:
            if nf is not None:
                edges.append((id(fn), id(nf)))
                stack.append(nf)
    # ids are the order of discovery (stable from run to run), not memory addresses
    return Graph(tuple(nodes.values()), tuple(dict.fromkeys((nodes[a].id, nodes[b].id) for a, b in edges)))


def expected_grads(ex: NotesExample) -> dict[str, torch.Tensor]:
    """The chain rule by hand: dloss/dz = (sigmoid(z) - y) / 3, so w.grad = outer(x, dz), b.grad = dz, x.grad = w dz."""
    with torch.no_grad():
        dz = (torch.sigmoid(ex.z) - ex.y) / ex.z.numel()  # (3,)
        return {"w": torch.outer(ex.x, dz), "b": dz, "x": ex.w @ dz}


@dataclass(frozen=True, eq=False)
class Accumulation:
    """The .grad of each leaf after every backward() call; error is torch's message if a call was refused."""

    grads: tuple[dict[str, torch.Tensor], ...]  # one dict per successful call: leaf name -> copy of its .grad
    error: str | None


def backward_calls(seed: int, calls: int, second_pass: str = "retain_graph", zero_grad: bool = False,
                   x_requires_grad: bool = False) -> Accumulation:
    """Call backward() `calls` times on the example, keeping (retain_graph) or rebuilding (forward_again) the graph,
    or neither (torch refuses the second call); zero_grad=True clears the .grad of each leaf before each call."""
    if second_pass not in SECOND_PASS:
        raise LabError("autograd.bad_pass", name=second_pass)
    if not 1 <= calls <= MAX_CALLS:
        raise LabError("autograd.bad_calls", calls=calls, most=MAX_CALLS)
    x, y, w, b = _leaves(seed, x_requires_grad)
    leaves = {"w": w, "b": b, **({"x": x} if x_requires_grad else {})}
    _, loss = forward(x, y, w, b)
    out: list[dict[str, torch.Tensor]] = []
    for call in range(calls):
        if zero_grad:
            for t in leaves.values():
                t.grad = None  # what optimizer.zero_grad() does (set_to_none=True)
        if call and second_pass == "forward_again":
            _, loss = forward(x, y, w, b)
        try:
            loss.backward(retain_graph=second_pass == "retain_graph")
        except RuntimeError as exc:  # "Trying to backward through the graph a second time ..."
            return Accumulation(tuple(out), str(exc))
        out.append({n: t.grad.detach().clone() for n, t in leaves.items()})
    return Accumulation(tuple(out), None)


@dataclass(frozen=True)
class Tracking:
    """requires_grad of z computed normally, inside torch.no_grad(), and after .detach()."""

    normal: bool
    no_grad: bool
    detached: bool
    detach_shares_memory: bool  # detach() makes no copy: the same numbers, cut from the graph
    no_grad_has_graph: bool  # whether z made under no_grad has a grad_fn


def tracking(seed: int = 0) -> Tracking:
    """The notes' three prints: z.requires_grad, then under no_grad, then z.detach().requires_grad."""
    x, y, w, b = _leaves(seed, False)
    z, _ = forward(x, y, w, b)
    with torch.no_grad():
        z_off, _ = forward(x, y, w, b)
    z_det = z.detach()
    return Tracking(z.requires_grad, z_off.requires_grad, z_det.requires_grad, z_det.data_ptr() == z.data_ptr(),
                    z_off.grad_fn is not None)


@dataclass(frozen=True, eq=False)
class VectorJacobian:
    """z = x @ w + b is a vector: z.backward() is refused, z.backward(v) leaves v^T J in x.grad (J = dz/dx)."""

    error: str | None  # torch's message for z.backward() without an argument
    v: torch.Tensor  # (3,) the vector handed to backward
    jacobian: torch.Tensor  # (3, 5) from torch.autograd.functional.jacobian
    vjp: torch.Tensor  # (5,) v @ J
    x_grad: torch.Tensor  # (5,) what z.backward(v) left in x.grad
    b_grad: torch.Tensor  # (3,) dz/db is the identity, so this is v itself

    @property
    def max_difference(self) -> float:
        """Largest gap between x.grad and v^T J."""
        return float((self.x_grad - self.vjp).abs().max())


def vector_jacobian(seed: int, v: tuple[float, ...] = (1.0, 1.0, 1.0)) -> VectorJacobian:
    """The notes' z as a function of x: try z.backward(), then z.backward(v), and check x.grad against v^T J."""
    if len(v) != 3:
        raise LabError("autograd.bad_v", n=len(v))
    x, _, w, b = _leaves(seed, True)
    z = torch.matmul(x, w) + b  # (3,) not a scalar
    error = None
    try:
        z.backward()
    except RuntimeError as exc:  # "grad can be implicitly created only for scalar outputs"
        error = str(exc)
    vec = torch.tensor(v, dtype=z.dtype)
    z.backward(vec)
    jac = torch.autograd.functional.jacobian(lambda xs: torch.matmul(xs, w.detach()) + b.detach(), x.detach())  # (3, 5)
    return VectorJacobian(error, vec, jac, vec @ jac, x.grad.detach().clone(), b.grad.detach().clone())


FREEZABLE = ("conv1", "conv2", "fc1", "fc2", "fc3")  # LeNet-5's layers with parameters


@dataclass(frozen=True)
class LayerFreeze:
    """One LeNet layer after a training step: frozen or not, whether it got a .grad, whether step() moved it."""

    name: str
    frozen: bool
    params: int
    grad_is_none: bool
    changed: bool


@dataclass(frozen=True)
class Freezing:
    """One SGD step on LeNet-5 with some layers' requires_grad set to False."""

    layers: tuple[LayerFreeze, ...]
    trainable: int  # parameter values with requires_grad=True
    total: int
    error: str | None  # torch's message when every layer is frozen (the loss then has no grad_fn)


def freeze_step(frozen: tuple[str, ...], seed: int = 0, lr: float = 0.1) -> Freezing:
    """Freeze the named layers, run loss.backward() and optimizer.step() once on a seeded random batch."""
    from core.lenet import build_lenet  # here, so the autograd page's other sections do not need LeNet

    unknown = [n for n in frozen if n not in FREEZABLE]
    if unknown:
        raise LabError("autograd.bad_layer", name=unknown[0])
    model = build_lenet(seed=seed)
    for name in frozen:
        getattr(model, name).requires_grad_(False)  # the same as p.requires_grad = False for each parameter
    with seeded(seed):
        x, labels = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))  # (8, 1, 28, 28), (8,)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)  # given every parameter, frozen or not
    optimizer.zero_grad()
    error = None
    try:
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()  # skips every parameter whose .grad is None
    except RuntimeError as exc:  # "element 0 of tensors does not require grad and does not have a grad_fn"
        error = str(exc)
    rows = []
    for name in FREEZABLE:
        params = dict(getattr(model, name).named_parameters(prefix=name))
        rows.append(LayerFreeze(name, name in frozen, sum(p.numel() for p in params.values()),
                                all(p.grad is None for p in params.values()),
                                any(not torch.equal(p.detach(), before[n]) for n, p in params.items())))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return Freezing(tuple(rows), trainable, sum(p.numel() for p in model.parameters()), error)
