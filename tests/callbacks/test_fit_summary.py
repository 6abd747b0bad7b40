"""FitSummary: the lines ``holozero fit`` ends with, read from a trainer's validation figures."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from callbacks.fit_summary import FitSummary


def _validate(summary: FitSummary, step: int, figures: dict) -> None:
    trainer = SimpleNamespace(
        sanity_checking=False,
        global_step=step,
        callback_metrics={f"val/{k}": torch.tensor(v) for k, v in figures.items()},
    )
    summary.on_validation_end(trainer, None)


def test_each_modality_gap_has_a_row_when_no_item_has_both():
    """Data with image and speech items but none with both: the headline (both swapped) is n/a,
    and the summary still shows the gap of each modality, best = largest."""
    summary = FitSummary()
    _validate(summary, 160, {"caption_bpb": 1.2, "binding_gap/audio": 0.05, "binding_gap/frame": 0.02})
    _validate(summary, 320, {"caption_bpb": 0.9, "binding_gap/audio": 0.04, "binding_gap/frame": 0.07})
    text = summary.text(SimpleNamespace(global_step=320, checkpoint_callback=None))
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[2:]}
    assert rows["binding_gap/audio"] == ["0.0500", "(", "160)", "0.0400", "(", "320)"]
    assert rows["binding_gap/frame"] == ["0.0700", "(", "320)", "0.0700", "(", "320)"]
    assert rows["caption_bpb"][:3] == ["0.9000", "(", "320)"] and "binding_gap" not in rows
