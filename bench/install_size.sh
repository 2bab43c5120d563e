#!/usr/bin/env bash
# What the README's enhance command installs and how long it takes on a fresh environment.
#
#     bash bench/install_size.sh [GIT_REF]       # default: the working tree
#
# Copies the package at GIT_REF (or the working tree) into a temporary folder, makes a fresh
# virtual environment there and runs the README's first command in it, timed:
#     pip install torch==2.13.0 -e . && lowlight enhance samples/dark -o runs/enhanced
# then reports, for what pip installed besides PyTorch (whose CPU build is the same either way):
# the packages, their wheels' size (pip download of exactly those versions) and their installed
# size (site-packages, torch and its own dependencies counted apart). pip's cache is disabled so a
# second run measures the same work as the first.
set -euo pipefail
ref="${1:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -n "$ref" ]]; then
  git -C "$root" archive "$ref" | tar -x -C "$work"
else
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work")
fi
cd "$work"
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
start=$(date +%s.%N)
python3 -m venv .venv && . .venv/bin/activate && pip install -q torch==2.13.0 -e . \
  && lowlight enhance samples/dark -o runs/enhanced -q
end=$(date +%s.%N)
site="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# torch and what torch itself requires (sympy, networkx, jinja2, ...) are the same in every variant.
torch_deps="$(python - <<'EOF'
from importlib.metadata import requires
import re
names = {"torch"}
for r in requires("torch") or []:
    if "extra ==" not in r:
        names.add(re.split(r"[ ;<>=!~\[]", r, 1)[0].lower())
todo = list(names - {"torch"})
while todo:
    for r in requires(todo.pop()) or []:
        if "extra ==" not in r:
            n = re.split(r"[ ;<>=!~\[]", r, 1)[0].lower()
            if n not in names:
                names.add(n); todo.append(n)
print(" ".join(sorted(names)))
EOF
)"
pip list --format=freeze --exclude-editable | grep -v -i -E "^(pip|setuptools|wheel)==" > all.txt
python - "$torch_deps" > ours.txt <<'EOF'
import sys, re
skip = set(sys.argv[1].split())
for line in open("all.txt"):
    name = line.split("==")[0].lower().replace("_", "-")
    if name not in {s.replace("_", "-") for s in skip}:
        print(line.strip())
EOF
mkdir wheels && pip download -q --no-deps -r ours.txt -d wheels >/dev/null
installed=$(python - "$site" <<'EOF'
import sys
from importlib.metadata import distribution
from pathlib import Path
site = Path(sys.argv[1]); total = 0
for line in open("ours.txt"):
    dist = distribution(line.split("==")[0])
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
print(f"{total / 1e6:.0f}")
EOF
)
echo "ref: ${ref:-working tree}"
echo "packages besides torch and its own dependencies ($(wc -l < ours.txt)): $(cut -d= -f1 ours.txt | tr '\n' ' ')"
echo "their wheels: $(du -cb wheels/* | tail -1 | cut -f1 | python -c 'print(round(int(input()) / 1e6))') MB"
echo "installed: ${installed} MB"
echo "site-packages in all (torch included): $(du -sm "$site" | cut -f1) MB"
echo "README enhance command (fresh venv, install + enhance of samples/dark): $(python -c "print(round($end - $start))") s"
