"""The returned files of a campaign -> docs/results/gpu_published.md.

    python scripts/gpu_campaign.py --publish RETURNED_DIR [--page docs/results/gpu_published.md]

The tables are drawn again from the returned archive's event files (unpacked beside it into
``RETURNED_DIR/sweep``, a sweep folder ``holozero report`` also reads), not copied from the
campaign's markdown; the device, probe, tests and run facts come from ``campaign.json``.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from . import results


def publish(returned: Path, page: Path) -> Path:
    data_path = returned / "campaign.json"
    if not data_path.is_file():
        raise SystemExit(f"gpu_campaign --publish: {data_path} does not exist (the folder the run returned)")
    data = json.loads(data_path.read_text())
    archive = returned / "runs.tar.gz"
    if archive.is_file():
        with tarfile.open(archive) as tar:
            tar.extractall(returned, filter="data")  # -> returned/sweep/{spec.yaml,runs/...}
        data["table"] = results.table(returned / "sweep")
    c = data["campaign"]
    head = [
        "# The published table on a lent GPU (issue #29)",
        "",
        "Produced by one call of `scripts/gpu_campaign.py` (docs/gpu_campaign.md) and turned into this page by",
        f"`python scripts/gpu_campaign.py --publish DIR`. Campaign started {c['started']}; settings `{c['settings']}`;",
        "the full sweep report: `holozero report DIR/sweep` on the returned archive.",
        "",
    ]
    body = results.markdown(data).split("\n", 1)[1]  # its own title replaced by this page's
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(head) + body)
    return page
