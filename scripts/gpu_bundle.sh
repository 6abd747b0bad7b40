#!/usr/bin/env bash
# The GPU campaign's carried folder (git-ignored): what the lent machine's image lacks, so that
# nothing is downloaded or built there (docs/gpu_campaign.md).
#
#   bash scripts/gpu_bundle.sh                  # -> gpu_bundle/ (wheels + built corpus + manifest)
#   bash scripts/gpu_bundle.sh --corpus-only D  # only the built corpus, into D (no network: tests)
#
# gpu_bundle/wheels/      the py3.12 manylinux x86_64 wheels of scripts/gpu/bundle_list.py's
#                         list (the runtime closure of holozero and pytest minus the image's,
#                         minus the corpus-build packages), pinned to the versions installed here
# gpu_bundle/corpus.tar.xz  the embedded corpus as built here (datamodules corpus/<CORPUS_VERSION>
#                         and corpus/<DEMO_VERSION>: the files the runs read; the derived byte stores are
#                         keyed by absolute path and rebuilt there in seconds)
# gpu_bundle/manifest.json  what is in it, for which Python
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
PY_TARGET=${PY_TARGET:-3.12}
LIMIT_MIB=${LIMIT_MIB:-56}  # carry limit 64 MiB with the tree; keep headroom for the tree to grow
XZ_LEVEL=${XZ_LEVEL:-6}  # the tests pack faster (1); the carried bundle is packed at 6

out=gpu_bundle
corpus_only=0
if [[ "${1:-}" == "--corpus-only" ]]; then
  corpus_only=1
  out=${2:?usage: gpu_bundle.sh --corpus-only DIR}
fi
mkdir -p "$out"

# 1. the built corpus, from a fresh private cache (deterministic: two machines build the same)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
HOLOZERO_CACHE="$build" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -c "
from datamodules.corpus import default_text_corpus
from datamodules.demo_corpus import demo_corpus
default_text_corpus(); demo_corpus()" 2>&1 | grep -v '%|' || true
# the corpus folders this checkout reads (their names carry the corpus versions)
mapfile -t holds < <(PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -c "
from datamodules.corpus import CORPUS_VERSION
from datamodules.demo_corpus import DEMO_VERSION
print(f'corpus/{CORPUS_VERSION}'); print(f'corpus/{DEMO_VERSION}')")
for held in "${holds[@]}"; do
  test -f "$build/$held/.done" || { echo "gpu_bundle: the corpus build failed (see above): no $held" >&2; exit 1; }
done
tar -C "$build" -cf - corpus | xz -"$XZ_LEVEL" -T0 > "$out/corpus.tar.xz.tmp"
mv "$out/corpus.tar.xz.tmp" "$out/corpus.tar.xz"

# 2. the wheels (the registry, no dependency resolution: the list is the whole closure)
packages=()
if [[ $corpus_only == 0 ]]; then
  mapfile -t packages < <("$PYTHON" scripts/gpu/bundle_list.py)
  rm -rf "$out/wheels" && mkdir -p "$out/wheels"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PY_TARGET" \
    --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --dest "$out/wheels" "${packages[@]}" 2>&1 | grep -v '^WARNING: Location' || true
  n=$(ls "$out/wheels"/*.whl | wc -l)
  [[ $n == "${#packages[@]}" ]] || { echo "gpu_bundle: $n wheels for ${#packages[@]} packages" >&2; exit 1; }
fi

HOLDS="${holds[*]}" "$PYTHON" - "$out" "$PY_TARGET" "${packages[@]}" <<'EOF'
import json, os, sys
from pathlib import Path
out, python, packages = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
wheels = sorted(p.name for p in (out / "wheels").glob("*.whl")) if packages else []
manifest = {"python": python, "packages": packages, "wheels": wheels, "corpus": "corpus.tar.xz",
            "corpus_holds": os.environ["HOLDS"].split()}
(out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
EOF

# 3. the size that travels: the bundle plus the working tree (tracked and untracked-not-ignored)
bundle=$(du -sb "$out" | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -bc 2>/dev/null | tail -1 | cut -f1)
total=$((bundle + tree))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "gpu_bundle: $out/ holds $(mib "$bundle") (wheels $(mib "$(du -sb "$out/wheels" 2>/dev/null | cut -f1 || echo 0)"), corpus $(mib "$(stat -c %s "$out/corpus.tar.xz")")); tree $(mib "$tree"); total $(mib "$total") of the 64 MiB carry limit"
if [[ $corpus_only == 0 ]] && (( total > LIMIT_MIB * 1048576 )); then
  echo "gpu_bundle: over the ${LIMIT_MIB} MiB kept for the carry" >&2
  exit 1
fi
