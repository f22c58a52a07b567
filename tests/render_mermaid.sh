#!/usr/bin/env bash
# Renders the catalog's Mermaid timeline for real with mermaid-cli (the Mermaid that GitHub
# runs), in both languages and both directions, plus a stress diagram whose facets hold every
# character that could break a label, the timeline of the comparison view in papers/README.md
# and the one-node-per-year-and-connector timeline of a large lab. Exits non-zero on any parse
# error. Not run by CI: it needs Node/npm and a Chromium (Debian: apt-get install -y chromium).
#   bash tests/render_mermaid.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
tools=${MMDC_HOME:-$HOME/.cache/mllm-lab-mermaid-cli}
out=${1:-$(mktemp -d)}
mkdir -p "$out"

if [ ! -x "$tools/node_modules/.bin/mmdc" ]; then
    mkdir -p "$tools"
    # the npm package only; Puppeteer must not download a browser of its own
    (cd "$tools" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-fund --no-audit @mermaid-js/mermaid-cli)
fi
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$browser" ] || { echo "no chromium: apt-get install -y chromium" >&2; exit 2; }
printf '{"executablePath": "%s", "args": ["--no-sandbox"]}\n' "$browser" >"$out/puppeteer.json"

"$python" - "$out" <<'PY'
import sys
from dataclasses import replace
from pathlib import Path

from mllm_lab.catalog import catalog
from mllm_lab.core.compare import compare_region
from mllm_lab.core.facets import CONNECTORS, catalog_facets, lab_entries, timeline_mermaid, with_facets
from mllm_lab.models import Paper

out = Path(sys.argv[1])
entries = with_facets(catalog())
for lang in ("zh", "en"):
    for direction in ("LR", "TB"):
        text = timeline_mermaid(entries, lang, direction)
        (out / f"timeline-{lang}-{direction}.mmd").write_text(text, "utf-8")
odd = 'end | a;b "q" #x <br> [x] (y) {z} `c` --> %% 视觉编码器 \\ &amp; end'
stress = [
    replace(e, facets=replace(e.facets, name=odd, vision_encoder=odd)) if e.facets else e
    for e in entries[:50]
]
(out / "stress.mmd").write_text(timeline_mermaid(stress), "utf-8")
# the comparison region of papers/README.md, for a lab holding every catalog paper
for lang in ("zh", "en"):
    body = compare_region(catalog(), catalog_facets(), lang, "papers/README.md")
    diagram = body.split("```mermaid\n", 1)[1].split("```", 1)[0]
    (out / f"view-{lang}.mmd").write_text(diagram, "utf-8")
# a lab too large for one node per model: one node per year and connector
big = [
    Paper(key=f"m{n}", title=f"M{n}", year=2020 + n % 5, connector=CONNECTORS[n % 4],
          vision_encoder="CLIP " + "x" * 200, note=f"papers/m{n}.md")
    for n in range(400)
]
(out / "aggregated.mmd").write_text(timeline_mermaid(lab_entries(big, {})), "utf-8")
PY

for diagram in "$out"/*.mmd; do
    "$tools/node_modules/.bin/mmdc" --quiet -p "$out/puppeteer.json" -i "$diagram" -o "${diagram%.mmd}.svg"
    echo "rendered ${diagram%.mmd}.svg"
done
echo "all diagrams rendered in $out"
