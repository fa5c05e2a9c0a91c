using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuDeconv.Benchmarks;

/// <summary>A benchmark parameter that knows the work each benchmark method does on it (a layer's shapes: its FLOP or bytes).</summary>
public interface IWorkload
{
    /// <summary>The work of one operation of <paramref name="method"/>, in giga-units (GFLOP or GB).</summary>
    double GigaUnits(string method);
}

/// <summary>Work done by one operation of a benchmark, in giga-units (GB moved, GFLOP computed).</summary>
/// <remarks>
/// With <see cref="CubedParameter"/> set, the work is <c>gigaUnitsPerOperation * p^3</c> for that integer parameter p (GEMM: 2e-9 * N^3).
/// With <see cref="WorkloadParameter"/> set, that parameter is an <see cref="IWorkload"/> and says the work of the method.
/// </remarks>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ThroughputAttribute(double gigaUnitsPerOperation, string unit) : Attribute
{
    public double GigaUnitsPerOperation { get; } = gigaUnitsPerOperation;

    public string Unit { get; } = unit;

    public string? CubedParameter { get; init; }

    public string? WorkloadParameter { get; init; }

    public double WorkOf(BenchmarkCase benchmarkCase)
    {
        if (WorkloadParameter is not null)
            return benchmarkCase.Parameters[WorkloadParameter] is IWorkload workload
                ? workload.GigaUnits(benchmarkCase.Descriptor.WorkloadMethod.Name)
                : double.NaN;
        if (CubedParameter is null) return GigaUnitsPerOperation;
        double p = Convert.ToDouble(benchmarkCase.Parameters[CubedParameter], CultureInfo.InvariantCulture);
        return GigaUnitsPerOperation * p * p * p;
    }
}

/// <summary>The members every custom column of the suite shares; a column supplies its value for a case.</summary>
public abstract class SuiteColumn(string id, string name, int priority, string legend) : IColumn
{
    public string Id => id;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => priority;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => Value(summary, benchmarkCase) ?? "-";

    /// <summary>The cell's text, or null for "-" (no result, no work attribute).</summary>
    protected abstract string? Value(Summary summary, BenchmarkCase benchmarkCase);

    /// <summary>Work per second of a case (giga-units of its <see cref="ThroughputAttribute"/>), or null without a result or attribute.</summary>
    protected static (double PerSecond, ThroughputAttribute Throughput)? Rate(Summary summary, BenchmarkCase benchmarkCase)
    {
        var throughput = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<ThroughputAttribute>();
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (throughput is null || statistics is null || statistics.Mean <= 0) return null;
        return (throughput.WorkOf(benchmarkCase) / (statistics.Mean * 1e-9), throughput);
    }
}

/// <summary>Shows GB/s or GFLOP/s computed from the mean time per operation and the method's <see cref="ThroughputAttribute"/>.</summary>
public sealed class ThroughputColumn() : SuiteColumn(nameof(ThroughputColumn), "Throughput", 0, "GB/s or GFLOP/s from the mean time per operation (1 GB = 1e9 bytes)")
{
    protected override string? Value(Summary summary, BenchmarkCase benchmarkCase) =>
        Rate(summary, benchmarkCase) is var (perSecond, throughput)
            ? string.Create(CultureInfo.InvariantCulture, $"{perSecond:G4} {throughput.Unit}")
            : null;
}

/// <summary>Shows how many times faster than the CPU accelerator each case is (CPU mean / this mean).</summary>
public sealed class SpeedupOverCpuColumn() : SuiteColumn(nameof(SpeedupOverCpuColumn), "vs cpu", 1, "Speed-up over the cpu accelerator (baseline) for the same benchmark")
{
    protected override string? Value(Summary summary, BenchmarkCase benchmarkCase)
    {
        // The same method with the same other parameters (GEMM size), on the cpu accelerator.
        var cpuCase = summary.BenchmarksCases.FirstOrDefault(other =>
            other.Descriptor.Equals(benchmarkCase.Descriptor) &&
            Equals(other.Parameters[nameof(AcceleratorBenchmark.Accelerator)], "cpu") &&
            other.Parameters.Items.All(item => item.Name == nameof(AcceleratorBenchmark.Accelerator) ||
                Equals(item.Value, benchmarkCase.Parameters[item.Name])));
        double? cpuMean = cpuCase is null ? null : summary[cpuCase]?.ResultStatistics?.Mean;
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (cpuMean is not > 0 || mean is not > 0) return null;
        return string.Create(CultureInfo.InvariantCulture, $"{cpuMean.Value / mean.Value:F2}x");
    }
}

/// <summary>Shows the throughput as a percentage of the device's peak (<see cref="DevicePeak"/>): GFLOP/s of its FP32 peak, GB/s of its memory bandwidth.</summary>
public sealed class PercentOfPeakColumn() : SuiteColumn(nameof(PercentOfPeakColumn), "% peak", 2,
    "Throughput as a percentage of the device's FP32 peak (GFLOP/s rows) or memory bandwidth (GB/s rows); sources: docs/benchmarks.md")
{
    protected override string? Value(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (Rate(summary, benchmarkCase) is not var (perSecond, throughput)) return null;
        if (benchmarkCase.Parameters[nameof(AcceleratorBenchmark.Accelerator)] is not string kind) return null;
        var peak = DevicePeak.ForKind(kind);
        double limit = throughput.Unit.StartsWith("GFLOP", StringComparison.Ordinal) ? peak.GigaFlops : peak.GigaBytesPerSecond;
        return double.IsFinite(limit) && limit > 0 ? string.Create(CultureInfo.InvariantCulture, $"{100 * perSecond / limit:F1}%") : null;
    }
}
