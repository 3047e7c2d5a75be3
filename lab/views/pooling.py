"""Drawing of the pooling page (shell): the pooled map with its window and winner, on the convolution page's grids."""
from __future__ import annotations

import torch

from lab.ui import fmt
from lab.views.conv import CELL, WINDOW, figure, heat, mark_cells, outline


def matrix(x: torch.Tensor, digits: int = 2) -> str:
    """A small tensor written as nested brackets: [[6, 8], [14, 16]]; one number alone as itself."""
    if x.numel() == 1:
        return fmt(float(x.flatten()[0]), digits)
    return "[" + ", ".join("[" + ", ".join(fmt(v, digits) for v in row) + "]" for row in x.tolist()) + "]"


def listing(x: torch.Tensor, digits: int = 2) -> str:
    """The values of a window, comma separated, row by row."""
    return ", ".join(fmt(v, digits) for v in x.flatten().tolist())


def pool_input_figure(x: torch.Tensor, step, size: int, padding: int, title: str, height: int,
                      digits: int = 2) -> dict:
    """The map being pooled, the current window framed (padding drawn as empty border) and its max marked."""
    h, w = x.shape
    fig = figure(title, height, h, w, padding)
    fig["data"].append(heat(x, "RdBu", zmid=0.0, digits=digits))
    top, left = step.top - padding, step.left - padding
    outline(fig, top, left, top + size - 1, left + size - 1, WINDOW)
    if step.winner is not None:
        size_px = max(8, int(0.8 * (height - 40) / (max(h, w) + 2 * padding)))
        mark_cells(fig, [step.winner[0]], [step.winner[1]], CELL, size_px, "circle-open")
    return fig
