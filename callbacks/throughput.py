"""Lightning's ThroughputMonitor, configured for byte windows (so it can come from YAML)."""

from __future__ import annotations

from lightning.pytorch.callbacks import ThroughputMonitor


def _windows(batch: dict) -> int:
    return batch["ids"].shape[0]


def _bytes(batch: dict) -> int:
    return batch["ids"].numel()  # every input position of every window: prefix + stream


class ByteThroughputMonitor(ThroughputMonitor):
    """Logs samples/s (windows), items/s (input bytes), FLOPs/s from the module's
    ``flops_per_batch``, and MFU only where Lightning knows the chip's peak (never on CPU)."""

    def __init__(self, window_size: int = 50):
        super().__init__(batch_size_fn=_windows, length_fn=_bytes, window_size=window_size)
