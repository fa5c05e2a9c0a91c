#!/usr/bin/env python3
"""Runs the kernel benchmarks of GpuDeconv and the same shapes in PyTorch in one go, and writes a
markdown page with both side by side and their ratio.

    python3 benchmarks/compare/compare.py [--device cpu|cuda] [--quick] [--bench-exe PATH] [--out docs/results/DATE-MACHINE-kernels.md]

GpuDeconv runs through BenchmarkDotNet (benchmarks/GpuDeconv.Benchmarks, classes ConvBenchmarks,
PoolBenchmarks, DeconvBenchmarks) on every accelerator it finds; PyTorch runs through torch_ops.py
(CPU: all cores; --device cuda: cuDNN with TF32 off, then on). Without PyTorch the page still lists
GpuDeconv's numbers and says what was skipped. "speed vs torch" is PyTorch's time / GpuDeconv's
time: above 1 means GpuDeconv is faster.
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
from torch_ops import work_of  # noqa: E402  (the same work formulas on both sides)

DEFAULT_FILTERS = ["*ConvBenchmarks*", "*PoolBenchmarks*", "*DeconvBenchmarks*"]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# BenchmarkDotNet method -> the op name torch_ops.py uses for the same work.
OPS = {
    "Forward": "forward", "BackwardInput": "backward-input", "BackwardFilter": "backward-filter",
    "MaxPoolWithArgmax": "maxpool-argmax", "MaxPoolBackward": "maxpool-backward",
    "Unpool": "unpool", "UnpoolTrusted": "unpool", "Transpose": "conv2d-transpose",
}


def run_gpudeconv(quick, batch, workdir, bench_exe, filters=DEFAULT_FILTERS, iterations=None):
    artifacts = os.path.join(workdir, "bdn")
    command = ([bench_exe] if bench_exe else
               ["dotnet", "run", "-c", "Release", "--project", os.path.join(ROOT, "benchmarks", "GpuDeconv.Benchmarks"), "--"])
    if quick:
        command.append("--quick")
    command += ["--filter", *filters, "--exporters", "json", "--artifacts", artifacts]
    if iterations:
        command += ["--iterationCount", str(iterations), "--warmupCount", "2"]
    env = dict(os.environ, GPUDECONV_BENCH_BATCH=str(batch))
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
            accelerator = params.get("Accelerator", "?")
            if "Algorithm" in params:
                accelerator += " " + params["Algorithm"]
            rows.append({"accelerator": accelerator, "case": params.get("Layer", "?"),
                         "method": benchmark["Method"], "ms": stats["Median"] / 1e6})
    return rows


def python_with_torch():
    """This interpreter if it has PyTorch, else Debian's (python3-torch installs there), else this one (to report the skip)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(candidate) and subprocess.run([candidate, "-c", "import torch"], capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def run_torch(device, batch, tf32, workdir):
    out = os.path.join(workdir, f"torch-{device}-{'tf32' if tf32 else 'fp32'}.json")
    command = [python_with_torch(), os.path.join(os.path.dirname(__file__), "torch_ops.py"), "--device", device,
               "--batch", str(batch), "--json", out]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where PyTorch runs")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="one BenchmarkDotNet iteration: proves it runs, numbers mean little")
    parser.add_argument("--out", help="markdown file to write (default: print)")
    parser.add_argument("--filter", nargs="+", default=DEFAULT_FILTERS,
                        help="BenchmarkDotNet filters (default: the conv, pool and deconv classes)")
    parser.add_argument("--iterations", type=int, help="BenchmarkDotNet iterations per case (default: the suite's 10; 2 warm-ups when given)")
    parser.add_argument("--bench-exe", help="a published GpuDeconv.Benchmarks executable to run instead of `dotnet run`"
                        " (GPU machines have no .NET SDK: tools/gpu-bundles.sh)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        ours = run_gpudeconv(args.quick, args.batch, workdir, args.bench_exe, args.filter, args.iterations)
        torch_runs = [("PyTorch", run_torch(args.device, args.batch, False, workdir))]
        if args.device == "cuda":
            torch_runs.append(("PyTorch TF32", run_torch(args.device, args.batch, True, workdir)))

    lines = [f"# Kernels vs PyTorch, batch {args.batch}", "",
             f"- Date: {datetime.date.today().isoformat()}",
             f"- Machine: {machine_description()}",
             f"- Command: `python3 benchmarks/compare/compare.py --device {args.device} --batch {args.batch}"
             f"{' --quick' if args.quick else ''}"
             f"{' --filter ' + ' '.join(repr(f) for f in args.filter) if args.filter != DEFAULT_FILTERS else ''}"
             f"{' --iterations ' + str(args.iterations) if args.iterations else ''}`",
             "- GpuDeconv: BenchmarkDotNet median per operation (launch + synchronize); PyTorch: median of 20 runs after 3 warm-ups,"
             " the faster of NHWC (channels_last) and NCHW.",
             "- `speed vs torch` = PyTorch time / GpuDeconv time (above 1: GpuDeconv is faster).", ""]
    available = [(name, run) for name, run in torch_runs if run is not None]
    for name, run in torch_runs:
        if run is None:
            lines.append(f"- {name}: skipped (PyTorch missing or failed; see the console output).")
        else:
            meta = run["meta"]
            lines.append(f"- {name}: torch {meta['torch']} on {meta['device']} ({meta['threads']} threads"
                         f"{', cuDNN ' + str(meta['cudnn']) if meta.get('cudnn') else ''}"
                         f"{', ' + meta['name'] if meta.get('name') else ''}).")
    lines.append("")

    header = "| case | op | accelerator | GpuDeconv ms | rate |" + "".join(f" {name} ms | speed vs {name} |" for name, _ in available)
    lines += [header, "|" + "---|" * (5 + 2 * len(available))]
    for row in sorted(ours, key=lambda r: (r["case"], r["method"], r["accelerator"])):
        op = OPS.get(row["method"], row["method"])
        torch_cells = ""
        for _, run in available:
            match = next((r for r in run["results"] if r["case"] == row["case"] and r["op"] == op), None)
            torch_cells += " - | - |" if match is None else f" {match['ms']:.3f} | {match['ms'] / row['ms']:.2f}x |"
        work, unit = work_of(row["case"], op, args.batch)
        rate = f"{work / (row['ms'] * 1e-3) / 1e9:.2f} {unit}"
        label = row["method"] + (" (trusted)" if row["method"] == "UnpoolTrusted" else "")
        lines.append(f"| {row['case']} | {label} | {row['accelerator']} | {row['ms']:.3f} | {rate} |{torch_cells}")

    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
