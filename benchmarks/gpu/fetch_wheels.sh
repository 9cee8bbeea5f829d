#!/usr/bin/env bash
# Download, on a machine with network, the wheels benchmarks/gpu/run.sh needs on the offline
# GPU machine, built for CPython 3.12 on x86-64 Linux: the test suite's dependencies that
# image lacks (hypothesis with attrs and sortedcontainers: without them the fuzz modules and
# test_ops do not even collect), pyopencl and its dependencies for the OpenCL step, and asv
# with its dependencies for `run.sh asv` (the GPU rows of the asv dashboard). They land in
# .whl/ (ignored by git); name .whl in the device call's carry. The GPU image already has
# numpy, pytest, pluggy, markupsafe and typing_extensions. scikit-learn stays behind: the
# two tests that train on its digits skip without it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PLATFORMS=""
for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
           manylinux2014_x86_64 manylinux1_x86_64; do
    PLATFORMS="$PLATFORMS --platform $tag"
done
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    $PLATFORMS -d .whl \
    "hypothesis==6.155.2" "attrs==26.1.0" "sortedcontainers==2.4.0" \
    "pyopencl==2026.1.4" "pytools==2026.1.1" "platformdirs==4.14.8" "siphash24==1.9" "mako==1.4.3" \
    "asv==0.6.6" "asv_runner==0.3.2" "json5==0.17.3" "tabulate==0.10.0" "pympler==1.1" \
    "pyyaml==6.0.3" "build==1.6.1" "pyproject_hooks==1.3.3" "importlib_metadata==10.2.0" \
    "zipp==4.1.2" "virtualenv==21.15.11" "distlib==0.4.4" "filelock==4.3.1" \
    "python-discovery==1.9.6"
ls -la .whl
