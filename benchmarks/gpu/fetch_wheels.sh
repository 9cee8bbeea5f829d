#!/usr/bin/env bash
# Download, on a machine with network, the wheels benchmarks/gpu/run.sh needs on the offline
# GPU machine for its OpenCL step: pyopencl and its dependencies that image lacks, built for
# CPython 3.12 on x86-64 Linux. They land in .whl/ (ignored by git); name .whl in the device
# call's carry. The GPU image already has numpy, markupsafe and typing_extensions.
set -euo pipefail
cd "$(dirname "$0")/../.."
PLATFORMS=""
for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
           manylinux2014_x86_64 manylinux1_x86_64; do
    PLATFORMS="$PLATFORMS --platform $tag"
done
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    $PLATFORMS -d .whl \
    "pyopencl==2026.1.4" "pytools==2026.1.1" "platformdirs==4.14.8" "siphash24==1.9" "mako==1.4.3"
ls -la .whl
