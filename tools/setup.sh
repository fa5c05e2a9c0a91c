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

packages=(ocl-icd-libopencl1 pocl-opencl-icd dataset-fashion-mnist)
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
    echo "setup: missing ${missing[*]} and no apt-get here; install an OpenCL ICD loader and driver (and Fashion-MNIST) by hand" >&2
    exit 1
fi

sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "setup: missing ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi
fi

echo "setup: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
