"""The decoder body (plain nn.Module), door + body as one module, and the LightningModule.

``ByteLM`` (the LightningModule) is imported on first use, so loading or exporting a model
(``ByteModel``) never imports Lightning.
"""

from .byte_model import ByteModel
from .decoder import Decoder

__all__ = ["ByteLM", "ByteModel", "Decoder"]


def __getattr__(name: str):
    if name == "ByteLM":
        from .byte_lm import ByteLM

        return ByteLM
    raise AttributeError(f"module 'models' has no attribute {name!r}")
