"""Where a model reads the HSL door: the maths of ``holozero analyze`` and the attribution callback.

Channels enter the zero door unmixed at fixed addresses (byte k of a slot, channel c at
address k·27 + c), so the first learned layer can be read directly. Per feature group
(dxor, d2xor, boundary, fourier, phase) and per byte position in the slot, per modality:

(a) weight mass: norms of the first block's q / k / v and MLP input columns each channel
    feeds (times the LayerNorm gain in front of them); for ``hsl_proj`` the same columns
    projected through its learned input matrix. Weights are shared by the modalities.
(b) ablation: zero one group (or one slot position) at the door, Δbpb per modality with a
    95% interval over windows.
(c) gradient × input: |∂loss/∂feature · feature| summed per group / position, as shares,
    averaged over validation windows of each modality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .features import BASE_GROUPS, FEAT_DIM, GROUPS
from .losses import token_nats, window_bpb
from .segments import SEGMENTS
from .specials import NUM_BYTES
from .stats import mean_interval


def readable(net) -> bool:
    """True when the model can be read this way: a packed model behind a door that keeps the
    27-channel HSL layout at fixed addresses (``Door.hsl_layout``)."""
    return bool(getattr(net.door, "hsl_layout", False)) and net.door.feat_dim == FEAT_DIM and not net.per_byte


def _check(net) -> None:
    if not getattr(net.door, "hsl_layout", False) or net.door.feat_dim != FEAT_DIM:
        raise ValueError(f"analyze reads the 27-channel HSL layout; {type(net.door).__name__} has another layout")
    if net.per_byte:
        raise ValueError("analyze needs a packed model (per_byte=False)")


def windowed_nats(net, ids: torch.Tensor, S: int, channel_mask=None, position: int | None = None, grad: bool = False):
    """ByteModel.forward with the door's features masked: ``channel_mask`` [27] multiplies
    every position; ``position`` k zeroes byte k of every prefix slot. Returns
    (nats [B, S], targets, features) — features carry ``.grad`` when ``grad``."""
    door, C = net.door, ids.shape[1] - S
    feats = door.features(ids).detach()
    if channel_mask is not None:
        feats = feats * channel_mask.to(feats.device)
    if position is not None:
        keep = torch.ones(ids.shape[1], 1, device=feats.device)
        keep[torch.arange(position, C, door.K)] = 0
        feats = feats * keep
    feats.requires_grad_(grad)
    logits = net.body(door.slots(feats[:, :C]), door.lift_stream(feats[:, C:]))
    targets = ids[:, C:]
    return token_nats(logits, targets), targets, feats


def _bpb(nats: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    return window_bpb(nats, targets).detach().cpu().numpy()


def weight_mass(net) -> dict:
    """Mass of each channel's first-layer input columns, summed per group and per slot position."""
    block = net.body.blocks[0]
    g1 = getattr(block.norm1, "weight", None)
    g2 = getattr(block.norm2, "weight", None)
    dim = net.body.dim
    q, k, v = block.attn.qkv.weight.detach().split(dim)
    mats = {"q": q, "k": k, "v": v, "mlp": block.mlp.gate_up.weight.detach()}
    gains = {"q": g1, "k": g1, "v": g1, "mlp": g2}
    K = net.door.K
    proj = {"slot": getattr(net.door, "slot_proj", None), "stream": getattr(net.door, "stream_proj", None)}
    out = {}
    for path, width in (("slot", K * FEAT_DIM), ("stream", FEAT_DIM)):
        per_address = np.zeros(width)
        for name, W in mats.items():
            W = W * (gains[name].detach() if gains[name] is not None else 1.0)
            if proj[path] is not None:  # hsl_proj: read the HSL channels through the learned projection
                W = W @ proj[path].weight.detach()
            per_address += W[:, :width].norm(dim=0).cpu().numpy()
        channels = per_address.reshape(-1, FEAT_DIM)  # [positions, 27]
        total = channels.sum()
        out[path] = {
            "groups": {g: float(channels[:, list(GROUPS[g])].sum() / total) for g in BASE_GROUPS},
            "positions": [float(x / total) for x in channels.sum(1)] if path == "slot" else [],
        }
    return out


def analyze_windows(net, batches: dict[str, dict]) -> dict:
    """(b) ablation and (c) gradient × input for each modality's windows."""
    results = {}
    K = net.door.K
    for segment, batch in batches.items():
        ids, S = batch["ids"], batch["segment"].shape[1]
        nats, targets, feats = windowed_nats(net, ids, S, grad=True)
        base = _bpb(nats, targets)
        is_byte = targets < NUM_BYTES
        (nats * is_byte).sum().backward()
        attr = (feats.grad * feats).abs().detach().sum(0).cpu()  # [positions, 27]
        C = ids.shape[1] - S
        total = attr.sum()
        entry = {"windows": int(ids.shape[0]), "bpb": float(base.mean()), "ablation": {}, "grad_x_input": {}}
        entry["grad_x_input"]["groups"] = {g: float(attr[:, list(GROUPS[g])].sum() / total) for g in BASE_GROUPS}
        prefix = attr[:C].sum(1)
        entry["grad_x_input"]["positions"] = [
            float(prefix[k::K].sum() / max(float(prefix.sum()), 1e-30)) for k in range(K)
        ]
        entry["grad_x_input"]["prefix_share"] = float(prefix.sum() / total)
        with torch.no_grad():
            for g in BASE_GROUPS:
                mask = torch.ones(FEAT_DIM)
                mask[list(GROUPS[g])] = 0
                entry["ablation"][g] = mean_interval(_bpb(*windowed_nats(net, ids, S, channel_mask=mask)[:2]) - base)
            entry["ablation_positions"] = [
                mean_interval(_bpb(*windowed_nats(net, ids, S, position=k)[:2]) - base) for k in range(K)
            ]
        results[segment] = entry
    return results


def run(net, batches: dict[str, dict]) -> dict:
    _check(net)
    net.eval()
    device = next(net.parameters()).device
    batches = {m: {k: v.to(device) for k, v in b.items()} for m, b in batches.items()}
    with torch.inference_mode(False), torch.enable_grad():  # also when called inside a validation loop
        return {
            "door": type(net.door).__name__,
            "K": net.door.K,
            "weight_mass": weight_mass(net),
            "modalities": analyze_windows(net, batches),
        }


def heatmaps(result: dict, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mods = list(result["modalities"])
    paths = []
    for name, rows, cols, value in (
        ("group_x_modality", BASE_GROUPS, mods, lambda g, m: result["modalities"][m]["grad_x_input"]["groups"][g]),
        ("ablation_group_x_modality", BASE_GROUPS, mods, lambda g, m: result["modalities"][m]["ablation"][g]["mean"]),
        (
            "slot_x_modality",
            range(result["K"]),
            mods,
            lambda k, m: result["modalities"][m]["grad_x_input"]["positions"][k],
        ),
    ):
        grid = np.array([[value(r, c) for c in cols] for r in rows])
        fig, ax = plt.subplots(figsize=(1.5 * len(cols) + 2.5, 0.45 * len(grid) + 1.5))
        im = ax.imshow(grid, aspect="auto", cmap="magma")
        ax.set_xticks(range(len(cols)), cols)
        ax.set_yticks(range(len(grid)), [str(r) for r in rows])
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=7, color="c")
        label = {
            "group_x_modality": "grad × input share",
            "ablation_group_x_modality": "Δbpb when zeroed",
            "slot_x_modality": "grad × input share of the prefix",
        }[name]
        fig.colorbar(im, label=label)
        ax.set_title(f"{result['door']} K={result['K']}: {label}")
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def markdown(result: dict) -> str:
    mods = list(result["modalities"])
    lines = [
        f"# Reading the door: {result['door']}, K={result['K']}",
        "",
        "## (a) First-layer input weight mass (share; shared by all modalities)",
        "",
        "| group | slot path | stream path |",
        "|---|---|---|",
    ]
    wm = result["weight_mass"]
    lines += [f"| {g} | {wm['slot']['groups'][g]:.3f} | {wm['stream']['groups'][g]:.3f} |" for g in BASE_GROUPS]
    lines += [
        "",
        "Slot position shares: " + ", ".join(f"{k}: {v:.3f}" for k, v in enumerate(wm["slot"]["positions"])),
        "",
        "## (b) Ablation: Δbpb when a group is zeroed (95% interval over windows)",
        "",
        "| group | " + " | ".join(mods) + " |",
        "|---|" + "---|" * len(mods),
    ]
    for g in BASE_GROUPS:
        cells = [result["modalities"][m]["ablation"][g] for m in mods]
        lines.append(
            f"| {g} | " + " | ".join(f"{c['mean']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}]" for c in cells) + " |"
        )
    lines += ["", "Slot positions zeroed:", "", "| position | " + " | ".join(mods) + " |", "|---|" + "---|" * len(mods)]
    for k in range(result["K"]):
        cells = [result["modalities"][m]["ablation_positions"][k] for m in mods]
        lines.append(
            f"| {k} | " + " | ".join(f"{c['mean']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}]" for c in cells) + " |"
        )
    lines += [
        "",
        "## (c) Gradient × input (share per group; per slot position within the prefix)",
        "",
        "| group | " + " | ".join(mods) + " |",
        "|---|" + "---|" * len(mods),
    ]
    lines += [
        f"| {g} | " + " | ".join(f"{result['modalities'][m]['grad_x_input']['groups'][g]:.3f}" for m in mods) + " |"
        for g in BASE_GROUPS
    ]
    lines += ["", "| position | " + " | ".join(mods) + " |", "|---|" + "---|" * len(mods)]
    lines += [
        f"| {k} | " + " | ".join(f"{result['modalities'][m]['grad_x_input']['positions'][k]:.3f}" for m in mods) + " |"
        for k in range(result["K"])
    ]
    lines += ["", "Windows per modality: " + ", ".join(f"{m}: {result['modalities'][m]['windows']}" for m in mods)]
    return "\n".join(lines) + "\n"


def source_batches(sources: dict, windows: int) -> dict[str, dict]:
    """Up to ``windows`` fixed validation windows of each source, keyed by modality."""
    batches = {}
    for source in sources.values():
        count = min(windows, source.fixed_count(10**12))
        parts = [source.fixed(i, count) for i in range(count)]
        batch = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        batches[SEGMENTS[int(batch["segment"][0, 0])]] = batch
    return batches
