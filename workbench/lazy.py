"""Names a package imports on first use (PEP 562), so a command loads only the libraries it needs.

>>> getattr_, dir_ = lazy_names("workbench.demo", {"sqrt": "math"}, ["sqrt"], {})
>>> getattr_("sqrt")(9.0)
3.0
"""

from __future__ import annotations

from importlib import import_module


def lazy_names(package: str, homes: dict, public: list, namespace: dict):
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``, whose names live in ``homes``.

    ``homes`` maps each name to the module that defines it; the first access
    imports that module and keeps the value in ``namespace`` (the package's
    ``globals()``), so later accesses cost nothing. ``public`` is its ``__all__``.
    """

    def __getattr__(name: str):
        if name in homes:
            value = getattr(import_module(homes[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
