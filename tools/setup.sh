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

# Real photos for the ONNX and visualisation tests and samples (GPUDECONV_SETUP_ALL=1 or GPUDECONV_SETUP_PHOTOS=1):
# Debian's python3-skimage ships a few test photographs; its .deb is downloaded and unpacked, not installed (it would
# bring scikit-image's whole Python stack), and only the photos are copied to $data_dir/photos.
photos() {
    local target="$data_dir/photos" wanted=(chelsea.png coffee.png astronaut.png hubble_deep_field.jpg) have=1
    for photo in "${wanted[@]}"; do [[ -f "$target/$photo" ]] || have=0; done
    ((have)) && return 0
    local work
    work="$(mktemp -d)"
    (cd "$work" && apt-get download -qq python3-skimage >/dev/null 2>&1) || {
        "${sudo[@]}" apt-get update -qq && (cd "$work" && apt-get download -qq python3-skimage)
    }
    dpkg-deb -x "$work"/python3-skimage_*.deb "$work/x"
    mkdir -p "$target"
    for photo in "${wanted[@]}"; do
        cp "$(find "$work/x" -path "*/skimage/data/$photo" | head -n1)" "$target/$photo"
    done
    rm -rf "$work"
    echo "setup: photos from python3-skimage in $target (${wanted[*]})"
}

sudo=()
if ((EUID != 0)) && command -v sudo >/dev/null; then
    sudo=(sudo)
fi

if ((${#missing[@]} == 0)); then
    echo "setup: OpenCL runtime and data present (${packages[*]})"
    if [[ "${GPUDECONV_SETUP_ALL:-0}" == 1 || "${GPUDECONV_SETUP_PHOTOS:-0}" == 1 ]]; then photos; fi
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]} and no apt-get here; install an OpenCL ICD loader and an OpenCL driver (pocl runs on any CPU) with this system's package manager, and put Fashion-MNIST's four IDX .gz files in /usr/share/datasets/fashion-mnist" >&2
    exit 1
fi

if ((EUID != 0)); then
    if ((${#sudo[@]} == 0)); then
        echo "setup: missing ${missing[*]}; as root, run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

echo "setup: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ "${GPUDECONV_SETUP_ALL:-0}" == 1 || "${GPUDECONV_SETUP_PHOTOS:-0}" == 1 ]]; then photos; fi
