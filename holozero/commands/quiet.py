"""Known noise, silenced where it is made: lines every run printed that say nothing about it.

Only exact, known messages are filtered; any other warning still shows.
"""

from __future__ import annotations

import logging
import warnings

# Lightning's advertisement for its cloud logger, printed by every Trainer
LIGHTNING_TIPS = ("💡 Tip: For seamless cloud logging",)


class DropLines(logging.Filter):
    def __init__(self, starts: tuple[str, ...]):
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def quiet_known_noise() -> None:
    # torch 2.11 deprecates `isinstance(x, LeafSpec)`, which Lightning 2.6's pytree helper
    # still calls on every loop start; nothing we (or a user) can change
    leafspec = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
    warnings.filterwarnings("ignore", message=leafspec, category=FutureWarning)
    # holozero.commands.main(args) hands LightningCLI its arguments on purpose (tests, scripts)
    both = r"LightningCLI's args parameter is intended to run from within Python"
    warnings.filterwarnings("ignore", message=both)
    # under DDP Lightning recommends sync_dist for every epoch-level value logged unsynced; these
    # need none: the binding gap is summed over processes before it is logged (callbacks/binding.py)
    # and peak memory is each process's own (a mean over processes would be no one's peak)
    synced = r"It is recommended to use `self.log\('(system/peak_memory_mb|(val|test)/binding_gap[^']*)'"
    warnings.filterwarnings("ignore", message=synced)
    # jsonargparse deprecations of the calls Lightning's CLI makes into it
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"lightning\.pytorch\.cli")
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")  # the logger of rank_zero_info
    if not any(isinstance(f, DropLines) for f in logger.filters):
        logger.addFilter(DropLines(LIGHTNING_TIPS))
