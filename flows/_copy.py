"""Node copies: ``copy.copy`` semantics, about three times faster for ordinary node classes."""

import copy
import copyreg
from typing import Any

_plain_classes: dict[type, bool] = {}
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
_OBJECT = vars(object)


def _is_plain(cls: type) -> bool:
    """True when copy.copy(obj) would just copy obj.__dict__ into cls.__new__(cls)."""
    return (
        getattr(cls, "__copy__", None) is None
        and getattr(cls, "__setstate__", None) is None
        and getattr(cls, "__getnewargs__", None) is None
        and getattr(cls, "__getnewargs_ex__", None) is None
        and all(
            getattr(cls, m) is _OBJECT[m] for m in ("__reduce_ex__", "__reduce__", "__getstate__")
        )
        and cls not in copyreg.dispatch_table
        # builtin bases (dict, list...) copy their contents too; class statements make heap types
        and all(k is object or k.__flags__ & _HEAPTYPE for k in cls.__mro__)
        and not any("__slots__" in vars(k) for k in cls.__mro__)
    )


def copy_node(node: Any) -> Any:
    """copy.copy(node) (None stays None), skipping copy's dispatch for plain classes."""
    if node is None:
        return None
    cls: Any = type(node)
    plain = _plain_classes.get(cls)
    if plain is None:
        plain = _plain_classes[cls] = _is_plain(cls)
    if not plain:
        return copy.copy(node)
    new = cls.__new__(cls)
    new.__dict__.update(node.__dict__)
    return new
