#!/usr/bin/env bash
# Download, on a machine with package-registry access, the wheels that an offline GPU machine with
# a CUDA PyTorch image (torch, numpy, scipy, pandas, scikit-image, scikit-learn, typer, rich, onnx,
# safetensors, matplotlib already there) lacks to run `nas calibrate` / `nas search`, into .whl/
# (git-ignored). scripts/device_calibrate.sh installs them there with --no-index.
#
#   scripts/device_wheels.sh [PYTHON_VERSION]     # default 3.12 (the image's python3)
#
# Versions are those of this checkout's .venv (the set the test suite passed with), so the GPU run
# uses the same optuna / pydantic / SQLAlchemy as the CPU one. fvcore and iopath publish only
# source archives: they are built here into pure-Python wheels (py3-none-any).
set -euo pipefail
cd "$(dirname "$0")/.."
PYV=${1:-3.12}
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || { echo "error: $PY not found: run make install first" >&2; exit 2; }
BINARY="optuna alembic Mako SQLAlchemy greenlet colorlog yacs termcolor plotly pydantic pydantic_core
annotated-types typing-inspection typing_extensions"
SOURCE="fvcore iopath"
pins() { for p in $1; do printf '%s==%s\n' "$p" "$("$PY" -m pip show "$p" 2>/dev/null | awk '/^Version:/{print $2}')"; done; }
mkdir -p .whl
PLAT=""
for p in manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_24_x86_64 manylinux_2_27_x86_64 \
         manylinux_2_28_x86_64 manylinux_2_34_x86_64 manylinux1_x86_64 any; do PLAT="$PLAT --platform $p"; done
# shellcheck disable=SC2046
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp $PLAT \
    -d .whl $(pins "$BINARY")
# shellcheck disable=SC2046
"$PY" -m pip wheel -q --no-deps -w .whl $(pins "$SOURCE")
ls .whl
du -sh .whl
