using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using GpuDeconv.Benchmarks;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

// In-process so the suite runs from any output folder (BenchmarkDotNet's default toolchain
// looks for the .csproj above the binaries, which --artifacts-path moves elsewhere).
// --quick: one iteration, no warm-up: proves every benchmark runs (CI), numbers mean nothing.
// --describe FILE: writes the accelerators' peaks and a training step's memory as JSON, runs no benchmark.
// --chart ROWS.json OUT.png: draws compare.py's throughput chart (ThroughputChart.cs), runs no benchmark.
// --scaling-chart SERIES.json OUT.png: draws compare.py's cost-against-work chart (ScalingChart.cs), runs no benchmark.
int describe = Array.IndexOf(args, "--describe");
if (describe >= 0)
{
    if (describe + 1 >= args.Length)
    {
        Console.Error.WriteLine("--describe needs a file name: --describe devices.json");
        return 2;
    }
    Describe.Write(args[describe + 1]);
    return 0;
}

foreach (var (option, draw) in new (string, Action<string, string>)[] { ("--chart", ThroughputChart.Write), ("--scaling-chart", ScalingChart.Write) })
{
    int at = Array.IndexOf(args, option);
    if (at < 0) continue;
    if (at + 2 >= args.Length)
    {
        Console.Error.WriteLine($"{option} needs the rows and the image: {option} rows.json chart.png");
        return 2;
    }
    try
    {
        draw(args[at + 1], args[at + 2]);
    }
    catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"{option}: {e.Message}");
        return 1;
    }
    Console.WriteLine($"wrote {args[at + 2]}");
    return 0;
}

bool quick = args.Contains("--quick");
string[] benchmarkArgs = [.. args.Where(argument => argument != "--quick")];

var job = quick
    ? Job.Dry.WithToolchain(InProcessNoEmitToolchain.Instance).WithId("quick")
    : Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10)
        .WithToolchain(InProcessNoEmitToolchain.Instance).WithId("inprocess");

var config = DefaultConfig.Instance
    .AddJob(job)
    // ILGPU's accelerators compile only GPU-shaped kernels: the host-shaped (Float8) variants are not theirs to run;
    // ILGPU.Algorithms runs on ILGPU's accelerators only.
    // (ONNX Runtime's classes have no accelerator: a Runtime parameter instead.)
    .AddFilter(new SimpleFilter(benchmark => BenchmarkAccelerators.IsIlgpu(
            benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Accelerator")?.Value as string)
        ? benchmark.Parameters.Items.All(p => p.Value is not ConvAlgorithm.Vector)
        : benchmark.Descriptor.Type != typeof(IlgpuAlgorithmsBenchmarks)))
    .AddColumn(new ThroughputColumn(), new SpeedupOverCpuColumn(), new PercentOfPeakColumn())
    .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);

var summaries = BenchmarkSwitcher.FromAssembly(typeof(AcceleratorBenchmark).Assembly).Run(benchmarkArgs, config).ToList();
// Non-zero exit when nothing ran or a benchmark failed, so CI notices.
bool failed = summaries.Count == 0 || summaries.Any(summary =>
    summary.HasCriticalValidationErrors || summary.Reports.Length == 0 || summary.Reports.Any(report => !report.Success));
return failed ? 1 : 0;
