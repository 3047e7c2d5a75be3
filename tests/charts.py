"""Reading Plotly figures out of AppTest runs (shared by the page tests)."""
from __future__ import annotations

import base64
import json

import numpy as np


def figures(at) -> list[dict]:
    """Every Plotly chart of the run, as its figure JSON."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(v) -> np.ndarray:
    """A Plotly array from the figure JSON: a plain list, or {"dtype", "bdata", "shape"} (base64 typed arrays)."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return arr.reshape([int(d) for d in str(v["shape"]).split(",")]) if "shape" in v else arr
    return np.asarray(v, dtype=float)
