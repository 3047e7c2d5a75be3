"""Page-specific drawing (shell): lab/views/<page>.py builds the figures and panels of app_pages/<page>.py from core's
numbers. A page reads its controls, calls core, and hands the results to its view; no maths here, no widgets either
(those live in lab/ui.py), and no caches (lab/cache.py)."""
