"""Routes: the (method, path pattern) -> handler table each fake API answers a request through."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .server import HttpError

Handler = Callable[..., tuple[int, Any]]


class Routes:
    """The first route whose method and whole path match wins, so the table's order matters."""

    def __init__(self, table: list[tuple[str, str, Handler]], not_found: str) -> None:
        self._table = [(method, re.compile(f"^{path}$"), fn) for method, path, fn in table]
        self._not_found = not_found  # each forge words its 404 its own way

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """The handler and the path's named groups (URL-decoded); HttpError 404 when none matches."""
        for verb, pattern, fn in self._table:
            m = pattern.match(path)
            if m and verb == method:
                return fn, {k: unquote(v) for k, v in m.groupdict().items()}
        raise HttpError(404, self._not_found)
