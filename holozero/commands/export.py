"""``holozero export --ckpt_path CKPT --out DIR``: a trained run as a folder to share (safetensors
weights, config, model card). Anyone loads it with ``ByteModel.from_pretrained(DIR)`` or
``holozero generate --model DIR`` (or from the Hub, after ``--push_to_hub USER/NAME``):

    model.safetensors     the network's state dict: weights only, nothing to unpickle
    config.json           door and body (class path + init args), K, the model's own arguments,
                          the special ids, the training window layout, the format version
    README.md             a model card from the run: door, learned input parameters, data, steps,
                          val and test bpb per segment and the binding gap (the run's TensorBoard
                          events), the whole-split bpb and floors of ``holozero evaluate`` of this
                          checkpoint's step when the run holds them, the config, the license
    training_config.yaml  the run's config.yaml, when it is beside the checkpoint

The folder is loaded back and compared tensor by tensor before the command returns.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from .args import CommandParser
from .runs import run_dir_of

OWN_FILES = ("model.safetensors", "config.json", "README.md", "training_config.yaml")
# The figures a card reports: overall and per-segment bpb, the binding gap and its variants.
RESULT_TAG = re.compile(r"^(val|test)/(bpb|\w+_bpb|binding_gap(/(both|audio|frame))?)$")


def results(ckpt: Path, step: int) -> tuple[dict[str, float], list[Path]]:
    """({tag: value}, event folders read): the run's val and test figures at or before the
    checkpoint's step (``holozero test`` of a checkpoint logs into its run's own folder)."""
    from .events import read_scalars

    run = run_dir_of(ckpt)
    if not any(run.glob("events.out.tfevents.*")):
        return {}, []
    found = {}
    for tag, series in read_scalars(run).items():
        upto = [v for s, v in series if s <= step]
        if RESULT_TAG.match(tag) and upto:
            found[tag] = upto[-1]
    return found, [run]


def results_section(figures: dict[str, float], read: list[Path], step: int) -> str:
    if not figures:
        where = ", ".join(str(p) for p in read) or "none beside the checkpoint"
        return f"## Results\n\nNo val/test figures in the run's TensorBoard events ({where})."
    columns = sorted({t.split("/", 1)[1] for t in figures}, key=lambda c: (c != "bpb", "gap" in c, c))
    header = "| split | " + " | ".join(c.replace("_bpb", " bpb").replace("_", " ") for c in columns) + " |"
    rows = [header, "|---" * (len(columns) + 1) + "|"]
    for stage in ("val", "test"):
        if any(t.startswith(stage + "/") for t in figures):
            cells = [f"{figures[f'{stage}/{c}']:.4f}" if f"{stage}/{c}" in figures else "–" for c in columns]
            rows.append(f"| {stage} | " + " | ".join(cells) + " |")
    note = (
        f"Bits per byte (bytes only: SEP/EOS not counted), overall and per segment; val at the checkpoint's step {step}"
    )
    note += (
        ", test from the latest `holozero test` logged for this run."
        if any(t.startswith("test/") for t in figures)
        else "."
    )
    if any("binding_gap" in c for c in columns):
        note += " Binding gap: caption bpb with another item's conditioning minus caption bpb with its own."
    note += " Read from the TensorBoard events in " + ", ".join(f"`{p.name}`" for p in read) + "."
    return "## Results\n\n" + "\n".join(rows) + "\n\n" + note


def evaluate_section(ckpt: Path, step: int) -> str | None:
    """The ``holozero evaluate`` reports of this checkpoint's step in its run folder (the figure
    to report: every byte of a split scored once), beside their compressor floors; None when
    the run holds none."""
    from .evaluate import table
    from .evaluations import evaluations

    found = evaluations(run_dir_of(ckpt), step)
    if not found:
        return None
    parts = ["## Whole-split evaluation"]
    for path, report in found:
        parts.append(
            f"`holozero evaluate` of the {report.get('split', '?')} split at step {step} (`{path.name}`): every byte "
            "of the split scored exactly once by sliding windows, in bits per byte, beside the floors of zlib -9, "
            "bz2 -9, xz -9e and PPMd (order 6) on the same bytes.\n\n" + table(report)
        )
    return "\n\n".join(parts)


def data_paths(node) -> list[str]:
    """Every value under a ``path`` / ``paths`` key of a config section, in order."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("path", "paths") and value is not None:
                found += [str(v) for v in (value if isinstance(value, list) else [value])]
            else:
                found += data_paths(value)
    elif isinstance(node, list):
        for value in node:
            found += data_paths(value)
    return found


def run_section(ckpt: Path, step: int, config_text: str | None) -> str:
    import yaml

    saved = yaml.safe_load(config_text) if config_text else {}
    data = saved.get("data") or {}
    rows = [
        f"| checkpoint | `{ckpt.name}` of `{run_dir_of(ckpt).name}` |",
        f"| optimizer steps | {step:,} |",
        f"| seed | {saved.get('seed_everything', 'not recorded')} |",
        f"| data | `{data.get('class_path', 'not recorded')}` |",
    ]
    paths = data_paths(data.get("init_args") or {})
    if paths:
        rows.append("| data paths | " + ", ".join(f"`{p}`" for p in paths) + " |")
    text = "## Training run\n\n| | |\n|---|---|\n" + "\n".join(rows)
    if config_text:
        text += (
            "\n\nTrained by `holozero fit --config training_config.yaml`, the run's resolved config:\n\n"
            f"<details><summary>training_config.yaml</summary>\n\n```yaml\n{config_text.rstrip()}\n```\n\n</details>"
        )
    else:
        text += "\n\nThe run's config.yaml was not beside the checkpoint: the training command is not recorded."
    return text


def prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"--out {out} is not empty; choose a new folder or pass --overwrite")
        for name in OWN_FILES:  # only what an export writes: a stale card would otherwise survive
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def export(ckpt_path: str | Path, out: str | Path, license: str = "mit", overwrite: bool = False) -> Path:
    import torch

    from models.byte_model import ByteModel

    from .loading import net_from_checkpoint

    ckpt, out = Path(ckpt_path), Path(out)
    prepare_out(out, overwrite)
    net, saved = net_from_checkpoint(ckpt)
    step = int(saved.get("global_step", 0))
    config_file = run_dir_of(ckpt) / "config.yaml"
    config_text = config_file.read_text() if config_file.is_file() else None
    figures, read = results(ckpt, step)
    sections = [run_section(ckpt, step, config_text), results_section(figures, read, step)]
    sections += [text for text in [evaluate_section(ckpt, step)] if text]
    net.save_pretrained(out, model_card_kwargs={"sections": sections, "license": license})
    if config_text:
        (out / "training_config.yaml").write_text(config_text)
    loaded = ByteModel.from_pretrained(out).state_dict()
    for key, value in net.state_dict().items():  # what a user will load is what was trained, bit for bit
        if not torch.equal(loaded[key], value):
            raise RuntimeError(f"export check failed: {key} differs after loading {out} back")
    return out


def push(out: Path, repo_id: str, private: bool) -> str:
    """Upload the exported folder as it is (its card included) to a Hub model repo."""
    from huggingface_hub import HfApi

    api = HfApi()
    repo_id = api.create_repo(repo_id=repo_id, private=private, exist_ok=True).repo_id
    commit = api.upload_folder(repo_id=repo_id, folder_path=out, commit_message="holozero export")
    return str(getattr(commit, "commit_url", commit))


def main(argv: list[str] | None = None) -> None:
    p = CommandParser(prog="holozero export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt_path", required=True, help="a checkpoint written by holozero fit")
    p.add_argument("--out", required=True, help="the folder to write (new or empty)")
    p.add_argument("--license", default="mit", help="the card's license field: the weights' terms (default: mit)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export in --out")
    p.add_argument("--push_to_hub", metavar="REPO_ID", help="then upload the folder to this Hub model repo")
    p.add_argument("--private", action="store_true", help="create the Hub repo private")
    args = p.parse_args(argv)  # everything heavy is imported after this: --help starts at once
    out = export(args.ckpt_path, args.out, args.license, args.overwrite)
    print(f"holozero export: {', '.join(n for n in OWN_FILES if (out / n).exists())} in {out}")
    if args.push_to_hub:
        print(f"holozero export: pushed to {push(out, args.push_to_hub, args.private)}")
