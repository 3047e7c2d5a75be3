"""The list of built pages: app.py routes it, the home page links into it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page of the app; title and section are translation keys."""

    path: str  # script under app_pages/, named after the concept (core/<name>.py, lab/views/<name>.py)
    title: str  # translation key of its title
    icon: str
    section: str  # translation key of its sidebar group
    url_path: str  # stable deep link, e.g. /convolution: links in the wild use it, so it never follows a file rename


HOME = "home"  # the home page's url path: served at / (the default page), and /home opens it too
PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/home.py", "nav.home", ":material/home:", "nav.sec_start", "home"),
    PageSpec("app_pages/image_tensor.py", "nav.image_tensor", ":material/image:", "nav.sec_basics", "image_tensor"),
    PageSpec("app_pages/dataset.py", "nav.dataset", ":material/dataset:", "nav.sec_basics", "dataset"),
    PageSpec("app_pages/model_building.py", "nav.model_building", ":material/construction:", "nav.sec_basics",
             "model_building"),
    PageSpec("app_pages/conv.py", "nav.conv", ":material/grid_on:", "nav.sec_blocks", "convolution"),
    PageSpec("app_pages/pooling.py", "nav.pool", ":material/grid_view:", "nav.sec_blocks", "pooling"),
    PageSpec("app_pages/activations.py", "nav.activations", ":material/show_chart:", "nav.sec_blocks", "activations"),
    PageSpec("app_pages/losses.py", "nav.softmax", ":material/bar_chart:", "nav.sec_blocks", "softmax"),
    PageSpec("app_pages/autograd.py", "nav.autograd", ":material/account_tree:", "nav.sec_training", "autograd"),
    PageSpec("app_pages/optimizers.py", "nav.optimizers", ":material/speed:", "nav.sec_training", "optimizers"),
    PageSpec("app_pages/training.py", "nav.training", ":material/model_training:", "nav.sec_training", "training"),
    PageSpec("app_pages/train_eval.py", "nav.train_eval", ":material/toggle_on:", "nav.sec_training", "train_eval"),
    PageSpec("app_pages/pitfalls.py", "nav.pitfalls", ":material/bug_report:", "nav.sec_training", "pitfalls"),
    PageSpec("app_pages/model_inspect.py", "nav.inspect", ":material/biotech:", "nav.sec_training", "inspect"),
)


def page_for(url_path: str) -> PageSpec | None:
    """The built page with this url path, or None while it is not built."""
    return next((p for p in PAGES if p.url_path == url_path), None)
