"""holozero: byte-level transformers behind a zero-parameter HSL input door, and its controls.

from holozero.features import hsl_features       # ids [..., L] -> [..., L, 27]
from holozero.doors import DOORS                  # name -> door class
from holozero import ZeroInput, zero_input        # the seed package's API (holozero/seed_api.py)
"""

__version__ = "0.1.0"

# Imported on first access, so `import holozero` (and `holozero --help`) stays free of torch.
_LAZY = ("ZeroInput", "zero_input")
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        from . import seed_api

        value = getattr(seed_api, name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'holozero' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
