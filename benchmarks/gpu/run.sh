#!/usr/bin/env bash
# The one-command GPU check of the cuda backend (issue #4), from the repository root:
#
#     bash benchmarks/gpu/run.sh
#
# For a machine with an NVIDIA GPU, CuPy, PyTorch-CUDA, numpy, pluggy and pytest installed and
# no network (the H100 image: Python 3.12, CuPy 14 for CUDA 13, PyTorch 2.11). It installs
# nothing from a network. Steps, each under its own time limit so the whole run stays under
# ~8 minutes:
#   1. make plugrad importable (pip install -e . offline; else a copied package + dist-info);
#   2. the backend-parametrized test suite on cuda   (PLUGRAD_TEST_DEVICES=cuda, -k cuda);
#   3. the same suite on opencl through NVIDIA's OpenCL driver, when pyopencl is carried;
#   4. benchmarks/gpu/bench_cuda.py: plugrad-cuda, raw CuPy and PyTorch-CUDA side by side,
#      timed after synchronize; its table is printed last;
#   5. only with `bash benchmarks/gpu/run.sh asv` (a second device call, so each stays under
#      10 minutes): a quick asv run recorded as machine "h100" (cuda and, through NVIDIA's
#      driver, opencl rows), its results folder packed into $OUT/asv-results-h100.tgz --
#      unpack it into benchmarks/.asv/results/ beside your own and `asv publish`.
# Logs and the table go to $OUT (the device tool's folder) when set, else /tmp/plugrad-gpu.
#
# OpenCL on NVIDIA needs pyopencl and its pure-Python dependencies as cp312 wheels in .whl/
# (ignored by git). On a machine with network, from the repository root, run once:
#     bash benchmarks/gpu/fetch_wheels.sh
# and name .whl in the device call's carry. The OpenCL driver is NVIDIA's own
# libnvidia-opencl.so.1: this script writes it into an nvidia.icd and points OCL_ICD_VENDORS
# at it; without that library the opencl step is skipped and says so.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/plugrad-gpu}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }

echo "== environment"
{ nvidia-smi -L 2>&1 | head -4
  "$PY" -c 'import sys, numpy, cupy; print("python", sys.version.split()[0], "numpy", numpy.__version__, "cupy", cupy.__version__)' 2>&1
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1
} | tee "$OUT/env.txt"

echo "== 1. install plugrad (offline)"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/plugrad-wheels .whl/*.whl && export PYTHONPATH="/tmp/plugrad-wheels${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e . >"$OUT/install.log" 2>&1; then
    # no setuptools/wheel offline: lay the package out by hand, with the entry points
    SITE=/tmp/plugrad-site
    rm -rf "$SITE" && mkdir -p "$SITE/plugrad-0.0.0.dist-info"
    cp -r corelib "$SITE/plugrad" && cp -r backends "$SITE/plugrad/backends" \
        && cp -r plugins "$SITE/plugrad/plugins"
    printf 'Metadata-Version: 2.1\nName: plugrad\nVersion: 0.0.0\n' \
        >"$SITE/plugrad-0.0.0.dist-info/METADATA"
    "$PY" - "$SITE/plugrad-0.0.0.dist-info/entry_points.txt" <<'EOF'
import sys, tomllib
eps = tomllib.load(open("pyproject.toml", "rb"))["project"]["entry-points"]
with open(sys.argv[1], "w") as fh:
    for group, entries in eps.items():
        fh.write(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()))
EOF
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    note "install: pip -e failed (see install.log); using a copied package in $SITE"
fi
"$PY" -m plugrad info 2>&1 | tee -a "$OUT/env.txt" || "$PY" -c 'import plugrad; print(plugrad.cuda.is_available(), plugrad.cuda.unavailable_reason())'

MODE="${1:-check}"
XDIST=""
"$PY" -c 'import xdist' 2>/dev/null && XDIST="-n 6"
"$PY" -c 'import pytest_timeout' 2>/dev/null && XDIST="$XDIST --timeout 90"

if [ "$MODE" != "asv" ]; then
echo "== 2. test suite on cuda"
PLUGRAD_TEST_DEVICES=cuda PLUGRAD_TEST_REQUIRE=cuda timeout 270 \
    "$PY" -m pytest -q -rfE -p no:cacheprovider $XDIST -k cuda tests/ >"$OUT/cuda_tests.log" 2>&1
rc=$?
note "cuda tests (exit $rc): $(grep -E '(passed|failed|error)' "$OUT/cuda_tests.log" | tail -1)"
[ $rc -eq 124 ] && note "cuda tests: stopped at the 270 s limit"

echo "== 3. test suite on opencl (NVIDIA driver)"
if "$PY" -c 'import pyopencl' 2>/dev/null; then
    LIB="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')"
    [ -z "$LIB" ] && LIB="$(find / -name 'libnvidia-opencl.so.1' -not -path '/proc/*' 2>/dev/null | head -1)"
    if [ -n "$LIB" ]; then
        mkdir -p /tmp/plugrad-icd && echo "$LIB" >/tmp/plugrad-icd/nvidia.icd
        OCL_ICD_VENDORS=/tmp/plugrad-icd PLUGRAD_OPENCL_PLATFORM=NVIDIA \
        PLUGRAD_TEST_DEVICES=opencl PLUGRAD_TEST_REQUIRE=opencl timeout 100 \
            "$PY" -m pytest -q -rfE -p no:cacheprovider $XDIST -k opencl tests/ \
            >"$OUT/opencl_tests.log" 2>&1
        rc=$?
        note "opencl tests (exit $rc): $(grep -E '(passed|failed|error)' "$OUT/opencl_tests.log" | tail -1)"
    else
        note "opencl tests: skipped, libnvidia-opencl.so.1 not found on this machine"
    fi
else
    note "opencl tests: skipped, pyopencl not importable (carry .whl: benchmarks/gpu/fetch_wheels.sh)"
fi

echo "== 4. benchmarks"
timeout 170 "$PY" benchmarks/gpu/bench_cuda.py --json "$OUT/bench.json" >"$OUT/bench.txt" 2>&1
rc=$?
[ $rc -ne 0 ] && note "bench exit $rc (124: stopped at its 170 s limit)"
fi

if [ "$MODE" = "asv" ]; then
echo "== 5. asv rows for the dashboard"
LIB="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')"
[ -n "$LIB" ] && mkdir -p /tmp/plugrad-icd && echo "$LIB" >/tmp/plugrad-icd/nvidia.icd
if "$PY" -c 'import asv' 2>/dev/null; then
    ( cd benchmarks \
      && "$PY" -m asv machine --machine h100 --yes >/dev/null \
      && OCL_ICD_VENDORS=/tmp/plugrad-icd PLUGRAD_OPENCL_PLATFORM=NVIDIA timeout 420 \
         "$PY" -m asv run --python=same --quick --machine h100 \
             --set-commit-hash "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
             >"$OUT/asv.log" 2>&1 \
      && tar czf "$OUT/asv-results-h100.tgz" -C .asv/results h100 )
    note "asv (exit $?): results in asv-results-h100.tgz"
else
    note "asv: skipped, not importable (carry .whl: benchmarks/gpu/fetch_wheels.sh)"
fi
fi

echo
cat "$SUMMARY"
echo
grep -B2 -A40 '^workload' "$OUT/bench.txt" || tail -30 "$OUT/bench.txt"
