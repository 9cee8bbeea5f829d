#!/usr/bin/env bash
# The one-command GPU check of the cuda backend, from the repository root:
#
#     bash benchmarks/gpu/fetch_wheels.sh      # once, on a machine with network (fills .whl/)
#     bash benchmarks/gpu/run.sh               # on the GPU machine, with .whl carried
#
# Made to run unattended on the first try, in under 6 minutes (so one rerun fits a 15-minute
# GPU lease), on an offline image with Python 3.12, CuPy 14, PyTorch-CUDA, numpy, pluggy and
# pytest but no hypothesis or scikit-learn. Every step has its own budget and a failing step
# never stops the next; each writes a log to $OUT (the device tool's folder; else
# /tmp/plugrad-gpu). Steps (seconds of budget):
#   0. environment: GPU, Python, numpy, CuPy, torch versions                         (~5)
#   1. install: the carried wheels (.whl/: hypothesis, attrs, sortedcontainers, pyopencl...)
#      into /tmp/plugrad-wheels, plugrad itself offline (pip -e, else a copied package)  (~15)
#   2. warm CuPy's kernel cache: benchmarks/gpu/warm_cuda.py compiles plugrad's kernels and
#      the common CuPy ones in parallel processes                               (WARM_S, 45)
#   3. the cuda tests: test_cuda_backend.py and test_ops.py first, then every other module,
#      in SHARDS parallel pytest processes (up to 6, one per core) (-k cuda, PLUGRAD_TEST_DEVICES=cuda, hypothesis
#      profile "dev"), each stopped by SIGINT at TESTS_S so pytest still prints its summary
#      and writes its --junitxml; collection errors do not stop a run              (TESTS_S, 160)
#   4. opencl tests through NVIDIA's OpenCL driver, when pyopencl is carried       (OPENCL_S, 35)
#   5. benchmarks/gpu/bench_cuda.py --quick, the real-model steps included         (BENCH_S, 70)
#   5b. benchmarks/gpu/nccl_check.py: plugrad.distributed's nccl backend, world size 1
#      and two ranks on one GPU                                                     (NCCL_S, 25)
#   6. the summary: per-step results, failing test ids, then the benchmark table, last.
# Worst case ~360 s: ~20 install + 45 + 160 + 35 + 70 + 25 (each step's SIGINT ends it at its
# budget; the ${GRACE:-20} s KILL grace only counts for a step that ignores SIGINT).
# `bash benchmarks/gpu/run.sh asv` instead runs a quick asv for the dashboard (a second
# device call), packing its results into $OUT/asv-results-h100.tgz.
# DRY_RUN=1 runs every step without a GPU (each says cuda is unavailable): the rehearsal.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/plugrad-gpu}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
WARM_S="${WARM_S:-45}" TESTS_S="${TESTS_S:-160}" OPENCL_S="${OPENCL_S:-35}" BENCH_S="${BENCH_S:-70}" NCCL_S="${NCCL_S:-25}"
SHARDS="${SHARDS:-$(n=$(nproc 2>/dev/null || echo 2); [ "$n" -gt 6 ] && n=6; [ "$n" -lt 2 ] && n=2; echo $n)}"
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-dev}"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
T0=$SECONDS
note() { echo "$*" | tee -a "$SUMMARY"; }
stamp() { echo "== $* (t=$((SECONDS - T0)) s)"; }
# run a command under a budget; SIGINT first (pytest then prints its summary and writes its
# junit file), KILL ${GRACE} s later if it has not ended by then
GRACE="${GRACE:-20}"
budget() { local s=$1; shift; timeout -s INT -k "$GRACE" "$s" "$@"; }

stamp "0. environment"
{ nvidia-smi -L 2>&1 | head -4
  "$PY" -c 'import sys, numpy; print("python", sys.version.split()[0], "numpy", numpy.__version__)' 2>&1
  "$PY" -c 'import cupy; print("cupy", cupy.__version__)' 2>&1 | tail -1
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1
} | tee "$OUT/env.txt"

stamp "1. install (offline)"
if ls .whl/*.whl >/dev/null 2>&1; then
    rm -rf /tmp/plugrad-wheels
    pipw() { "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
                 --target /tmp/plugrad-wheels "$@" >>"$OUT/wheels.log" 2>&1; }
    if pipw .whl/*.whl; then
        note "wheels: $(ls .whl/*.whl | wc -l) carried wheels installed into /tmp/plugrad-wheels"
    else    # one unusable wheel (another Python's tag) must not cost the others
        BAD=""
        for w in .whl/*.whl; do pipw "$w" || BAD="$BAD $(basename "$w")"; done
        note "wheels: installed one by one; not installable here:${BAD:- none} (see wheels.log)"
    fi
    export PYTHONPATH="/tmp/plugrad-wheels${PYTHONPATH:+:$PYTHONPATH}"
else
    note "wheels: none carried (.whl/ empty: run benchmarks/gpu/fetch_wheels.sh where there is network)"
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
"$PY" -m plugrad info >>"$OUT/env.txt" 2>&1 || echo "plugrad info failed" >>"$OUT/env.txt"
MISSING=""
for mod in pytest hypothesis sklearn torch cupy pyopencl; do
    "$PY" -c "import $mod" 2>/dev/null || MISSING="$MISSING $mod"
done
note "modules missing:${MISSING:- none} (sklearn: its tests skip; torch/hypothesis: their modules fail to collect)"

MODE="${1:-check}"
if [ "$MODE" != "asv" ]; then

stamp "2. warm CuPy's kernel cache (budget ${WARM_S} s)"
budget "$WARM_S" "$PY" benchmarks/gpu/warm_cuda.py >"$OUT/warm.log" 2>&1
rc=$?
note "warm (exit $rc$([ $rc -eq 124 ] && echo ': stopped at its budget')): $(grep '^warm:' "$OUT/warm.log" | head -1)"

stamp "3. cuda tests ($SHARDS processes, budget ${TESTS_S} s)"
# shard 0 holds the backend's own tests and test_ops; the rest go round-robin by size
FIRST="tests/backends/cuda/test_cuda_backend.py tests/frontend/test_ops.py"
declare -a SHARD
SHARD[0]="$FIRST"
i=1
for f in $(ls -S $(find tests -name "test_*.py")); do
    case " $FIRST " in *" $f "*) continue ;; esac
    SHARD[$i]="${SHARD[$i]:-} $f"
    i=$(( i % (SHARDS - 1) + 1 ))
done
REQUIRE=cuda       # a cuda that is unavailable fails each test, saying why
[ "${DRY_RUN:-0}" = 1 ] && REQUIRE=""      # the rehearsal without a GPU: they skip instead
PIDS="" JUNITS=""
for k in "${!SHARD[@]}"; do
    JUNITS="$JUNITS $OUT/junit-cuda-$k.xml"
    PLUGRAD_TEST_DEVICES=cuda PLUGRAD_TEST_REQUIRE="$REQUIRE" budget "$TESTS_S" \
        "$PY" -m pytest -q -rfE -p no:cacheprovider --continue-on-collection-errors \
        --junitxml="$OUT/junit-cuda-$k.xml" -k cuda ${SHARD[$k]} >"$OUT/cuda_tests_$k.log" 2>&1 &
    PIDS="$PIDS $!"
done
for pid in $PIDS; do wait "$pid"; done
"$PY" benchmarks/gpu/junit_summary.py $JUNITS >"$OUT/cuda_tests_summary.txt" 2>&1
note "cuda tests: $(head -1 "$OUT/cuda_tests_summary.txt")"
STOPPED=$(grep -l "KeyboardInterrupt" "$OUT"/cuda_tests_*.log 2>/dev/null | wc -l)
[ "$STOPPED" -gt 0 ] && note "cuda tests: $STOPPED of ${#SHARD[@]} shards stopped at the ${TESTS_S} s budget (their counts are partial)"

stamp "4. opencl tests, NVIDIA driver (budget ${OPENCL_S} s)"
if "$PY" -c 'import pyopencl' 2>/dev/null; then
    LIB="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')"
    [ -z "$LIB" ] && LIB="$(find / -xdev -name 'libnvidia-opencl.so.1' 2>/dev/null | head -1)"
    if [ -n "$LIB" ]; then
        mkdir -p /tmp/plugrad-icd && echo "$LIB" >/tmp/plugrad-icd/nvidia.icd
        OCL_ICD_VENDORS=/tmp/plugrad-icd PLUGRAD_OPENCL_PLATFORM=NVIDIA \
        PLUGRAD_TEST_DEVICES=opencl PLUGRAD_TEST_REQUIRE=opencl budget "$OPENCL_S" \
            "$PY" -m pytest -q -rfE -p no:cacheprovider --continue-on-collection-errors \
            --junitxml="$OUT/junit-opencl.xml" -k opencl tests/frontend/test_ops.py \
            tests/backends/opencl/test_opencl_backend.py >"$OUT/opencl_tests.log" 2>&1
        "$PY" benchmarks/gpu/junit_summary.py "$OUT/junit-opencl.xml" >"$OUT/opencl_tests_summary.txt" 2>&1
        note "opencl tests: $(head -1 "$OUT/opencl_tests_summary.txt")"
    else
        note "opencl tests: skipped, libnvidia-opencl.so.1 not found on this machine"
    fi
else
    note "opencl tests: skipped, pyopencl not importable (carry .whl: benchmarks/gpu/fetch_wheels.sh)"
fi

stamp "5. benchmarks --quick (budget ${BENCH_S} s)"
budget "$BENCH_S" "$PY" benchmarks/gpu/bench_cuda.py --quick --json "$OUT/bench.json" >"$OUT/bench.txt" 2>&1
rc=$?
note "bench (exit $rc$([ $rc -eq 124 ] && echo ': stopped at its budget, rows so far below'))"

stamp "5b. NCCL check (budget ${NCCL_S} s)"
budget "$NCCL_S" "$PY" benchmarks/gpu/nccl_check.py >"$OUT/nccl.txt" 2>&1
rc=$?
note "nccl (exit $rc): $(grep -E '(PASS|FAIL|REFUSED)' "$OUT/nccl.txt" | tr '\n' ';' | head -c 300)"
fi

if [ "$MODE" = "asv" ]; then
stamp "asv rows for the dashboard"
LIB="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')"
[ -n "$LIB" ] && mkdir -p /tmp/plugrad-icd && echo "$LIB" >/tmp/plugrad-icd/nvidia.icd
if "$PY" -c 'import asv' 2>/dev/null; then
    ( cd benchmarks \
      && "$PY" -m asv machine --machine h100 --yes >/dev/null \
      && OCL_ICD_VENDORS=/tmp/plugrad-icd PLUGRAD_OPENCL_PLATFORM=NVIDIA budget 420 \
         "$PY" -m asv run --python=same --quick --machine h100 \
             --set-commit-hash "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
             >"$OUT/asv.log" 2>&1 \
      && tar czf "$OUT/asv-results-h100.tgz" -C .asv/results h100 )
    note "asv (exit $?): results in asv-results-h100.tgz"
else
    note "asv: skipped, not importable (carry .whl: benchmarks/gpu/fetch_wheels.sh)"
fi
fi

stamp "6. summary"
note "total: $((SECONDS - T0)) s"
echo
cat "$SUMMARY"
[ -s "$OUT/cuda_tests_summary.txt" ] && tail -n +2 "$OUT/cuda_tests_summary.txt" | head -40
echo
if [ -s "$OUT/bench.txt" ]; then
    grep -A40 '^workload' "$OUT/bench.txt" || tail -15 "$OUT/bench.txt"
fi
