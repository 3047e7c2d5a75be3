"""Every toggle, slider and number box of every page pushed to its ends, one after another (AppTest, English):
no exception, ever. It found a real crash (two identical charts when the loader does not shuffle). Select boxes are
left out: AppTest can only set them by their translated labels, which it then formats again."""
import pytest

from conftest import run_app
from lab.nav import PAGES

pytestmark = [pytest.mark.usefixtures("fresh_manager"), pytest.mark.slow]  # every control of every page
MAX_CHANGES = 40  # per page: enough to reach every control's ends, bounded in time


def changes(at):
    """(widget kind, key, value) for the ends of every keyed control the page shows now."""
    out = []
    for kind in ("toggle", "checkbox"):
        out += [(kind, w.key, not w.value) for w in getattr(at, kind) if w.key and not w.disabled]
    for w in at.slider:
        if w.key and not w.disabled and not isinstance(w.value, tuple):
            out += [("slider", w.key, w.max), ("slider", w.key, w.min)]
    for w in at.number_input:
        if w.key and not w.disabled and w.min is not None and w.max is not None:
            out += [("number_input", w.key, w.max), ("number_input", w.key, w.min)]
    return out[:MAX_CHANGES]


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_control_to_its_ends_never_raises(spec):
    at = run_app("en", spec.path, timeout=120)
    assert not at.exception
    for kind, key, value in changes(at):
        widgets = [w for w in getattr(at, kind) if w.key == key]
        if not widgets or widgets[0].disabled:
            continue  # gone or disabled after an earlier change
        widgets[0].set_value(value).run()
        assert not at.exception, (spec.url_path, kind, key, value, [e.value for e in at.exception])
