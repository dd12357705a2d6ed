"""Built-in gates, one file each; every module here registers itself on import (a new gate is one new file)."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
