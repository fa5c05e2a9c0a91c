#!/usr/bin/env bash
# Builds what a GPU machine (no .NET, no package registry) needs to run the kernel tests and the
# kernel benchmarks, as self-contained linux-x64 bundles under .gpucheck/ (git-ignored):
#   .gpucheck/kernels-tests.tar.xz   tests/Kernels.Tests as a self-hosting xunit v3 executable
#   .gpucheck/benchmarks.tar.xz      benchmarks/GpuDeconv.Benchmarks (BenchmarkDotNet, in-process)
#   .gpucheck/gpu-check.tar.xz       ILGPU beside NVRTC in one folder: the conformance cases (tests/Compute.Tests on
#                                    cuda, tests/Compute.Ilgpu.Tests on ilgpu-cuda, with the PTX compilations), the
#                                    kernel tests (both CUDA routes) and the benchmarks; run by tools/gpu-check.sh
# All are untrimmed (ILGPU does not survive trimming) and compressed to stay under the device tool's 64 MiB carry
# limit; carry one per call. gpu-check shares one .NET runtime between its four programs and must stay under 64 MiB:
# this script fails if it does not.
# Usage: bash tools/gpu-bundles.sh [tests|benchmarks|gpu-check|all]   (docs/gpu-check.md says how to run them)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
mkdir -p .gpucheck

bundle() {
    local name="$1" project="$2"
    local staging
    staging="$(mktemp -d)"
    dotnet publish "$project" -c Release -r linux-x64 --self-contained -o "$staging" -v quiet -nologo
    tar -C "$staging" -cJf ".gpucheck/$name.tar.xz" .
    rm -rf "$staging"
    echo ".gpucheck/$name.tar.xz: $(du -h ".gpucheck/$name.tar.xz" | cut -f1)"
}

# Several programs published into one folder: the runtime and the shared assemblies are stored once.
combined() {
    local name="$1"
    shift
    local staging project
    staging="$(mktemp -d)"
    for project in "$@"; do
        dotnet publish "$project" -c Release -r linux-x64 --self-contained -o "$staging" -v quiet -nologo
    done
    tar -C "$staging" -cf - . | xz -9 -T0 > ".gpucheck/$name.tar.xz"
    rm -rf "$staging"
    local bytes
    bytes=$(stat -c %s ".gpucheck/$name.tar.xz")
    echo ".gpucheck/$name.tar.xz: $((bytes / 1024 / 1024)) MiB ($bytes bytes)"
    if ((bytes >= 64 * 1024 * 1024)); then
        echo "error: .gpucheck/$name.tar.xz is $bytes bytes, over the 64 MiB a GPU machine can be sent" >&2
        exit 1
    fi
}

gpu_check() {
    combined gpu-check tests/Compute.Tests tests/Compute.Ilgpu.Tests tests/Kernels.Tests benchmarks/GpuDeconv.Benchmarks
}

case "$what" in
    tests) bundle kernels-tests tests/Kernels.Tests ;;
    benchmarks) bundle benchmarks benchmarks/GpuDeconv.Benchmarks ;;
    gpu-check) gpu_check ;;
    all) bundle kernels-tests tests/Kernels.Tests; bundle benchmarks benchmarks/GpuDeconv.Benchmarks; gpu_check ;;
    *) echo "usage: $0 [tests|benchmarks|gpu-check|all]" >&2; exit 2 ;;
esac
