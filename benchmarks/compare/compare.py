#!/usr/bin/env python3
"""Runs GpuDeconv's benchmarks and the same work in PyTorch in one go, and writes a markdown page with both side by
side, their ratio, each rate as a percentage of the device's peak, a training step's memory, and a PNG chart.

    python3 benchmarks/compare/compare.py [--device cpu|cuda] [--quick] [--bench-exe PATH] [--out docs/results/<date>-<machine>.md]

GpuDeconv runs through BenchmarkDotNet (benchmarks/GpuDeconv.Benchmarks: the kernel classes ConvBenchmarks,
LargeConvBenchmarks, PoolBenchmarks, DeconvBenchmarks and the end-to-end TrainingStepBenchmarks and
DeconvImagesBenchmarks) on every accelerator it finds, and `--describe` gives the devices' peaks and a training
step's memory. PyTorch runs through torch_ops.py (CPU: all cores; --device cuda: cuDNN with TF32 off, then on).
Without PyTorch the page still lists GpuDeconv's numbers and says what was skipped. "speed vs torch" is PyTorch's
time / GpuDeconv's time: above 1 means GpuDeconv is faster. The chart (next to the page, same name, .png) is drawn
by the benchmarks executable (`--chart rows.json out.png`, ScottPlot): no Python imaging library is needed.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from torch_ops import scaling_point, work_of  # noqa: E402  (the same work formulas on both sides)

DEFAULT_FILTERS = ["*"]   # every class: substrate, kernels, end to end
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# BenchmarkDotNet method -> the op name torch_ops.py uses for the same work.
OPS = {
    "Forward": "forward", "BackwardInput": "backward-input", "BackwardFilter": "backward-filter",
    "MaxPoolWithArgmax": "maxpool-argmax", "MaxPoolBackward": "maxpool-backward",
    "Unpool": "unpool", "UnpoolTrusted": "unpool", "Transpose": "conv2d-transpose",
    "TrainingStep": "training-step", "DeconvImages": "deconv-images",
    "Saxpy": "saxpy", "Reduce": "reduce", "Gemm": "gemm",
}
# Substrate benchmark classes without a shape parameter -> the case name torch_ops.py uses.
SUBSTRATE_CASES = {"SaxpyBenchmark": "saxpy", "ReductionBenchmark": "reduction", "LaunchBenchmarks": "launch"}


def case_of(benchmark, params):
    if "Layer" in params or "Model" in params:
        return params.get("Layer") or params["Model"]
    if "N" in params:
        return f"gemm{params['N']}"
    return SUBSTRATE_CASES.get(benchmark.get("Type", ""), benchmark.get("Type", "?"))


def bench_command(bench_exe):
    return ([bench_exe] if bench_exe else
            ["dotnet", "run", "-c", "Release", "--project", os.path.join(ROOT, "benchmarks", "GpuDeconv.Benchmarks"), "--"])


def run_gpudeconv(args, workdir, env):
    artifacts = os.path.join(workdir, "bdn")
    command = bench_command(args.bench_exe)
    if args.quick:
        command.append("--quick")
    command += ["--filter", *args.filter, "--exporters", "json", "--artifacts", artifacts]
    if args.iterations:
        command += ["--iterationCount", str(args.iterations), "--warmupCount", "2"]
    if args.iteration_time:
        command += ["--iterationTime", str(args.iteration_time)]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    rows = []
    for path in glob.glob(os.path.join(artifacts, "results", "*.json")):
        with open(path) as f:
            report = json.load(f)
        for benchmark in report.get("Benchmarks", []):
            params = dict(p.split("=", 1) for p in benchmark.get("Parameters", "").split("&") if "=" in p)
            stats = benchmark.get("Statistics") or {}
            if "Median" not in stats:
                continue
            kind = params.get("Accelerator", "?")
            accelerator = kind + (" " + params["Algorithm"] if "Algorithm" in params else "")
            rows.append({"accelerator": accelerator, "kind": kind, "case": case_of(benchmark, params),
                         "method": benchmark["Method"], "ms": stats["Median"] / 1e6, "type": benchmark.get("Type", "")})
    return rows


def describe_devices(args, workdir, env):
    """The accelerators' peaks and a training step's memory (GpuDeconv.Benchmarks --describe), or None."""
    out = os.path.join(workdir, "devices.json")
    command = bench_command(args.bench_exe) + ["--describe", out]
    print("+", " ".join(command), flush=True)
    if subprocess.run(command, env=env, cwd=ROOT).returncode != 0 or not os.path.exists(out):
        return None
    with open(out) as f:
        return json.load(f)


def python_with(module):
    """This interpreter if it can import the module, else Debian's (python3-torch installs there), else None."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(candidate) and subprocess.run([candidate, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return candidate
    return None


def run_torch(args, tf32, workdir):
    out = os.path.join(workdir, f"torch-{args.device}-{'tf32' if tf32 else 'fp32'}.json")
    python = python_with("torch")
    if python is None:
        print("PyTorch is not installed (Debian: apt-get install python3-torch); comparing nothing.", file=sys.stderr)
        return None
    command = [python, os.path.join(os.path.dirname(__file__), "torch_ops.py"), "--device", args.device,
               "--batch", str(args.batch), "--large-batch", str(args.large_batch), "--resnet-batch", str(args.resnet_batch),
               "--json", out,
               "--gemm", *(os.environ.get("GPUDECONV_BENCH_GEMM") or "512").split(",")]
    if args.quick:
        command += ["--repeat", "3", "--iterations", "0"]
    else:
        # The statistic BenchmarkDotNet gives our side: the median of iteration means, iterations of the same length.
        command += ["--iterations", str(args.iterations or 10),
                    "--iteration-ms", str(args.iteration_time or 500)]
    if tf32:
        command.append("--tf32")
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command)
    if result.returncode != 0 or not os.path.exists(out):
        return None
    with open(out) as f:
        return json.load(f)


def machine_description():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            match = re.search(r"model name\s*:\s*(.+)", f.read())
            if match:
                model = match.group(1).strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}"


def load_average():
    """The 1-minute load average (/proc/loadavg): on a shared host it counts other tenants' work too, which the timings feel."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def milliseconds(ms):
    """Three decimals, or four significant digits below 0.1 ms (launch latencies in microseconds)."""
    return f"{ms:.3f}" if ms >= 0.1 else f"{ms:.4g}"


def command_line(args):
    parts = ["python3 benchmarks/compare/compare.py", f"--device {args.device}", f"--batch {args.batch}"]
    if args.large_batch != 512:
        parts.append(f"--large-batch {args.large_batch}")
    if args.resnet_batch != 16:
        parts.append(f"--resnet-batch {args.resnet_batch}")
    if args.quick:
        parts.append("--quick")
    if args.filter != DEFAULT_FILTERS:
        parts.append("--filter " + " ".join(repr(f) for f in args.filter))
    if args.iterations:
        parts.append(f"--iterations {args.iterations}")
    if args.iteration_time:
        parts.append(f"--iteration-time {args.iteration_time}")
    accelerators = os.environ.get("GPUDECONV_BENCH_ACCELERATORS")
    return (f"GPUDECONV_BENCH_ACCELERATORS={accelerators} " if accelerators else "") + " ".join(parts)


def memory_lines(devices, torch_runs):
    lines = ["## Memory of one training step", "",
             "Peak bytes in live tensors during one step after two warm-up steps (parameters, gradients, Adam moments, the"
             " batch and the activations): GpuDeconv's DeviceAllocator peak; PyTorch's `torch.cuda.max_memory_allocated` on"
             " a GPU, on a CPU its profiler's allocation events on top of the tensors alive before the step. `device` adds"
             " what GpuDeconv holds besides (freed blocks kept for reuse, kernel scratch).", ""]
    header = "| model | batch | accelerator | GpuDeconv MB | GpuDeconv device MB |" + "".join(f" {name} MB | ratio |" for name, _ in torch_runs)
    lines += [header, "|" + "---|" * (5 + 2 * len(torch_runs))]
    for accelerator in devices.get("accelerators", []):
        for entry in accelerator.get("training_step_memory", []):
            cells = ""
            for _, run in torch_runs:
                match = next((m for m in run.get("memory", []) if m["model"] == entry["model"]), None)
                cells += (" - | - |" if match is None else
                          f" {match['peak_tensor_bytes'] / 1e6:.1f} | {entry['peak_tensor_bytes'] / match['peak_tensor_bytes']:.2f}x |")
            lines.append(f"| {entry['model']} | {entry['batch']} | {accelerator['kind']} | {entry['peak_tensor_bytes'] / 1e6:.1f} |"
                         f" {entry['peak_device_bytes'] / 1e6:.1f} |{cells}")
    return lines + ["", "`ratio` = GpuDeconv / PyTorch (at most 1 meets the target).", ""]


def chart(rows, torch_runs, args, png, env):
    """Writes the PNG chart of every rate (GpuDeconv: the best algorithm per accelerator) with the benchmarks
    executable's --chart; returns a note for the page when it could not."""
    grouped = {}
    for row in rows:
        op = OPS.get(row["method"], row["method"])
        label = f"{row['case']} {op}" + (" (trusted)" if row["method"] == "UnpoolTrusted" else "")
        work, unit = work_of(row["case"], op, args.batch, args.large_batch, args.resnet_batch)
        if work is None:
            continue
        entry = grouped.setdefault(label, {"label": label, "unit": unit, "series": {}, "case": row["case"], "op": op})
        rate = work / (row["ms"] * 1e-3) / 1e9
        entry["series"][row["kind"]] = max(rate, entry["series"].get(row["kind"], 0))
    for entry in grouped.values():
        for name, run in torch_runs:
            match = next((r for r in run["results"] if r["case"] == entry["case"] and r["op"] == entry["op"]), None)
            if match:
                entry["series"][name] = match["rate"]
    if not grouped:
        return "Chart skipped: no rate to draw."
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(sorted(grouped.values(), key=lambda e: e["label"]), f)
    command = bench_command(args.bench_exe) + ["--chart", f.name, os.path.abspath(png)]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, env=env, cwd=ROOT)
    os.unlink(f.name)
    return None if result.returncode == 0 else "Chart skipped: the benchmarks' --chart failed (see the console output)."


def onnx_runtime_run(rows, args):
    """ONNX Runtime's rows (OnnxRuntimeBenchmarks.cs) as a peer run shaped like torch_ops.py's, or None without any."""
    results = []
    for row in rows:
        if not row["type"].startswith("OnnxRuntime"):
            continue
        op = OPS.get(row["method"], row["method"])
        work, unit = work_of(row["case"], op, args.batch, args.large_batch, args.resnet_batch)
        results.append({"case": row["case"], "op": op, "ms": row["ms"], "work": work, "unit": unit,
                        "rate": work / (row["ms"] * 1e-3) / 1e9})
    if not results:
        return None
    return {"meta": {"version": ort_version()}, "results": results}


def ort_version():
    """The Microsoft.ML.OnnxRuntime version the benchmarks reference (their csproj)."""
    path = os.path.join(ROOT, "benchmarks", "GpuDeconv.Benchmarks", "GpuDeconv.Benchmarks.csproj")
    with open(path) as f:
        match = re.search(r'Include="Microsoft\.ML\.OnnxRuntime" Version="([^"]+)"', f.read())
    return match.group(1) if match else "?"


def peer_row(run, case, op):
    """A peer run's row for a case and op (ms, and PyTorch's single_ms), or None."""
    return None if run is None else next((r for r in run["results"] if r["case"] == case and r["op"] == op), None)


def target_lines(ours, peers, devices, args):
    """Issue 19's targets, each computed from this run's rows: met, missed, or not measured."""
    torch = next((run for name, run in peers if name == "PyTorch"), None)
    ort = next((run for name, run in peers if name == "ONNX Runtime"), None)
    cpu_kinds = ("cpu", "opencl")

    def times(case, method, kinds=cpu_kinds):
        """{accelerator label: ms} of our rows for a case and method on the CPU routes."""
        return {row["accelerator"]: row["ms"] for row in ours
                if row["case"] == case and row["method"] == method and row["kind"] in kinds}

    def best(case, method, kinds=cpu_kinds):
        found = times(case, method, kinds)
        return min(found.items(), key=lambda item: item[1]) if found else (None, None)

    rows = []

    def add(what, target, value, met, where):
        rows.append(f"| {what} | {target} | {value} | {'met' if met else '**missed**'} | {where} |")

    def versus(what, case, method, op, run, name, goal, kinds=cpu_kinds):
        label, ms = best(case, method, kinds)
        row = peer_row(run, case, op)
        if ms is None or row is None:
            rows.append(f"| {what} | >= {goal:.2f}x {name} | - | not measured | - |")
            return
        theirs, single = row["ms"], row.get("single_ms")
        aside = f"; single calls {milliseconds(single)} ms" if single is not None and single != theirs else ""
        add(what, f">= {goal:.2f}x {name}", f"{theirs / ms:.2f}x ({milliseconds(ms)} vs {milliseconds(theirs)} ms{aside})", theirs / ms >= goal, label)

    versus("CIFAR training step, fastest CPU route", "cifar", "TrainingStep", "training-step", torch, "PyTorch", 1.25)
    for case in ("conv1", "conv2", "conv3"):
        for method in ("Forward", "BackwardInput", "BackwardFilter"):
            versus(f"{case} {OPS[method]}", case, method, OPS[method], torch, "PyTorch", 1.0)
    label, ms = best("conv2", "Forward")
    peak = next((a.get("peak_gflops") for a in (devices or {}).get("accelerators", []) if label and a["kind"] == label.split()[0]), None)
    if ms is not None and peak:
        rate = work_of("conv2", "forward", args.batch, args.large_batch)[0] / (ms * 1e-3) / 1e9
        add("conv2 forward, share of FP32 peak", ">= 75%", f"{100 * rate / peak:.0f}% ({rate:.0f} of {peak:.0f} GFLOP/s)", rate >= 0.75 * peak, label)
    managed, pocl = times("cifar", "TrainingStep", ("cpu",)), times("cifar", "TrainingStep", ("opencl",))
    if managed and pocl:
        m, p = min(managed.values()), min(pocl.values())
        add("managed CPU route, CIFAR step", "<= 1.25x pocl's time", f"{m / p:.2f}x ({milliseconds(m)} vs {milliseconds(p)} ms)", m <= 1.25 * p, "cpu vs opencl")
    else:
        rows.append("| managed CPU route, CIFAR step | <= 1.25x pocl's time | - | not measured | - |")
    versus("LeNet-5 training step", "lenet5", "TrainingStep", "training-step", torch, "PyTorch", 1.5)
    for case in ("pool1", "pool2"):
        for method in ("MaxPoolWithArgmax", "MaxPoolBackward", "Unpool"):
            versus(f"{case} {OPS[method]}", case, method, OPS[method], torch, "PyTorch", 1.5)
    for case in ("resnet-stem", "resnet-56", "resnet-28", "resnet-14", "resnet-7", "resnet18"):
        for name, run in (("PyTorch", torch), ("ONNX Runtime", ort)):
            versus(f"{case} forward", case, "Forward", "forward", run, name, 1.0)
    for accelerator in (devices or {}).get("accelerators", []):
        if accelerator["kind"] not in cpu_kinds or torch is None:
            continue
        for entry in accelerator.get("training_step_memory", []):
            match = next((m for m in torch.get("memory", []) if m["model"] == entry["model"]), None)
            if match:
                ratio = entry["peak_tensor_bytes"] / match["peak_tensor_bytes"]
                add(f"{entry['model']} step memory", "<= 1.5x PyTorch's peak", f"{ratio:.2f}x", ratio <= 1.5, accelerator["kind"])
    lines = ["## Targets (issue 19)", "",
             "Each computed from the rows above: our fastest CPU route (`cpu` = the managed CPU accelerator, `opencl` = pocl)"
             " against the peer in this same run.", "",
             "| target | goal | this run | | route |", "|---|---|---|---|---|"] + rows + [""]
    return lines


def scaling_lines(rows, args, png, env):
    """The scaling sweep: ms per GFLOP of a 3x3 64->64 convolution (forward) from batch 32 to 1024 at 32x32 and from
    32x32 to 224x224 at batch 32, per CPU route, with the spread of each sweep and a chart."""
    if not rows:
        return []
    lines = ["## Cost against work", "",
             "A 3x3 SAME convolution, 64 -> 64 channels, forward (`ScalingBenchmarks`): milliseconds per GFLOP as the batch"
             " grows from 32 to 1024 images of 32x32, and as the image grows from 32x32 to 224x224 at batch 32. `spread` ="
             " (largest - smallest) / smallest ms per GFLOP within a sweep; the target is at most 20%.", ""]
    kinds = sorted({row["accelerator"] for row in rows})
    ms_of = {(scaling_point(row["case"]), row["accelerator"]): row["ms"] for row in rows}
    points = sorted({point for point, _ in ms_of}, key=lambda p: (p[1] != 32, p[0], p[1]))
    gflop_of = {(batch, size): work_of(f"scale-b{batch}-s{size}", "forward", args.batch)[0] / 1e9 for batch, size in points}
    lines += ["| batch | size | GFLOP |" + "".join(f" {k} ms | {k} ms/GFLOP |" for k in kinds), "|---|---|---|" + "---|---|" * len(kinds)]
    series = []
    for point in points:
        gflop = gflop_of[point]
        cells = ""
        for kind in kinds:
            ms = ms_of.get((point, kind))
            cells += " - | - |" if ms is None else f" {milliseconds(ms)} | {ms / gflop:.3f} |"
        lines.append(f"| {point[0]} | {point[1]} | {gflop:.2f} |{cells}")
    lines.append("")
    for kind in kinds:
        for sweep, members in (("batch 32 to 1024 at 32x32", [p for p in points if p[1] == 32]),
                               ("32x32 to 224x224 at batch 32", [p for p in points if p[0] == 32])):
            measured = [{"label": f"b{batch} s{size}", "gflop": gflop_of[(batch, size)],
                         "ms_per_gflop": ms_of[((batch, size), kind)] / gflop_of[(batch, size)]}
                        for batch, size in members if ((batch, size), kind) in ms_of]
            if len(measured) < 2:
                continue
            values = [m["ms_per_gflop"] for m in measured]
            spread = (max(values) - min(values)) / min(values)
            lines.append(f"- `{kind}`, {sweep}: spread {100 * spread:.0f}% ({'met' if spread <= 0.2 else '**missed**'}).")
            series.append({"name": f"{kind}, {sweep}", "points": measured})
    lines.append("")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(series, f)
    command = bench_command(args.bench_exe) + ["--scaling-chart", f.name, os.path.abspath(png)]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, env=env, cwd=ROOT)
    os.unlink(f.name)
    lines.append(f"![ms per GFLOP against work]({os.path.basename(png)})" if result.returncode == 0
                 else "Scaling chart skipped: the benchmarks' --scaling-chart failed (see the console output).")
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where PyTorch runs")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--large-batch", type=int, default=512, help="batch of the larger shape (conv-large, pool-large)")
    parser.add_argument("--resnet-batch", type=int, default=16, help="batch of ResNet-18's layer cases (224x224)")
    parser.add_argument("--quick", action="store_true", help="one BenchmarkDotNet iteration, 3 PyTorch runs: proves it runs, numbers mean little")
    parser.add_argument("--out", help="markdown file to write (default: print); the chart goes next to it as .png")
    parser.add_argument("--filter", nargs="+", default=DEFAULT_FILTERS,
                        help="BenchmarkDotNet filters (default: every class)")
    parser.add_argument("--iterations", type=int, help="BenchmarkDotNet iterations per case (default: the suite's 10; 2 warm-ups when given)")
    parser.add_argument("--iteration-time", type=int, help="BenchmarkDotNet's target milliseconds per iteration (default 500;"
                        " tools/gpu-check.sh uses 100 to fit a GPU lent for minutes)")
    parser.add_argument("--bench-exe", help="a published GpuDeconv.Benchmarks executable to run instead of `dotnet run`"
                        " (GPU machines have no .NET SDK: tools/gpu-bundles.sh)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch (GpuDeconv's numbers only)")
    args = parser.parse_args()

    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    env = dict(os.environ, GPUDECONV_BENCH_BATCH=str(args.batch), GPUDECONV_BENCH_LARGE_BATCH=str(args.large_batch),
               GPUDECONV_BENCH_RESNET_BATCH=str(args.resnet_batch))
    if args.quick:
        env["GPUDECONV_BENCH_SCALING"] = "small"   # the scaling sweep's first points only: quick proves it runs
    load_before = load_average()
    with tempfile.TemporaryDirectory() as workdir:
        ours = run_gpudeconv(args, workdir, env)
        devices = describe_devices(args, workdir, env)
        torch_runs = [] if args.no_torch else [("PyTorch", run_torch(args, False, workdir))]
        if args.device == "cuda" and not args.no_torch:
            torch_runs.append(("PyTorch TF32", run_torch(args, True, workdir)))

    # ONNX Runtime's classes are a peer like PyTorch, not an accelerator; the scaling sweep gets a section of its own.
    ort = onnx_runtime_run(ours, args)
    scaling = [row for row in ours if scaling_point(row["case"])]
    ours = [row for row in ours if not row["type"].startswith("OnnxRuntime") and not scaling_point(row["case"])]
    peaks = {a["kind"]: a for a in (devices or {}).get("accelerators", [])}
    lines = [f"# GpuDeconv vs PyTorch, batch {args.batch} (larger shape: batch {args.large_batch})", "",
             f"- Date: {datetime.date.today().isoformat()}",
             f"- Machine: {machine_description()}; 1-minute load average {load_before} at the start, {load_average()} at the end"
             " (on a shared host it includes other tenants' work)",
             f"- Command: `{command_line(args)}`",
             "- GpuDeconv and ONNX Runtime: BenchmarkDotNet's median of iteration means per operation (launch + synchronize);"
             " PyTorch: the same statistic (the median of as many iteration means, each iteration as many calls as fill"
             " the same time), after 3 warm-ups and 20 single calls, the faster of NHWC (channels_last) and NCHW. The"
             " targets also give PyTorch's median of single calls, which a quiet moment can favour.",
             "- `speed vs torch` = PyTorch time / GpuDeconv time (above 1: GpuDeconv is faster). `% peak`: GFLOP/s of the"
             " device's FP32 peak, GB/s of its memory bandwidth (sources below)."]
    if args.quick:
        lines.append("- **Quick mode**: one iteration per case, to prove the suite runs. These numbers mean nothing.")
    if args.no_torch:
        lines.append("- PyTorch: skipped (--no-torch).")
    for name, run in torch_runs:
        if run is None:
            lines.append(f"- {name}: skipped (PyTorch missing or failed; see the console output).")
        else:
            meta = run["meta"]
            lines.append(f"- {name}: torch {meta['torch']} on {meta['device']} ({meta['threads']} threads"
                         f"{', cuDNN ' + str(meta['cudnn']) if meta.get('cudnn') else ''}"
                         f"{', ' + meta['name'] if meta.get('name') else ''}).")
    if devices is None:
        lines.append("- Peaks and memory: skipped (--describe failed; see the console output).")
    for kind, device in peaks.items():
        gflops = f"{device['peak_gflops']:.0f} GFLOP/s" if device.get("peak_gflops") else "unknown GFLOP/s"
        gbs = f"{device['peak_gbs']:.1f} GB/s" if device.get("peak_gbs") else "unknown GB/s"
        lines.append(f"- Peak of `{kind}` ({device['name']}): {gflops}, {gbs} ({device['peak_source']}).")
    available = [(name, run) for name, run in torch_runs if run is not None]
    if ort is not None:
        lines.append(f"- ONNX Runtime: {ort['meta']['version']} in process, CPU execution provider, {os.cpu_count()} intra-op threads"
                     " (benchmarks/GpuDeconv.Benchmarks/OnnxRuntimeBenchmarks.cs), forward convolutions and ResNet-18 only.")
        available.append(("ONNX Runtime", ort))
    lines.append("")

    header = "| case | op | accelerator | GpuDeconv ms | rate | % peak |" + "".join(f" {name} ms | speed vs {name} |" for name, _ in available)
    lines += [header, "|" + "---|" * (6 + 2 * len(available))]
    for row in sorted(ours, key=lambda r: (r["case"], r["method"], r["accelerator"])):
        op = OPS.get(row["method"], row["method"])
        torch_cells = ""
        for _, run in available:
            match = next((r for r in run["results"] if r["case"] == row["case"] and r["op"] == op), None)
            torch_cells += " - | - |" if match is None else f" {milliseconds(match['ms'])} | {match['ms'] / row['ms']:.2f}x |"
        work, unit = work_of(row["case"], op, args.batch, args.large_batch, args.resnet_batch)
        rate_cell = percent = "-"
        if work is not None:
            rate = work / (row["ms"] * 1e-3) / 1e9
            peak = peaks.get(row["kind"], {}).get("peak_gflops" if unit.startswith("GFLOP") else "peak_gbs")
            rate_cell, percent = f"{rate:.2f} {unit}", (f"{100 * rate / peak:.1f}%" if peak else "-")
        label = row["method"] + (" (trusted)" if row["method"] == "UnpoolTrusted" else "")
        lines.append(f"| {row['case']} | {label} | {row['accelerator']} | {milliseconds(row['ms'])} | {rate_cell} | {percent} |{torch_cells}")
    lines.append("")
    if devices is not None:
        lines += memory_lines(devices, [(name, run) for name, run in available if name != "ONNX Runtime"])
    lines += target_lines(ours, available, devices, args)
    scaling_png = (os.path.splitext(args.out)[0] if args.out else os.path.join(tempfile.gettempdir(), "gpudeconv-compare")) + "-scaling.png"
    lines += scaling_lines(scaling, args, scaling_png, env)

    png = os.path.splitext(args.out)[0] + ".png" if args.out else os.path.join(tempfile.gettempdir(), "gpudeconv-compare.png")
    note = chart(ours, available, args, png, env)
    lines.append(note if note else f"![throughput per op]({os.path.basename(png)})")

    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {args.out} and {png}" if not note else f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
