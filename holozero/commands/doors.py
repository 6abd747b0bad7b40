"""``holozero doors [--K 8] [--dim 512]``: every input door arm, its class, what it is and its
learned input parameters at that K and width.

    holozero doors                  # at K=8, dim=512 (the published recipe)
    holozero doors --K 1 --dim 256

The arms are ``holozero.doors.PRESETS``: the names a sweep's ``door:`` axis and
``build_door(name, K=..., dim=...)`` take. Each door is built at the given K and dim to count
its parameters, so a fixed door whose K·feat_dim does not fit in dim says so instead.
"""

from __future__ import annotations

import argparse
import re

from .args import CommandParser


def what_it_is(preset) -> str:
    """The first sentence of the door class's docstring; for a preset with arguments, those."""
    if preset.init_args:
        args = ", ".join(f"{k}={v!r}" for k, v in preset.init_args.items())
        return f"the zero door restricted to {args}" if "groups" in preset.init_args else args
    doc = " ".join((preset.cls.__doc__ or "").split()).replace("``", "")
    return re.split(r"(?<!e\.g)\. ", doc, maxsplit=1)[0].rstrip(".")


def rows(K: int, dim: int) -> list[tuple[str, str, str, str]]:
    """(arm, class, learned input parameters at K and dim, what it is) for every preset."""
    from holozero.doors import PRESETS

    out = []
    for name, preset in PRESETS.items():
        try:
            params = f"{preset(K=K, dim=dim).learned_parameters:,}"
        except ValueError as e:  # a fixed door wider than dim (K·feat_dim > dim): which K fits instead
            params = f"does not fit ({str(e).rsplit('; ', 1)[-1]})"
        out.append((name, preset.cls.__name__, params, what_it_is(preset)))
    return out


def table(K: int, dim: int) -> str:
    found = rows(K, dim)
    head = ("arm", "class", "learned input params", "what it is")
    widths = [max(len(r[i]) for r in [head, *found]) for i in range(3)]
    fmt = lambda r: "  " + "  ".join(f"{c:<{w}}" for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]  # noqa: E731
    lines = [f"holozero doors: {len(found)} arms at K={K}, dim={dim}", fmt(head)]
    return "\n".join(lines + [fmt(r) for r in found])


def main(argv: list[str] | None = None) -> None:
    p = CommandParser(prog="holozero doors", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--K", type=int, default=8, help="bytes per slot (default: 8)")
    p.add_argument("--dim", type=int, default=512, help="the body's width (default: 512)")
    args = p.parse_args(argv)
    for flag in ("K", "dim"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag} must be ≥ 1, got {getattr(args, flag)}")
    print(table(args.K, args.dim))
