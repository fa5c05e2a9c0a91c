#!/usr/bin/env bash
# Builds what a GPU machine (no .NET, no package registry) needs to run the kernel tests and the
# kernel benchmarks, as self-contained linux-x64 bundles under .gpucheck/ (git-ignored):
#   .gpucheck/kernels-tests.tar.xz   tests/Kernels.Tests as a self-hosting xunit v3 executable
#   .gpucheck/benchmarks.tar.xz      benchmarks/GpuDeconv.Benchmarks (BenchmarkDotNet, in-process)
# Each is compressed to stay under the device tool's 64 MiB carry limit; carry one per call.
# Usage: bash tools/gpu-bundles.sh [tests|benchmarks|all]   (docs/gpu-check.md says how to run them)
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

case "$what" in
    tests) bundle kernels-tests tests/Kernels.Tests ;;
    benchmarks) bundle benchmarks benchmarks/GpuDeconv.Benchmarks ;;
    all) bundle kernels-tests tests/Kernels.Tests; bundle benchmarks benchmarks/GpuDeconv.Benchmarks ;;
    *) echo "usage: $0 [tests|benchmarks|all]" >&2; exit 2 ;;
esac
