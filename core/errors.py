"""Errors that carry a translation key, so a page can explain them in the user's language."""
from __future__ import annotations


class LabError(ValueError):
    """Bad input or settings. `code` is a translation key under [errors]; `params` fill its {placeholders}."""

    def __init__(self, code: str, message: str = "", **params: object) -> None:
        super().__init__(message or code)
        self.code = code
        self.params = params
