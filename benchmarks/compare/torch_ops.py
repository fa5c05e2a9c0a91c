#!/usr/bin/env python3
"""Times the kernels benchmark's shapes in PyTorch, so GpuDeconv can be compared side by side.

The cases mirror benchmarks/GpuDeconv.Benchmarks (KernelBenchmarks.cs, EndToEndBenchmarks.cs): the CIFAR
network of the deconv tutorial at batch 128 (docs/reference/op-semantics.md / docs/reference/perf-anchors.md): the three 5x5 SAME
convolutions forward and both gradients, 2x2 argmax pooling and its backward, unpooling, the transposed
convolutions of the deconv pass; the larger shape (batch 512, 64->128 channels, 32x32, 3x3) and its pool;
one training step (forward, cross-entropy, backward, Adam) of the CIFAR network and of LeNet-5, and the
tutorial's deconv images of a batch. PyTorch is NCHW; the tensors are made channels_last so the memory
layout is NHWC like ours, and again as plain NCHW tensors; each case reports the faster of the two
layouts, so PyTorch is compared at its best. It also reports the memory of one training step.

Usage: torch_ops.py [--device cpu|cuda] [--batch 128] [--large-batch 512] [--tf32] [--json out.json]
Prints one line per case and writes {"meta", "results": [{"case", "op", "ms", "work", "unit"}], "memory"}.
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
# The larger shape, run at the large batch (512 unless --large-batch / GPUDECONV_BENCH_LARGE_BATCH says otherwise).
LARGE_CONVS = [("conv-large", 32, 32, 64, 128, 3)]
LARGE_POOLS = [("pool-large", 32, 32, 128)]
LARGE_CASES = {name for name, *_ in LARGE_CONVS + LARGE_POOLS}
# ImageNet ResNet-18's convolutions at 224x224 input (ConvCase.ResNet in KernelBenchmarks.cs), forward only, at the
# ResNet batch (16, --resnet-batch / GPUDECONV_BENCH_RESNET_BATCH): (name, H, W, Cin, Cout, kernel, stride).
RESNET_CONVS = [("resnet-stem", 224, 224, 3, 64, 7, 2), ("resnet-56", 56, 56, 64, 64, 3, 1),
                ("resnet-28", 28, 28, 128, 128, 3, 1), ("resnet-14", 14, 14, 256, 256, 3, 1),
                ("resnet-7", 7, 7, 512, 512, 3, 1)]
# The whole pretrained ResNet-18 (ImageNetBenchmarks.cs: batch 1, its file fixes it).
RESNET18_BATCH = 1


def resnet18_macs():
    """Multiply-adds of ResNet-18's convolutions for one 224x224 image (no classifier, as the ONNX featurizer):
    the 7x7/2 stem, four stages of two basic blocks, stages 2-4 opening with stride 2 and a 1x1 projection."""
    macs, size, channels = 112 * 112 * 64 * 7 * 7 * 3, 56, 64
    for stage in range(4):
        source = channels
        if stage:
            size, channels = size // 2, channels * 2
            macs += size * size * channels * source
        pixels = size * size * channels * 9
        macs += pixels * source + 3 * pixels * channels
    return macs


def scaling_point(case):
    """(batch, size) of a scaling case named scale-b{batch}-s{size} (ScalingCase in ImageNetBenchmarks.cs), else None."""
    if not case.startswith("scale-b"):
        return None
    batch, size = case[len("scale-b"):].split("-s")
    return int(batch), int(size)
# End to end, as in EndToEndBenchmarks.cs: multiply-adds per image of the first layer and of the others, forward.
MODEL_MACS = {
    "cifar": (24 * 24 * 64 * 25 * 3, 12 * 12 * 64 * 25 * 64 + 6 * 6 * 10 * 25 * 64),
    "lenet5": (28 * 28 * 6 * 25 * 1, 10 * 10 * 16 * 25 * 6 + 400 * 120 + 120 * 84 + 84 * 10),
}


def batch_of(case, n, large_n):
    return large_n if case in LARGE_CASES else n


SUBSTRATE_BYTES = 256 << 20   # SaxpyBenchmark and ReductionBenchmark: 256 MiB per array


def work_of(case, op, n, large_n=512, resnet_n=16):
    """(work, unit) of one operation: FLOP for convolutions, GEMMs and whole steps, bytes moved for pooling (int64
    indices), SAXPY (3 arrays) and reduction (1 array); (None, None) for a launch, which does no work."""
    if case == "saxpy":
        return 3.0 * SUBSTRATE_BYTES, "GB/s"
    if case == "reduction":
        return 1.0 * SUBSTRATE_BYTES, "GB/s"
    if case.startswith("gemm"):
        size = int(case[4:])
        return 2.0 * size ** 3, "GFLOP/s"
    if case == "launch":
        return None, None
    if case == "resnet18":
        return 2.0 * resnet18_macs() * RESNET18_BATCH, "GFLOP/s"
    point = scaling_point(case)
    if point is not None:
        batch, size = point
        return 2.0 * batch * size * size * 64 * 9 * 64, "GFLOP/s"
    for name, h, w, cin, cout, k, stride in RESNET_CONVS:
        if name == case:
            oh, ow = -(-h // stride), -(-w // stride)
            return 2.0 * resnet_n * oh * ow * cout * k * k * cin, "GFLOP/s"
    n = batch_of(case, n, large_n)
    if op in ("training-step", "deconv-images"):
        first, rest = MODEL_MACS[case]
        cifar1, cifar2 = 24 * 24 * 64 * 25 * 3, 12 * 12 * 64 * 25 * 64
        # Training: forward + every filter gradient + every input gradient but the first layer's. Images: forward,
        # then the layer-1 projection (conv1 transposed) and the layer-2 one (conv2 and conv1 transposed).
        macs = 3 * (first + rest) - first if op == "training-step" else first + rest + cifar1 + cifar2 + cifar1
        return 2.0 * macs * n, "GFLOP/s"
    for name, h, w, cin, cout, k in CONVS + DECONVS + LARGE_CONVS:
        if name == case:
            return 2.0 * n * h * w * cout * k * k * cin, "GFLOP/s"
    for name, h, w, c in POOLS + LARGE_POOLS:
        if name == case:
            big, small = n * h * w * c, n * (h // 2) * (w // 2) * c
            # Pooling reads the input and writes values + indices; unpooling and the pooling backward
            # read values (or dy) + indices and write the whole output.
            return (big * 4 + small * 12 if op == "maxpool-argmax" else small * 12 + big * 4), "GB/s"
    raise KeyError(case)


class Timing(float):
    """Milliseconds per call as reported, with the median of single calls beside it."""

    def __new__(cls, ms, single_ms):
        value = super().__new__(cls, ms)
        value.single_ms = single_ms
        return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--large-batch", type=int, default=512, help="batch of the larger shape (conv-large, pool-large)")
    parser.add_argument("--resnet-batch", type=int, default=16, help="batch of ResNet-18's layer cases (224x224)")
    parser.add_argument("--gemm", type=int, nargs="*", default=[512], help="SGEMM sizes (GemmBenchmark's GPUDECONV_BENCH_GEMM)")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN convolutions (GPU only)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (PyTorch may default to 1)")
    parser.add_argument("--repeat", type=int, default=20, help="single calls whose median sizes the iterations")
    parser.add_argument("--iterations", type=int, default=7, help="iterations whose means' median is reported (0: report the single-call median)")
    parser.add_argument("--iteration-ms", type=float, default=500.0, help="length of one iteration (BenchmarkDotNet's default IterationTime)")
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
        """The median of --iterations iteration means, each iteration as many calls as fill --iteration-ms (the statistic
        BenchmarkDotNet gives GpuDeconv's side: its median of iteration means); the median of --repeat single calls, which
        also sizes the iterations, rides along as .single_ms. With --iterations 0, the single-call median alone."""
        for _ in range(3):
            fn()
        sync()
        samples = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            sync()
            samples.append((time.perf_counter() - start) * 1e3)
        single = statistics.median(samples)
        if args.iterations <= 0:
            return Timing(single, single)
        calls = max(1, round(args.iteration_ms / max(single, 1e-6)))
        means = []
        for _ in range(args.iterations):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            sync()
            means.append((time.perf_counter() - start) * 1e3 / calls)
        return Timing(statistics.median(means), single)

    layout = {"format": torch.channels_last}

    def nhwc(n, c, h, w, seed):
        g = torch.Generator().manual_seed(seed)
        t = torch.rand(n, c, h, w, generator=g) * 2 - 1
        return t.to(device).contiguous(memory_format=layout["format"])

    n, large_n = args.batch, args.large_batch
    results = []

    best = {}

    def record(case, op, ms):
        work, unit = work_of(case, op, n, large_n, args.resnet_batch)
        name = "nhwc" if layout["format"] == torch.channels_last else "nchw"
        key = (case, op)
        if key not in best or ms < best[key]["ms"]:
            best[key] = {"case": case, "op": op, "ms": float(ms), "single_ms": ms.single_ms,
                         "work": work, "unit": unit, "rate": work / (ms * 1e-3) / 1e9, "layout": name}

    run_substrate(device, args.gemm, timed, record, torch)
    for memory_format in (torch.channels_last, torch.contiguous_format):
        layout["format"] = memory_format
        run_cases(n, large_n, nhwc, timed, record, torch, F)
        run_imagenet(args.resnet_batch, nhwc, timed, record, torch, F, device, memory_format)
        run_models(n, device, memory_format, timed, record, torch, F)
    for entry in best.values():
        results.append(entry)
        print(f"{entry['case']:8s} {entry['op']:16s} {entry['ms']:10.3f} ms  {entry['rate']:10.2f} {entry['unit']}  ({entry['layout']})")

    meta = {"torch": torch.__version__, "device": args.device, "threads": torch.get_num_threads(), "batch": n,
            "tf32": args.tf32, "cudnn": torch.backends.cudnn.version() if args.device == "cuda" else None,
            "name": torch.cuda.get_device_name() if args.device == "cuda" else None}
    memory = [step_memory(model, n, device, torch, F) for model in MODEL_MACS]
    for entry in memory:
        print(f"{entry['model']:8s} training step memory: peak {entry['peak_tensor_bytes'] / 1e6:.1f} MB in tensors"
              f" ({entry['method']})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "memory": memory}, f, indent=1)
    return 0


def run_substrate(device, gemm_sizes, timed, record, torch):
    """SAXPY, a sum and square SGEMMs, as the substrate benchmarks (layout does not matter for them)."""
    with torch.no_grad():
        x = torch.rand(SUBSTRATE_BYTES // 4, device=device)
        y = torch.rand(SUBSTRATE_BYTES // 4, device=device)
        record("saxpy", "saxpy", timed(lambda: y.add_(x, alpha=0.5)))
        record("reduction", "reduce", timed(lambda: x.sum()))
        del x, y
        for size in gemm_sizes:
            a, b = torch.rand(size, size, device=device), torch.rand(size, size, device=device)
            record(f"gemm{size}", "gemm", timed(lambda: a @ b))


def run_cases(batch, large_n, nhwc, timed, record, torch, F):
    """Times every kernel case once in the current layout; record() keeps the faster layout per case."""
    with torch.no_grad():
        for name, h, w, cin, cout, k in CONVS + LARGE_CONVS:
            n = batch_of(name, batch, large_n)
            x = nhwc(n, cin, h, w, 1)
            weight = nhwc(cout, cin, k, k, 2)
            dy = nhwc(n, cout, h, w, 3)
            pad = k // 2
            record(name, "forward", timed(lambda: F.conv2d(x, weight, padding=pad)))
            record(name, "backward-input", timed(lambda: torch.nn.grad.conv2d_input(x.shape, weight, dy, padding=pad)))
            record(name, "backward-filter", timed(lambda: torch.nn.grad.conv2d_weight(x, weight.shape, dy, padding=pad)))

        for name, h, w, c in POOLS + LARGE_POOLS:
            n = batch_of(name, batch, large_n)
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
            n = batch_of(name, batch, large_n)
            value = nhwc(n, cout, h, w, 5)          # lives in the forward conv's output space (cout channels)
            weight = nhwc(cout, cin, k, k, 6)       # PyTorch conv_transpose2d weight: [in = cout, out = cin, kh, kw]
            record(name, "conv2d-transpose", timed(lambda: F.conv_transpose2d(value, weight, padding=k // 2)))


def run_imagenet(resnet_n, nhwc, timed, record, torch, F, device, memory_format):
    """ResNet-18's layers (forward) and the whole network (batch 1, inference) in the current layout. PyTorch pads the
    stem 3 pixels on every side where TF's SAME (ours, ONNX Runtime's model) pads 2 before and 3 after: same output
    size, same work."""
    with torch.no_grad():
        for name, h, w, cin, cout, k, stride in RESNET_CONVS:
            x = nhwc(resnet_n, cin, h, w, 8)
            weight = nhwc(cout, cin, k, k, 9)
            record(name, "forward", timed(lambda: F.conv2d(x, weight, stride=stride, padding=k // 2)))
        model = resnet18_features(torch).to(device).to(memory_format=memory_format).eval()
        images = nhwc(RESNET18_BATCH, 3, 224, 224, 10)
        record("resnet18", "forward", timed(lambda: model(images)))


def resnet18_features(torch):
    """ResNet-18 up to its global average pool (the ONNX featurizer's graph; torchvision is not needed): the 7x7/2
    stem with batch norm, ReLU and a 3x3/2 max pool, four stages of two basic blocks."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else None)

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + (x if self.down is None else self.down(x)))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers.append(nn.AdaptiveAvgPool2d(1))
    torch.manual_seed(3)
    return nn.Sequential(*layers)


def build_model(name, torch):
    """The tutorial models as EndToEndBenchmarks.cs builds them (same layer sizes; PyTorch's own initialisation)."""
    nn, F = torch.nn, torch.nn.functional

    class Cifar(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(3, 64, 5, padding=2), nn.Conv2d(64, 64, 5, padding=2)
            self.conv3 = nn.Conv2d(64, 10, 5, padding=2)

        def forward(self, x, switches=None):
            pooled1, i1 = F.max_pool2d(F.relu(self.conv1(x)), 2, 2, return_indices=True)
            h, i2 = F.max_pool2d(F.relu(self.conv2(pooled1)), 2, 2, return_indices=True)
            if switches is not None:
                switches += [pooled1, h, i1, i2]
            return F.relu(self.conv3(h)).mean((2, 3))

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            h = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
            h = F.max_pool2d(F.relu(self.conv2(h)), 2, 2)
            h = F.relu(self.fc1(h.flatten(1)))
            return self.fc3(F.relu(self.fc2(h)))

    torch.manual_seed(1)
    return Cifar() if name == "cifar" else LeNet5()


def model_inputs(name, n, device, memory_format, torch):
    g = torch.Generator().manual_seed(7)
    shape = (n, 3, 24, 24) if name == "cifar" else (n, 1, 32, 32)
    images = (torch.rand(*shape, generator=g) * 2 - 1).to(device).contiguous(memory_format=memory_format)
    labels = torch.randint(0, 10, (n,), generator=g).to(device)
    return images, labels


def training_step(name, n, device, memory_format, torch, F):
    """(step function, model, optimizer, images, labels): one step is forward, cross-entropy, zero_grad, backward, Adam."""
    model = build_model(name, torch).to(device).to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images, labels = model_inputs(name, n, device, memory_format, torch)

    def step():
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step, model, optimizer, images, labels


def run_models(n, device, memory_format, timed, record, torch, F):
    """Times a training step of each model and the tutorial's deconv images in the current layout."""
    for name in MODEL_MACS:
        step, *_ = training_step(name, n, device, memory_format, torch, F)
        record(name, "training-step", timed(step))

    model = build_model("cifar", torch).to(device).to(memory_format=memory_format)
    images, _ = model_inputs("cifar", n, device, memory_format, torch)

    def deconv_images():
        with torch.no_grad():
            switches = []
            model(images, switches)
            pooled1, pooled2, i1, i2 = switches
            w1, b1, w2, b2 = model.conv1.weight, model.conv1.bias, model.conv2.weight, model.conv2.bias
            # The tutorial's variant: unpool by the switches, subtract the layer's bias, conv2d_transpose; no ReLU.
            F.conv_transpose2d(F.max_unpool2d(pooled1, i1, 2, 2) - b1.view(1, -1, 1, 1), w1, padding=2)
            h = F.conv_transpose2d(F.max_unpool2d(pooled2, i2, 2, 2) - b2.view(1, -1, 1, 1), w2, padding=2)
            F.conv_transpose2d(F.max_unpool2d(h, i1, 2, 2) - b1.view(1, -1, 1, 1), w1, padding=2)

    record("cifar", "deconv-images", timed(deconv_images))


def tensor_bytes(tensors):
    seen, total = set(), 0
    for t in tensors:
        if t is not None and t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


def step_memory(name, n, device, torch, F):
    """Peak bytes in tensors during one training step after two warm-up steps (parameters, gradients, Adam state
    and the batch included). CUDA: torch.cuda.max_memory_allocated. CPU, which keeps no such counter: the
    profiler's allocation events summed in time order, at operator granularity, on top of the tensors alive
    before the step."""
    step, model, optimizer, images, labels = training_step(name, n, device, torch.contiguous_format, torch, F)
    step()
    step()
    entry = {"model": name, "batch": n}
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        entry.update(peak_tensor_bytes=torch.cuda.max_memory_allocated(), peak_reserved_bytes=torch.cuda.max_memory_reserved(),
                     method="torch.cuda.max_memory_allocated")
        return entry
    from torch.profiler import ProfilerActivity, profile
    state = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    alive = tensor_bytes(list(model.parameters()) + [p.grad for p in model.parameters()] + state + [images, labels])
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    current = peak = 0
    for event in sorted(prof.events(), key=lambda e: (e.time_range.start, -e.time_range.end)):
        current += event.cpu_memory_usage if event.name == "[memory]" else event.self_cpu_memory_usage
        peak = max(peak, current)
    entry.update(peak_tensor_bytes=alive + peak, method="profiler allocation events + live tensors")
    return entry


if __name__ == "__main__":
    sys.exit(main())
