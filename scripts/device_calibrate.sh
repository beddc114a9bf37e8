#!/usr/bin/env bash
# `nas calibrate` on a GPU machine that has a CUDA PyTorch but no network and no install of nas,
# under a wall-clock cap, resumable across machines: the calibration the accelerator profiles
# ranks by (issue 32 §3; docs/proxy.md). Run from the repository root:
#
#   bash scripts/device_calibrate.sh [nas calibrate options]
#   default options: --scale 4 --profile accelerator-fixed --device cuda --jobs 8
#
# Environment:
#   TIME_S  wall-clock cap of the training in seconds (default 480); a run stopped by it keeps every
#           network that finished, and the next run trains only the rest
#   NAME    the calibration's name and file stem (default accelerator-fixed-x4)
#   PY      the Python to run (default python3, the image's one with torch)
#   DIR     the working folder (default runs/device, git-ignored)
#   OUT     a folder that receives copies of the results (default DIR/out)
#
# Files, in DIR: NAME.json (written once every network is measured),
# NAME.json.cache.jsonl (one line per measured network, with its training time unit_s), NAME.log.
# To go on on a fresh machine, bring DIR/NAME.json.cache.jsonl (and only it: OUT gets no claims
# file, since nas.scoring.calibrate honours a claim from another host for 2 h) back into DIR.
# Missing packages come from .whl/ (scripts/device_wheels.sh), installed to /tmp/site.
set -uo pipefail
cd "$(dirname "$0")/.."
TIME_S=${TIME_S:-480}
NAME=${NAME:-accelerator-fixed-x4}
PY=${PY:-python3}
DIR=${DIR:-runs/device}
OUT=${OUT:-$DIR/out}
CAL=$DIR/$NAME.json
mkdir -p "$DIR" "$OUT"
[ $# -gt 0 ] || set -- --scale 4 --profile accelerator-fixed --device cuda --jobs 8

export PYTHONUNBUFFERED=1
if ! "$PY" -c "import optuna, pydantic, fvcore, sqlalchemy, plotly" 2>/dev/null; then
    ls .whl/*.whl >/dev/null 2>&1 || { echo "error: $PY lacks nas's dependencies and .whl/ has no wheels (scripts/device_wheels.sh)" >&2; exit 2; }
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 2
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

"$PY" - <<'EOF'
import platform, torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA device: {gpu}")
EOF
before=$(cat "$CAL.cache.jsonl" 2>/dev/null | wc -l)
start=$(date +%s)
timeout --signal=TERM --kill-after=20 "$TIME_S" "$PY" -m nas.cli calibrate --name "$NAME" --out "$CAL" "$@" \
    2>&1 | tee -a "$DIR/$NAME.log"
rc=${PIPESTATUS[0]}
after=$(cat "$CAL.cache.jsonl" 2>/dev/null | wc -l)
echo "nas calibrate exit $rc after $(( $(date +%s) - start )) s; networks measured: $before before, $after now"
[ "$rc" = 124 ] && echo "stopped at TIME_S=$TIME_S s: run again with $CAL.cache.jsonl in place to go on"
for f in "$CAL" "$CAL.cache.jsonl" "$DIR/$NAME.log"; do [ -f "$f" ] && cp "$f" "$OUT/"; done
# a timeout is a pause, not a failure; anything else is passed on
[ "$rc" = 124 ] && exit 0
exit "$rc"
