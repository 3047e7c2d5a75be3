"""Seeded blocks: repeatable, the global generator restored, and safe when sessions build models at the same time."""
import threading

import torch

from core.lenet import LeNetConfig, build_lenet
from core.seeding import seeded


def weights(seed: int) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in build_lenet(LeNetConfig(), seed).parameters()])


def test_same_seed_same_numbers_and_global_state_restored():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    with seeded(7):
        a = torch.randn(5)
    with seeded(7):
        b = torch.randn(5)
    torch.testing.assert_close(a, b)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_nested_blocks_do_not_deadlock():
    with seeded(1):
        with seeded(2):
            inner = torch.randn(3)
    with seeded(2):
        torch.testing.assert_close(inner, torch.randn(3))


def test_models_built_in_parallel_threads_get_their_own_seed():
    """Streamlit runs sessions in threads that share torch's global generator."""
    want = {seed: weights(seed) for seed in (1, 2, 3)}
    wrong: list[int] = []

    def build(seed: int) -> None:
        for _ in range(15):
            if not torch.equal(weights(seed), want[seed]):
                wrong.append(seed)

    threads = [threading.Thread(target=build, args=(seed,)) for seed in want]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert wrong == []
