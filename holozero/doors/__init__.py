"""Input doors (DESIGN.md §2): byte ids -> model-width vectors, all with the same interface.

``DOORS`` maps each arm's name to its class; build one with ``DOORS[name](K=8, dim=512)``.
"""

from .base import Door
from .codes import AffineBinaryCodesDoor, BinaryCodesDoor, OneHotDoor, RawBitsDoor
from .hsl import (
    HSLProjDoor,
    LearnedValueDoor,
    PermutedDoor,
    RandomDoor,
    ZeroContextOnlyDoor,
    ZeroDoor,
    ZeroGroupsDoor,
    ZeroNoBoundaryDoor,
    ZeroNoD2xorDoor,
    ZeroNoDxorDoor,
    ZeroNoFourierDoor,
    ZeroNoPhaseDoor,
    ZeroValueOnlyDoor,
)
from .learned import ByteEmbedDoor

DOORS: dict[str, type[Door]] = {
    cls.name: cls
    for cls in (
        ZeroDoor,
        HSLProjDoor,
        ByteEmbedDoor,
        RawBitsDoor,
        OneHotDoor,
        RandomDoor,
        PermutedDoor,
        LearnedValueDoor,
        BinaryCodesDoor,
        AffineBinaryCodesDoor,
        ZeroGroupsDoor,
        ZeroNoDxorDoor,
        ZeroNoD2xorDoor,
        ZeroNoBoundaryDoor,
        ZeroNoFourierDoor,
        ZeroNoPhaseDoor,
        ZeroValueOnlyDoor,
        ZeroContextOnlyDoor,
    )
}

__all__ = ["DOORS", "Door"] + sorted(cls.__name__ for cls in DOORS.values())
