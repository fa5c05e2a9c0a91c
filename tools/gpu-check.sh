#!/usr/bin/env bash
# The prepared GPU check (docs/gpu-check.md): on a machine with an NVIDIA GPU, its driver, NVRTC and PyTorch, and no
# .NET, runs from the repository root with .gpucheck/gpu-check.tar.xz (bash tools/gpu-bundles.sh gpu-check) beside it:
#   1. the conformance cases on our CUDA route (NVRTC) and on ILGPU's (ilgpu-cuda), and every kernel compiled to PTX;
#   2. the kernel tests on both CUDA routes;
#   3. the kernel benchmarks on cuda and ilgpu-cuda side by side with PyTorch (cuDNN, TF32 off then on), and
#      ILGPU.Algorithms beside our reduction and top-9 ranking on ilgpu-cuda, one page.
# Results go to $OUT (or ./gpu-check-out): the test summaries and the benchmark page. Exit status: non-zero when a
# test failed or a step could not run.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$out"
bundle=/tmp/gpudeconv-gpu-check
rm -rf "$bundle" && mkdir -p "$bundle"
tar -C "$bundle" -xJf .gpucheck/gpu-check.tar.xz || { echo "gpu-check: cannot unpack .gpucheck/gpu-check.tar.xz" >&2; exit 2; }

# NVRTC: a toolkit's, else the pip wheel's (docs/gpu-check.md).
if [[ -z "${GPUDECONV_NVRTC_PATH:-}" ]] && ! ls /usr/local/cuda/lib64/libnvrtc.so* >/dev/null 2>&1; then
    wheel="$(python3 -c 'import nvidia.cuda_nvrtc, os; print(os.path.dirname(nvidia.cuda_nvrtc.__file__))' 2>/dev/null)"
    [[ -n "$wheel" ]] && export GPUDECONV_NVRTC_PATH="$wheel/lib"
fi
nvidia-smi -L > "$out/gpu.txt" 2>&1; nvidia-smi --query-gpu=driver_version --format=csv,noheader >> "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"

status=0
run() {
    local name="$1"
    shift
    echo "== $name: $*"
    "$@" > "$out/$name.txt" 2>&1
    local code=$?
    tail -4 "$out/$name.txt"
    ((code == 0)) || status=1
}

# 1 and 2: xunit v3 executables; -parallel none keeps one GPU context busy at a time.
run conformance-cuda "$bundle/GpuDeconv.Compute.Tests" -class "GpuDeconv.Compute.Tests.ConformanceTests" -parallel none
run conformance-ilgpu "$bundle/GpuDeconv.Compute.Ilgpu.Tests" -parallel none
run kernel-tests "$bundle/GpuDeconv.Kernels.Tests" -parallel none

# 3: the kernels (conv, transposed conv, pooling) on cuda and ilgpu-cuda, beside PyTorch.
run benchmarks python3 benchmarks/compare/compare.py --device cuda --bench-exe "$bundle/GpuDeconv.Benchmarks" \
    --filter '*ConvBenchmarks*' '*DeconvBenchmarks*' '*PoolBenchmarks*' '*IlgpuAlgorithms*' --out "$out/$(date +%F)-gpu-cuda-vs-ilgpu-vs-pytorch.md"
exit $status
