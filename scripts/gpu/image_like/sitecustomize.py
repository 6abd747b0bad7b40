"""The dry run's stand-in for the GPU image: on PYTHONPATH, Python imports this at start-up.

Every installed distribution that is neither on the image (its closure) nor in the bundle is
made absent, as it is there: the path finder does not find its modules (``find_spec`` answers
None, an import raises ModuleNotFoundError) and ``importlib.metadata`` does not list it, so
optional imports, whether guarded by ``find_spec``, a metadata check (Lightning's
``RequirementCache``) or ``try: import``, take the path they take on the image. The list is
computed once by scripts/gpu/bundle.py and passed as HOLOZERO_IMAGE_LIKE (JSON).
"""

import importlib.machinery
import json
import os
import re
import sys

_SPEC = json.loads(os.environ.get("HOLOZERO_IMAGE_LIKE") or '{"modules": [], "dists": []}')
BLOCKED, DISTS = frozenset(_SPEC["modules"]), frozenset(_SPEC["dists"])
_PathFinder = importlib.machinery.PathFinder
_find_spec, _find_distributions = _PathFinder.find_spec, _PathFinder.find_distributions


def _find_present_spec(cls, fullname, path=None, target=None):
    if fullname.split(".")[0] in BLOCKED:
        return None  # as on the image: find_spec answers None, an import raises ModuleNotFoundError
    return _find_spec(fullname, path, target)


def _present_distributions(*args, **kwargs):
    for dist in _find_distributions(*args, **kwargs):
        if re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower() not in DISTS:
            yield dist


_PathFinder.find_spec = classmethod(_find_present_spec)
_PathFinder.find_distributions = staticmethod(_present_distributions)

# With HOLOZERO_IMAGE_LIKE_LOG set (tests/test_gpu_campaign.py), every process of the dry run
# appends the top-level modules it imported after start-up (what the machine's own .pth files
# import before this file runs is not the run's), so a test can check that each one's
# distribution is on the image or in the bundle.
_LOG = os.environ.get("HOLOZERO_IMAGE_LIKE_LOG")
if _LOG:
    _AT_START = {m.split(".")[0] for m in list(sys.modules)}

    def _record_imports():
        with open(_LOG, "a") as f:
            f.write(" ".join(sorted({m.split(".")[0] for m in list(sys.modules)} - _AT_START)) + "\n")

    __import__("atexit").register(_record_imports)
