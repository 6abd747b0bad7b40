"""Installs what scripts/gpu_bundle.sh carried: the wheels into a private ``--target`` folder
(``pip install --no-index --no-deps``: nothing is resolved or downloaded there) and the built
corpus into the campaign's HOLOZERO_CACHE; returns the environment every subprocess runs in.

The bundle's ``manifest.json`` names the Python it was built for. On another interpreter (the
CPU dry run on 3.11) the wheels are still installed, for that Python, with pip's
``--python-version``/``--platform`` (so the bundle is checked complete and installable), but
the folder is not put on the path: its compiled modules are for the image's Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE_LIKE = Path(__file__).with_name("image_like")
IMPORTS = "import jsonargparse, docstring_parser, typeshed_client, soundfile, av, pyppmd, pytest, holozero"


def absent_here(with_bundle: bool = True) -> str:
    """JSON for image_like/sitecustomize.py: the distributions installed here that are neither on
    the image nor (``with_bundle``) in the bundle, and the top-level modules only they provide."""
    from importlib import metadata

    from packaging.utils import canonicalize_name

    from .bundle_list import IMAGE, bundle, closure

    allowed = set(closure(IMAGE)) | (set(bundle()) if with_bundle else set()) | {"holozero", "pip"}
    providers = metadata.packages_distributions()
    dists = {canonicalize_name(d) for ds in providers.values() for d in ds} - allowed
    modules = [m for m, ds in providers.items() if all(canonicalize_name(d) in dists for d in ds)]
    return json.dumps({"modules": sorted(modules), "dists": sorted(dists)})


def _pip(wheels: list[Path], site: Path, target_python: str | None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(site)]
    if target_python:
        cmd += ["--python-version", target_python, "--only-binary=:all:", "--implementation", "cp"]
        cmd += ["--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64"]
    return subprocess.run(cmd + [str(w) for w in wheels], capture_output=True, text=True)


def install(bundle: Path, work: Path, dry_run: bool) -> tuple[dict, dict]:
    """(facts, environment for the subprocesses)."""
    t0 = time.time()
    facts: dict = {"bundle": str(bundle)}
    env = dict(os.environ)
    env.pop("HOLOZERO_DEBUG", None)
    paths = [str(ROOT)]
    if dry_run:  # what the image lacks (and the bundle does not carry) is absent in the dry run too
        paths.insert(0, str(IMAGE_LIKE))
        env["HOLOZERO_IMAGE_LIKE"] = absent_here()
    manifest = bundle / "manifest.json"
    if not manifest.exists():
        if not dry_run:
            raise FileNotFoundError(f"no GPU bundle at {bundle} (manifest.json missing): run scripts/gpu_bundle.sh")
        facts["note"] = "no bundle: the dry run uses this machine's packages and HOLOZERO_CACHE"
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return facts, env
    meta = json.loads(manifest.read_text())
    facts["manifest"] = meta
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    foreign = meta["python"] if meta["python"] != here else None
    site = work / "site"
    if wheels:
        done = _pip(wheels, site, foreign)
        facts["pip"] = {"returncode": done.returncode, "stderr": done.stderr[-2000:]}
        if done.returncode != 0 and "No module named pip" in done.stderr:  # an image without pip
            for wheel in wheels:
                zipfile.ZipFile(wheel).extractall(site)
            facts["pip"]["fallback"] = "wheels unzipped into the target"
        elif done.returncode != 0:
            raise RuntimeError(f"pip install of the bundle failed:\n{done.stderr[-2000:]}")
    facts["wheels"] = [w.name for w in wheels]
    if foreign:
        facts["site_used"] = False
        facts["note"] = f"wheels built for Python {meta['python']}, installed as such; this is {here}: not on the path"
    elif wheels:
        facts["site_used"] = True
        paths.insert(0, str(site))
    cache = work / "cache"
    corpus = bundle / meta["corpus"]
    with tarfile.open(corpus) as tar:
        tar.extractall(cache, filter="data")
    env["HOLOZERO_CACHE"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    check = subprocess.run([sys.executable, "-c", IMPORTS], env=env, capture_output=True, text=True, cwd=work)
    facts["imports"] = {"ok": check.returncode == 0, "stderr": check.stderr[-1500:]}
    if check.returncode != 0:
        raise RuntimeError(f"after installing the bundle, `{IMPORTS}` fails:\n{check.stderr[-1500:]}")
    facts["seconds"] = time.time() - t0
    return facts, env
