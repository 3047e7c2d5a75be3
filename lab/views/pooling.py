"""Drawing of the pooling page (shell): the pooled map with its window and winner, on the convolution page's grids."""
from __future__ import annotations

import torch

from lab.ui import fmt, t
from lab.views.conv import (CELL, CTRL_H, FAINT, HIDDEN, SIGNED, SMALL, TITLE_H, TOP_H, WINDOW, box, cells, clickable,
                            controls, grid_axes, line, mask, number, rest_mask, rounded, set_height, subplot_title, text_scale,
                            words, written_sum)


def matrix(x: torch.Tensor, digits: int = 2) -> str:
    """A small tensor written as nested brackets: [[6, 8], [14, 16]]; one number alone as itself."""
    if x.numel() == 1:
        return fmt(float(x.flatten()[0]), digits)
    return "[" + ", ".join("[" + ", ".join(fmt(v, digits) for v in row) + "]" for row in x.tolist()) + "]"


def listing(x: torch.Tensor, digits: int = 2) -> str:
    """The values of a window, comma separated, row by row."""
    return ", ".join(fmt(v, digits) for v in x.flatten().tolist())


def pool_stepper(x: torch.Tensor, mx, av, first: int, last: int, at: int, digits: int = 2) -> dict:
    """Pooling step by step in one figure: the map with the window and its winner, the max- and average-pooled maps
    with the cells done, and both windows' arithmetic; frames for steps first..last, showing step `at`."""
    h, w = x.shape
    k, pad = mx.kernel, mx.padding
    h_out, w_out = mx.output.shape
    scale = text_scale()  # presenter mode: larger text, so taller lines
    top_h, line_h, ctrl_h = TOP_H, TITLE_H * scale, CTRL_H
    plot_h = top_h + 2 * line_h
    fig = {"data": [], "frames": [], "layout": dict(
        margin=dict(l=4, r=4, t=30 * scale, b=ctrl_h), plot_bgcolor="rgba(0,0,0,0)",
        showlegend=False,
        annotations=[], shapes=[], dragmode=False, hovermode="closest", clickmode="event+select")}
    set_height(fig, plot_h + ctrl_h + 30 * scale, scale)
    lay, data = fig["layout"], fig["data"]
    y_top = (1 - top_h / plot_h, 1.0)
    ax_in = grid_axes(lay, 1, (0, 0.32), y_top, (-pad - 0.5, w + pad - 0.5), (h + pad - 0.5, -pad - 0.5))
    subplot_title(lay, t("pool.input_short"), (0, 0.32), 1.0)
    if pad:  # the padding: an empty grey border (-inf for max, 0 for the average: see the note below)
        lay["shapes"].append(dict(type="rect", xref=ax_in[0], yref=ax_in[1], x0=-pad - 0.5, x1=w + pad - 0.5,
                                  y0=-pad - 0.5, y1=h + pad - 0.5, fillcolor="#c8c8c8", line=dict(width=0),
                                  layer="below"))
    data.append(cells(rounded(x, digits), ax_in, SIGNED, digits, zmid=0.0))
    outs = []
    for n, (trace, kind, dom) in enumerate(((mx, "max", (0.34, 0.66)), (av, "avg", (0.68, 1.0)))):
        ax = grid_axes(lay, 2 + n, dom, y_top, (-0.5, w_out - 0.5), (h_out - 0.5, -0.5))
        subplot_title(lay, t(f"pool.out_{kind}"), dom, 1.0)
        top = max(float(trace.output.abs().max()), 1e-12)
        data.append(cells(rounded(trace.output, digits), ax, SIGNED, digits, -top, top))
        outs.append(ax)
    ax_lines = [grid_axes(lay, 4 + n, (0, 1), (1 - (top_h + (n + 1) * line_h) / plot_h,
                                               1 - (top_h + n * line_h) / plot_h)) for n in range(2)]

    small = max(h_out, w_out) <= SMALL
    marker = max(8, int(0.8 * top_h / (max(h, w) + 2 * pad)))
    movers = [dict(line(([], []), ax_in, WINDOW), name="window_frame"),  # names: what tests find in the browser
              dict(type="scatter", mode="markers", hoverinfo="skip", xaxis=ax_in[0], yaxis=ax_in[1], name="winner",
                   marker=dict(symbol="circle-open", size=marker, color=CELL, line=dict(width=3, color=CELL)))]
    for ax, kind in zip(outs, ("max", "avg")):
        movers += [dict(mask(([], []), ax, HIDDEN if small else FAINT), name=f"to_come_{kind}"),
                   dict(line(([], []), ax, CELL), name=f"cell_{kind}")]
    movers += [dict(words("", ax, 0.0, "middle right", 14), name=f"{kind}_line")
               for ax, kind in zip(ax_lines, ("max", "avg"))]

    texts = {"max": t("pool.max_line"), "avg": t("pool.avg_line"), "tie": t("pool.tie_short")}  # looked up once
    shown = sorted({*range(first, last + 1), at})  # the steps with a frame, and the one on show
    wmax = {n: mx.steps[n].window.flatten().tolist() for n in shown}  # padded with -inf (never the max)
    wavg = {n: av.steps[n].window.flatten().tolist() for n in shown}  # padded with zeros (they count)

    def step_values(n: int) -> list[dict]:
        """What the movers show at step n (a frame's data: only what changes)."""
        sm, sa = mx.steps[n], av.steps[n]
        top, left = sm.top - pad, sm.left - pad
        out = [dict(zip("xy", box(top, left, top + k - 1, left + k - 1))), dict(x=[sm.winner[1]], y=[sm.winner[0]])]
        for _ in outs:
            out += [dict(zip("xy", rest_mask(sm.row, sm.col, h_out, w_out))),
                    dict(zip("xy", box(sm.row, sm.col, sm.row, sm.col)))]
        biggest = texts["max"].format(values=", ".join(number(v, digits) for v in wmax[n]),
                                      value=number(sm.value, digits), r=sm.winner[0], c=sm.winner[1])
        mean = texts["avg"].format(values=written_sum(wavg[n], digits), n=k * k, value=number(sa.value, digits))
        return out + [dict(text=[biggest + (texts["tie"] if sm.tied else "")]), dict(text=[mean])]

    moving = list(range(len(data), len(data) + len(movers)))
    data += [dict(style, **now) for style, now in zip(movers, step_values(at))]
    for trace, ax in zip((mx, av), outs):
        data.append(dict(clickable(rounded(trace.output, digits), ax, max(6, int(0.8 * top_h / max(h_out, w_out))),
                                   digits), name=f"click_{trace.kind}"))
    fig["frames"] = [dict(name=str(n), traces=moving, data=step_values(n)) for n in range(first, last + 1)]
    controls(fig, first, last, at - first)
    return fig
