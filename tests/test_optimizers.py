"""The written first-step formulas the page shows give exactly what torch.optim did, with and without weight decay."""
import pytest

from core.optimizers import first_step
from core.optim_paths import OPTIMIZERS, optimizer_path


@pytest.mark.parametrize("decay", [0.0, 0.3])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("surface, start", [("rosenbrock", (-1.5, 2.0)), ("bowl", (-4.5, 2.0))])
def test_formula_gives_torchs_step_and_state(name, decay, surface, start):
    path = optimizer_path(surface, name, start, 3, lr=0.01, weight_decay=decay)
    for coord in (0, 1):
        fs = first_step(path, coord)
        assert fs.theta1 == pytest.approx(fs.torch_theta1, rel=1e-12, abs=1e-15)
        assert fs.theta1 != pytest.approx(fs.theta0)  # the step moved, so the check means something
        for key, value in fs.terms.items():
            want = path.state[key.removesuffix("_2")][1 if key.endswith("_2") else 0, coord].item()
            assert value == pytest.approx(want, rel=1e-12), key
        assert fs.decay == decay and fs.decoupled == (name == "adamw")
        if "momentum_buffer_2" in fs.terms:
            g2 = path.grads[1, coord].item() + decay * path.positions[1, coord].item()
            assert fs.grad_used_2 == pytest.approx(g2)


def test_decay_changes_the_gradient_used_except_in_adamw():
    sgd = first_step(optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 1, lr=1e-3, weight_decay=0.5))
    assert sgd.grad_used == pytest.approx(sgd.grad + 0.5 * -1.5)
    adamw = first_step(optimizer_path("rosenbrock", "adamw", (-1.5, 2.0), 1, lr=0.1, weight_decay=0.5))
    assert adamw.grad_used == adamw.grad and adamw.base == pytest.approx(-1.5 * (1 - 0.1 * 0.5))


def test_first_adam_step_is_lr_times_the_gradients_sign():
    fs = first_step(optimizer_path("bowl", "adam", (-4.5, 2.0), 1, lr=0.3))
    assert fs.terms["m_hat"] == pytest.approx(fs.grad) and fs.terms["v_hat"] == pytest.approx(fs.grad**2)
    assert fs.theta1 - fs.theta0 == pytest.approx(0.3, rel=1e-6)  # g < 0 at x = -4.5: one lr to the right


def test_no_steps_gives_none():
    assert first_step(optimizer_path("bowl", "sgd", (-4.5, 2.0), 0, lr=0.1)) is None
