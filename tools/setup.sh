#!/usr/bin/env bash
# Installs what GpuDeconv needs at run time on Debian/Ubuntu and is missing: the OpenCL ICD
# loader and pocl (an OpenCL driver for the CPU, so the OpenCL backend always has a device),
# and the Fashion-MNIST data set (dataset-fashion-mnist, /usr/share/datasets/fashion-mnist: the
# sample trainer's default data when CIFAR-10 is absent, and the data tests' real-file check).
# Needs root (or sudo) only when something is missing; runs apt-get update only then.
# The .NET 10 SDK is assumed (https://learn.microsoft.com/dotnet/core/install/linux-debian).
# CUDA is never installed here: a GPU machine brings its driver (libcuda.so.1); NVRTC is
# looked up as docs/gpu-check.md describes.
set -euo pipefail

packages=(ocl-icd-libopencl1 pocl-opencl-icd)
# Fashion-MNIST is the trainer's fallback data: skip it when CIFAR-10 is already under data/ (or GPUDECONV_DATA_DIR),
# unless the tests' real-file check wants it (GPUDECONV_SETUP_ALL=1, as CI sets).
data_dir="${GPUDECONV_DATA_DIR:-data}"
if [[ "${GPUDECONV_SETUP_ALL:-0}" == 1 ]] || ! [[ -f "$data_dir/cifar-10-batches-bin/test_batch.bin" || -f "$data_dir/test_batch.bin" ]]; then
    packages+=(dataset-fashion-mnist)
fi
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "setup: OpenCL runtime and data present (${packages[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]} and no apt-get here; install an OpenCL ICD loader and an OpenCL driver (pocl runs on any CPU) with this system's package manager, and put Fashion-MNIST's four IDX .gz files in /usr/share/datasets/fashion-mnist" >&2
    exit 1
fi

sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "setup: missing ${missing[*]}; as root, run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

echo "setup: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
