"""The race's step-through pieces: the path simplifier (core) and the steps the frames stop at (view)."""
import math

import pytest
import torch

from core.optim_paths import optimizer_path, simplify


def distance_to_polyline(p: torch.Tensor, line: torch.Tensor) -> float:
    """Smallest distance from point p (2,) to the polyline (m, 2), by hand."""
    best = math.inf
    for a, b in zip(line[:-1], line[1:]):
        seg = b - a
        u = 0.0 if float(seg @ seg) == 0 else float(((p - a) @ seg) / (seg @ seg))
        best = min(best, float(torch.linalg.vector_norm(p - (a + min(max(u, 0.0), 1.0) * seg))))
    return best


@pytest.mark.parametrize("name, lr", [("sgd", 1e-3), ("momentum", 1e-3), ("adam", 0.05)])
def test_every_dropped_point_lies_within_the_tolerance(name, lr):
    path = optimizer_path("rosenbrock", name, (-1.5, 2.0), 300, lr=lr).positions
    scale = (4.0, 4.0)
    kept = simplify(path, 1e-3, scale)
    assert kept[0] == 0 and kept[-1] == len(path) - 1 and bool((kept[1:] > kept[:-1]).all())
    assert len(kept) < len(path) / 3  # the point of it: far fewer vertices
    p = path / torch.tensor(scale, dtype=torch.float64)
    line = p[kept]
    assert max(distance_to_polyline(q, line) for q in p) <= 1e-3 + 1e-12


def test_zigzags_are_kept_and_short_paths_untouched():
    zig = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0], [4.0, 0.0]])
    assert simplify(zig, 0.01).tolist() == [0, 1, 2, 3, 4]
    straight = torch.tensor([[float(i), 2.0 * i] for i in range(10)])
    assert simplify(straight, 1e-9).tolist() == [0, 9]
    assert simplify(zig[:2], 0.5).tolist() == [0, 1] and simplify(zig[:0], 0.5).tolist() == []
    still = torch.zeros(5, 2)  # a run that never moves
    assert simplify(still, 1e-3).tolist() == [0, 4]


def test_frame_steps_cover_the_race_and_the_linked_step():
    from lab.views.optimizers import frame_steps

    assert frame_steps(500, 500) == list(range(0, 501, 5))
    assert frame_steps(500, 37) == sorted([*range(0, 501, 5), 37])
    assert frame_steps(100, 100) == list(range(101))
    assert frame_steps(2000, 2000)[:3] == [0, 20, 40] and frame_steps(2000, 2000)[-1] == 2000
    assert frame_steps(10, 99)[-1] == 10  # a step past the end is the end
