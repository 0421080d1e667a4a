"""talon's regex and HTML parts, loaded without talon's package __init__.

`import talon` runs talon/__init__.py, which imports `talon.signature` and with it talon's
machine-learning classifier and scikit-learn/scipy: about 0.9 s and 60 MB per process, for a
model that does not even load on current scikit-learn (`sklearn.externals.joblib` is gone),
so talon swallows the ImportError and leaves ML disabled. mailgate uses only
`talon.quotations` (HTML quote cutting) and `talon.signature.bruteforce` (regex signatures),
neither of which needs that. So the two packages are registered as bare namespaces (their
__path__ only) and the submodules load alone. Every process that cleans text (the daemon,
each import worker, `mailgate deliver` without a daemon) starts that much faster.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any


@functools.cache
def _bare_packages() -> None:
    if "talon" in sys.modules:  # imported the normal way already (by a user's plugin): use it
        return
    spec = importlib.util.find_spec("talon")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("talon is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    for name, folder in (("talon", root), ("talon.signature", root / "signature")):
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        module.__package__ = name
        sys.modules[name] = module
    sys.modules["talon"].signature = sys.modules["talon.signature"]  # type: ignore[attr-defined]


def talon_module(name: str) -> Any:
    """`talon.quotations` or `talon.signature.bruteforce` (any talon submodule by name)."""
    _bare_packages()
    return importlib.import_module(name)
