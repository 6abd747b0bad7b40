"""The GPU campaign, prepared and rehearsed on CPU (issue #29; docs/gpu_campaign.md).

    python3 scripts/gpu_campaign.py --budget-s 480 --out "$OUT"          # on a lent GPU, in one call
    python scripts/gpu_campaign.py --dry-run --budget-s 150 --out /tmp/dry  # the same path on CPU
    python scripts/gpu_campaign.py --publish RETURNED_DIR               # -> docs/results/gpu_published.md

The code is the package scripts/gpu/ (campaign.py says what each stage does).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the package scripts/gpu, and the repository's packages

from gpu.campaign import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
