"""Drawing of the autograd page (shell): the backward graph as Graphviz DOT, the gradients, their piling up."""
from __future__ import annotations

import torch

from core.autograd import Graph


def autograd_dot(graph: Graph, grads: dict[str, torch.Tensor], no_grad_label: str) -> str:
    """Graphviz DOT of a backward graph: the loss on top, grad_fn nodes as ellipses, leaves (AccumulateGrad) as boxes
    with their .grad, and a dashed stub for every input that needs no gradient."""
    out = ['digraph G {', 'rankdir=TB; bgcolor="transparent"; node [fontname="Helvetica", fontsize=11];',
           'edge [color="#888888", arrowsize=0.7];']
    for node in graph.nodes:
        tensor = f"\\n{node.tensor} {list(node.shape)}" if node.tensor else ""
        if node.op == "AccumulateGrad":
            grad = grads.get(node.tensor or "")
            values = "" if grad is None else "\\n.grad " + str([round(v, 3) for v in grad.flatten()[:3].tolist()]) + \
                ("…" if grad.numel() > 3 else "")
            out.append(f'n{node.id} [shape=box, style="rounded,filled", fillcolor="#d9f2d0", label="{node.op}{tensor}{values}"];')
        else:
            out.append(f'n{node.id} [shape=ellipse, style=filled, fillcolor="#dbe9f6", label="{node.op}{tensor}"];')
        for k in range(node.untracked):
            out.append(f'u{node.id}_{k} [shape=plaintext, fontcolor="#999999", label="{no_grad_label}"];')
            out.append(f'n{node.id} -> u{node.id}_{k} [style=dashed, color="#cccccc", arrowhead=none];')
    out += [f"n{a} -> n{b};" for a, b in graph.edges]
    return "\n".join(out + ["}"])
