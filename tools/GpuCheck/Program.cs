using System.Diagnostics;
using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using GpuDeconv.GpuCheck;

// Runs every conformance case on every accelerator (pass/fail/skip per case), then times
// launch latency, SAXPY bandwidth and tiled GEMM with stream markers and prints a markdown
// table. Exit code 1 when a case failed. See docs/gpu-check.md.
var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: GpuCheck [--only cpu|opencl|cuda] [--no-perf] [--no-conformance] [--gemm N] [--filter TEXT]");
    return 2;
}
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

using var context = Context.CreateDefault();
Console.WriteLine("# GpuCheck");
Console.WriteLine();
Console.WriteLine("```");
Console.WriteLine(context.Describe());
Console.WriteLine("```");
Console.WriteLine();

var devices = context.Where(device => options.Only is null || device.AcceleratorType == options.Only).ToList();
var totals = new List<(string Accelerator, int Passed, int Failed, int Skipped)>();
var timings = new List<Timing>();
foreach (var device in devices)
{
    Accelerator accelerator;
    try
    {
        accelerator = device.CreateAccelerator(context);
    }
    catch (Exception exception)
    {
        Console.WriteLine($"## {device}: could not create the accelerator: {exception.Message}");
        totals.Add((device.ToString(), 0, 1, 0));
        continue;
    }
    using (accelerator)
    {
        Console.WriteLine($"## {accelerator}");
        if (device.Details.Length > 0) Console.WriteLine(device.Details);
        Console.WriteLine();
        if (options.Conformance) totals.Add(RunConformance(accelerator, options.Filter));
        if (options.Performance) timings.Add(Measurements.Run(accelerator, options.GemmSize));
        Console.WriteLine();
    }
}

Console.WriteLine("## Summary");
Console.WriteLine();
if (options.Conformance)
{
    Console.WriteLine("| accelerator | passed | failed | skipped |");
    Console.WriteLine("|---|---:|---:|---:|");
    foreach (var (name, passed, failed, skipped) in totals)
        Console.WriteLine($"| {name} | {passed} | {failed} | {skipped} |");
    Console.WriteLine();
}
if (options.Performance)
{
    Console.WriteLine("| accelerator | launch+sync (µs) | queued launch (µs, markers) | SAXPY 256 MiB (GB/s) | tiled GEMM (GFLOP/s) |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    foreach (var timing in timings)
        Console.WriteLine(timing.ToMarkdownRow());
    Console.WriteLine();
}

int failures = totals.Sum(total => total.Failed) + timings.Count(timing => timing.Error is not null);
Console.WriteLine(failures == 0 ? "GpuCheck: all checks passed." : $"GpuCheck: {failures} failure(s).");
return failures == 0 ? 0 : 1;

static (string, int, int, int) RunConformance(Accelerator accelerator, string? filter)
{
    int passed = 0, failed = 0, skipped = 0;
    foreach (var testCase in ConformanceSuite.Cases)
    {
        if (filter is not null && !testCase.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
        var watch = Stopwatch.StartNew();
        string outcome;
        try
        {
            testCase.Run(accelerator);
            passed++;
            outcome = "pass";
        }
        catch (ConformanceSkip skip)
        {
            skipped++;
            outcome = $"skip  {skip.Message}";
        }
        catch (Exception exception)
        {
            failed++;
            outcome = $"FAIL  {exception.GetType().Name}: {exception.Message}";
        }
        Console.WriteLine($"  {testCase.Name,-48} {watch.Elapsed.TotalMilliseconds,8:F1} ms  {outcome}");
    }
    Console.WriteLine($"  -> {passed} passed, {failed} failed, {skipped} skipped");
    return (accelerator.ToString(), passed, failed, skipped);
}

internal sealed record Options(AcceleratorType? Only, bool Performance, bool Conformance, int GemmSize, string? Filter)
{
    public static Options? Parse(string[] args)
    {
        var options = new Options(null, true, true, 1024, null);
        for (int i = 0; i < args.Length; i++)
        {
            string? next = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--only" when Enum.TryParse(next, ignoreCase: true, out AcceleratorType type):
                    options = options with { Only = type };
                    i++;
                    break;
                case "--no-perf":
                    options = options with { Performance = false };
                    break;
                case "--no-conformance":
                    options = options with { Conformance = false };
                    break;
                case "--gemm" when int.TryParse(next, out int size) && size > 0:
                    options = options with { GemmSize = size };
                    i++;
                    break;
                case "--filter" when next is not null:
                    options = options with { Filter = next };
                    i++;
                    break;
                default:
                    return null;
            }
        }
        return options;
    }
}
