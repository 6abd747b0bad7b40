"""Special ids shared by every door, data module and the output head (DESIGN.md §2).

Byte values keep their own ids 0..255. Specials live above them, so no byte value is ever
used as a separator (pixel and audio bytes take every value).
"""

import torch

NUM_BYTES = 256
SEP = 256  # segment boundary, e.g. between frame and audio in a captioned window
EOS = 257  # end of a caption / document
PAD = 258  # input only: fills the last prefix slot under tail policy "pad"; never a target
NUM_IDS = 259  # every id a door must accept
NUM_CLASSES = 258  # what the head predicts: 256 bytes, SEP, EOS (never PAD)

SPECIAL_NAMES = {SEP: "SEP", EOS: "EOS", PAD: "PAD"}


def validate_ids(ids: torch.Tensor, *, allow_specials: bool = True, name: str = "ids") -> torch.Tensor:
    """Explicit range check, kept out of every forward (it synchronises with the device).

    Returns ``ids`` unchanged so it can wrap an expression. Raises ``TypeError`` for a
    non-integer tensor and ``ValueError`` naming the offending value and position otherwise.
    """
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of integer ids, got {type(ids).__name__}")
    if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer ids, got dtype {ids.dtype}")
    if ids.dim() == 0:
        raise ValueError(f"{name} needs a length dimension: shape [..., L], got a scalar")
    upper = NUM_IDS - 1 if allow_specials else NUM_BYTES - 1
    if ids.numel():
        bad = (ids < 0) | (ids > upper)
        if bool(bad.any()):
            pos = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"{name} must be in 0..{upper} ({'bytes and SEP/EOS/PAD' if allow_specials else 'bytes only'}); "
                f"found {int(ids[pos])} at index {pos}"
            )
    return ids
