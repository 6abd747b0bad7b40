"""The decoder body (plain nn.Module), door + body as one module, and the LightningModule."""

from .byte_lm import ByteLM
from .byte_model import ByteModel
from .decoder import Decoder

__all__ = ["ByteLM", "ByteModel", "Decoder"]
