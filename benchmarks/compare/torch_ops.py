#!/usr/bin/env python3
"""Times the kernels benchmark's shapes in PyTorch, so GpuDeconv can be compared side by side.

The cases mirror benchmarks/GpuDeconv.Benchmarks/KernelBenchmarks.cs (the CIFAR network of the
deconv tutorial at batch 128, op-semantics.md / perf-anchors.md): the three 5x5 SAME convolutions
forward and both gradients, 2x2 argmax pooling and its backward, unpooling, and the transposed
convolutions of the deconv pass. PyTorch is NCHW; the tensors are made channels_last so the memory
layout is NHWC like ours, and again as plain NCHW tensors; each case reports the faster of the
two layouts, so PyTorch is compared at its best.

Usage: torch_ops.py [--device cpu|cuda] [--batch 128] [--tf32] [--json out.json]
Prints one line per case and writes a JSON list of {"case", "op", "ms", "work", "unit"}.
"""
import argparse
import json
import os
import statistics
import sys
import time

# (name, H, W, Cin, Cout, kernel): the CIFAR network of the deconv tutorial.
CONVS = [("conv1", 24, 24, 3, 64, 5), ("conv2", 12, 12, 64, 64, 5), ("conv3", 6, 6, 64, 10, 5)]
# Argmax pooling after conv1 and conv2 (2x2, stride 2, SAME; no padding at even sizes).
POOLS = [("pool1", 24, 24, 64), ("pool2", 12, 12, 64)]
# The deconv pass: conv2d_transpose with the forward filters (W2: 64->64 at 12x12, W1: 64->3 at 24x24).
DECONVS = [("deconv2", 12, 12, 64, 64, 5), ("deconv1", 24, 24, 3, 64, 5)]


def work_of(case, op, n):
    """(work, unit) of one operation: FLOP for convolutions, bytes moved for pooling (int64 indices)."""
    for name, h, w, cin, cout, k in CONVS + DECONVS:
        if name == case:
            return 2.0 * n * h * w * cout * k * k * cin, "GFLOP/s"
    for name, h, w, c in POOLS:
        if name == case:
            big, small = n * h * w * c, n * (h // 2) * (w // 2) * c
            # Pooling reads the input and writes values + indices; unpooling and the pooling backward
            # read values (or dy) + indices and write the whole output.
            return (big * 4 + small * 12 if op == "maxpool-argmax" else small * 12 + big * 4), "GB/s"
    raise KeyError(case)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN convolutions (GPU only)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (PyTorch may default to 1)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", help="write results here")
    args = parser.parse_args()

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("PyTorch is not installed (Debian: apt-get install python3-torch); nothing to compare.", file=sys.stderr)
        return 2

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print("CUDA requested but torch.cuda.is_available() is False.", file=sys.stderr)
            return 2
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    def timed(fn):
        for _ in range(3):
            fn()
        sync()
        samples = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            sync()
            samples.append((time.perf_counter() - start) * 1e3)
        return statistics.median(samples)

    layout = {"format": torch.channels_last}

    def nhwc(n, c, h, w, seed):
        g = torch.Generator().manual_seed(seed)
        t = torch.rand(n, c, h, w, generator=g) * 2 - 1
        return t.to(device).contiguous(memory_format=layout["format"])

    n = args.batch
    results = []

    best = {}

    def record(case, op, ms):
        work, unit = work_of(case, op, n)
        name = "nhwc" if layout["format"] == torch.channels_last else "nchw"
        key = (case, op)
        if key not in best or ms < best[key]["ms"]:
            best[key] = {"case": case, "op": op, "ms": ms, "work": work, "unit": unit,
                         "rate": work / (ms * 1e-3) / 1e9, "layout": name}

    for memory_format in (torch.channels_last, torch.contiguous_format):
        layout["format"] = memory_format
        run_cases(n, nhwc, timed, record, torch, F)
    for entry in best.values():
        results.append(entry)
        print(f"{entry['case']:8s} {entry['op']:16s} {entry['ms']:10.3f} ms  {entry['rate']:10.2f} {entry['unit']}  ({entry['layout']})")

    meta = {"torch": torch.__version__, "device": args.device, "threads": torch.get_num_threads(), "batch": n,
            "tf32": args.tf32, "cudnn": torch.backends.cudnn.version() if args.device == "cuda" else None,
            "name": torch.cuda.get_device_name() if args.device == "cuda" else None}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    return 0


def run_cases(n, nhwc, timed, record, torch, F):
    """Times every case once in the current layout; record() keeps the faster layout per case."""
    with torch.no_grad():
        for name, h, w, cin, cout, k in CONVS:
            x = nhwc(n, cin, h, w, 1)
            weight = nhwc(cout, cin, k, k, 2)
            dy = nhwc(n, cout, h, w, 3)
            pad = k // 2
            record(name, "forward", timed(lambda: F.conv2d(x, weight, padding=pad)))
            record(name, "backward-input", timed(lambda: torch.nn.grad.conv2d_input(x.shape, weight, dy, padding=pad)))
            record(name, "backward-filter", timed(lambda: torch.nn.grad.conv2d_weight(x, weight.shape, dy, padding=pad)))

        for name, h, w, c in POOLS:
            x = nhwc(n, c, h, w, 4)
            pooled, indices = F.max_pool2d(x, 2, 2, return_indices=True)
            dy = torch.ones_like(pooled)
            record(name, "maxpool-argmax", timed(lambda: F.max_pool2d(x, 2, 2, return_indices=True)))
            record(name, "unpool", timed(lambda: F.max_unpool2d(pooled, indices, 2, 2, output_size=(h, w))))
            x_grad = x.detach().clone().requires_grad_(True)
            with torch.enable_grad():
                out = F.max_pool2d(x_grad, 2, 2)

                def pool_backward():
                    torch.autograd.grad(out, x_grad, dy, retain_graph=True)

                record(name, "maxpool-backward", timed(pool_backward))

        for name, h, w, cin, cout, k in DECONVS:
            value = nhwc(n, cout, h, w, 5)          # lives in the forward conv's output space (cout channels)
            weight = nhwc(cout, cin, k, k, 6)       # PyTorch conv_transpose2d weight: [in = cout, out = cin, kh, kw]
            record(name, "conv2d-transpose", timed(lambda: F.conv_transpose2d(value, weight, padding=k // 2)))


if __name__ == "__main__":
    sys.exit(main())
