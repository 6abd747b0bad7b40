"""Input doors (DESIGN.md §2): byte ids -> model-width vectors, all with the same interface.

``DOORS`` maps each door class's name to the class; ``PRESETS`` maps every arm's name (the
classes, and the channel ablations, which are presets of ``ZeroGroupsDoor``) to what builds
it. ``build_door("zero_no_phase", K=8, dim=512)`` builds any arm by name; a sweep or a YAML
file names the same arm by ``class_path`` + ``init_args`` (``PRESETS[name].config()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..features import BASE_GROUPS
from .base import Door
from .codes import AffineBinaryCodesDoor, BinaryCodesDoor, OneHotDoor, RawBitsDoor
from .hsl import HSLProjDoor, LearnedValueDoor, PermutedDoor, RandomDoor, ZeroDoor, ZeroGroupsDoor
from .learned import ByteEmbedDoor, HashNgramDoor

DOORS: dict[str, type[Door]] = {
    cls.name: cls
    for cls in (
        ZeroDoor,
        HSLProjDoor,
        ByteEmbedDoor,
        HashNgramDoor,
        RawBitsDoor,
        OneHotDoor,
        RandomDoor,
        PermutedDoor,
        LearnedValueDoor,
        BinaryCodesDoor,
        AffineBinaryCodesDoor,
        ZeroGroupsDoor,
    )
}


@dataclass(frozen=True)
class DoorPreset:
    """A door class and the arguments that make one arm of it."""

    cls: type[Door]
    init_args: dict = field(default_factory=dict)

    def __call__(self, **kwargs) -> Door:
        return self.cls(**(self.init_args | kwargs))

    def config(self) -> dict:
        """The ``model.door`` entry of a config: ``class_path`` and ``init_args``."""
        out = {"class_path": f"holozero.doors.{self.cls.__name__}"}
        return out | ({"init_args": dict(self.init_args)} if self.init_args else {})


def _without(group: str) -> list[str]:
    return [g for g in BASE_GROUPS if g != group]


# Channel ablations of the zero door: the zero door restricted to these feature groups.
ABLATIONS: dict[str, list[str]] = {
    "zero_no_dxor": _without("dxor"),
    "zero_no_d2xor": _without("d2xor"),
    "zero_no_boundary": _without("boundary"),
    "zero_no_fourier": _without("fourier"),
    "zero_no_phase": _without("phase"),
    "zero_value_only": ["dxor", "fourier", "phase"],
    "zero_context_only": ["d2xor", "boundary"],
}

# hash_ngram at its default 4096 buckets per n-gram size holds ~48x byte_embed's learned input
# parameters (6.3M at dim 448, K=8: about 1.5x the CPU map's body). Its parameter-matched arm
# separates "hashing helps" from "millions more parameters help": 86 buckets for each of the 3
# sizes make its hash tables 258 rows, as many as byte_embed's whole table (259 rows), so at any
# dim and K the hashing adds what byte_embed has, no more.
MATCHED_HASH_BUCKETS = 86

PRESETS: dict[str, DoorPreset] = (
    {name: DoorPreset(cls) for name, cls in DOORS.items()}
    | {name: DoorPreset(ZeroGroupsDoor, {"groups": groups}) for name, groups in ABLATIONS.items()}
    | {"hash_ngram_matched": DoorPreset(HashNgramDoor, {"buckets": MATCHED_HASH_BUCKETS})}
)


def build_door(name: str, **kwargs) -> Door:
    """The arm ``name`` (any key of ``PRESETS``) with these arguments (K, dim, tail, ...)."""
    if name not in PRESETS:
        raise ValueError(f"unknown door {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name](**kwargs)


__all__ = ["ABLATIONS", "DOORS", "PRESETS", "Door", "DoorPreset", "build_door"] + sorted(
    cls.__name__ for cls in DOORS.values()
)
