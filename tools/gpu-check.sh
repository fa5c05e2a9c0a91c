#!/usr/bin/env bash
# The prepared GPU check (docs/gpu-check.md): on a machine with an NVIDIA GPU, its driver, NVRTC and PyTorch, and no
# .NET, runs from the repository root with .gpucheck/gpu-check.tar.xz (bash tools/gpu-bundles.sh gpu-check) beside it:
#   1. the conformance cases on our CUDA route (NVRTC) and on ILGPU's (ilgpu-cuda), and every kernel compiled to PTX;
#   2. the kernel tests on both CUDA routes;
#   3. the kernel benchmarks on cuda and ilgpu-cuda side by side with PyTorch (cuDNN, TF32 off then on), and
#      ILGPU.Algorithms beside our reduction and top-9 ranking on ilgpu-cuda.
# A GPU is lent for minutes (600 s per command, 15 minutes in all), so only the GPU rows run: the tests' accelerator
# theories and the benchmarks are restricted to cuda and ilgpu-cuda (GPUDECONV_TEST_ACCELERATORS and
# GPUDECONV_BENCH_ACCELERATORS; set them to run other kinds, e.g. cpu for a dry run), each step has a time limit, and
# the limits add up to 8 minutes. Results go to $OUT (or ./gpu-check-out): one summary per step and the benchmark
# pages. Exit status: non-zero when a test failed or a step failed or ran out of time.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$out"
export GPUDECONV_TEST_ACCELERATORS="${GPUDECONV_TEST_ACCELERATORS:-cuda,ilgpu-cuda}"
export GPUDECONV_BENCH_ACCELERATORS="${GPUDECONV_BENCH_ACCELERATORS:-cuda,ilgpu-cuda}"
torch_device="${GPUCHECK_TORCH_DEVICE:-cuda}"   # where PyTorch runs (cpu for a dry run without a GPU)
# Seconds per step: unpack, conformance (cuda), conformance (ilgpu-cuda) + PTX, kernel tests, kernel benchmarks,
# ILGPU.Algorithms benchmarks. 30 + 60 + 60 + 120 + 165 + 45 = 480 s.
limits=(30 60 60 120 165 45)
if [[ -n "${GPUCHECK_LIMIT_SCALE:-}" ]]; then   # a slower machine (a dry run on two cores) stretches every limit
    for i in "${!limits[@]}"; do limits[i]=$((limits[i] * GPUCHECK_LIMIT_SCALE)); done
fi
started=$SECONDS
status=0
run() {
    local name="$1" limit="$2"
    shift 2
    local step_start=$SECONDS
    echo "== $name (limit ${limit}s): $*"
    timeout -k 10 "$limit" "$@" > "$out/$name.txt" 2>&1
    local code=$?
    tail -4 "$out/$name.txt"
    if ((code == 124 || code == 137)); then
        echo "gpu-check: $name ran out of its ${limit}s" | tee -a "$out/$name.txt"
    fi
    echo "-- $name: exit $code after $((SECONDS - step_start))s"
    ((code == 0)) || status=1
}

bundle=/tmp/gpudeconv-gpu-check
rm -rf "$bundle" && mkdir -p "$bundle"
run unpack "${limits[0]}" tar -C "$bundle" -xJf .gpucheck/gpu-check.tar.xz
if [[ ! -x "$bundle/GpuDeconv.Compute.Tests" ]]; then
    echo "gpu-check: cannot unpack .gpucheck/gpu-check.tar.xz (bash tools/gpu-bundles.sh gpu-check builds it)" >&2
    exit 2
fi

# NVRTC: a toolkit's, else the pip wheel's (docs/gpu-check.md).
if [[ -z "${GPUDECONV_NVRTC_PATH:-}" ]] && ! ls /usr/local/cuda/lib64/libnvrtc.so* >/dev/null 2>&1; then
    wheel="$(python3 -c 'import nvidia.cuda_nvrtc, os; print(os.path.dirname(nvidia.cuda_nvrtc.__file__))' 2>/dev/null)"
    [[ -n "$wheel" ]] && export GPUDECONV_NVRTC_PATH="$wheel/lib"
fi
if command -v nvidia-smi > /dev/null; then
    { nvidia-smi -L; nvidia-smi --query-gpu=driver_version --format=csv,noheader; } > "$out/gpu.txt" 2>&1
else
    echo "nvidia-smi: not found (no NVIDIA driver here)" > "$out/gpu.txt"
fi
echo "tests on: $GPUDECONV_TEST_ACCELERATORS; benchmarks on: $GPUDECONV_BENCH_ACCELERATORS, PyTorch on $torch_device" >> "$out/gpu.txt"
cat "$out/gpu.txt"

# 1 and 2: xunit v3 executables; -parallel none keeps one GPU context busy at a time.
run conformance-cuda "${limits[1]}" "$bundle/GpuDeconv.Compute.Tests" -class "GpuDeconv.Compute.Tests.ConformanceTests" -parallel none
run conformance-ilgpu "${limits[2]}" "$bundle/GpuDeconv.Compute.Ilgpu.Tests" -parallel none
run kernel-tests "${limits[3]}" "$bundle/GpuDeconv.Kernels.Tests" -parallel none

# 3: the kernels (conv, transposed conv, pooling) beside PyTorch, then ILGPU.Algorithms beside our own kernels. Three
# iterations of 100 ms after two warm-ups: enough to rank the routes, in the time a lent GPU allows.
day="$(date +%F)"
run benchmarks "${limits[4]}" python3 benchmarks/compare/compare.py --device "$torch_device" --bench-exe "$bundle/GpuDeconv.Benchmarks" \
    --iterations 3 --iteration-time 100 --filter '*ConvBenchmarks*' '*DeconvBenchmarks*' '*PoolBenchmarks*' \
    --out "$out/$day-gpu-cuda-vs-ilgpu-vs-pytorch.md"
if [[ ",$GPUDECONV_BENCH_ACCELERATORS," == *,ilgpu-* ]]; then   # ILGPU.Algorithms runs on ILGPU's kinds only
run ilgpu-algorithms "${limits[5]}" python3 benchmarks/compare/compare.py --device "$torch_device" --bench-exe "$bundle/GpuDeconv.Benchmarks" \
    --iterations 3 --iteration-time 100 --no-torch --filter '*IlgpuAlgorithms*' --out "$out/$day-ilgpu-algorithms.md"
fi
echo "gpu-check: $((SECONDS - started))s in all, exit $status"
exit $status
