"""``holozero evaluate`` with the network on a chosen device (same arguments, same JSON and table).

    python scripts/gpu/evaluate_on_device.py --device cuda --ckpt_path CKPT --no_progress --out run/evaluate.json

``holozero evaluate`` scores on the CPU only (``load_net`` leaves the net there and the
scoring follows the net's device): a whole test split under a ~25M body is minutes on CPU
cores shared by several runs and about a second on the GPU. This runs the command itself,
with the loaded net moved to ``--device``; scoring stays float32 (no autocast: the reported
bpb is scored in fp32, DESIGN.md §6). A ``--device`` option of ``holozero evaluate`` would
make this file unnecessary.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str]) -> None:
    device = "cpu"
    if argv[:1] == ["--device"]:
        device, argv = argv[1], argv[2:]
    import holozero.commands.loading as loading
    from holozero.commands import evaluate
    from holozero.commands.errors import user_errors

    load_net = loading.load_net

    def load_net_on_device(*args, **kwargs):
        net, layout = load_net(*args, **kwargs)
        return net.to(device), layout

    loading.load_net = load_net_on_device  # evaluate.main imports it from the module when it runs
    with user_errors("holozero evaluate"):
        evaluate.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
