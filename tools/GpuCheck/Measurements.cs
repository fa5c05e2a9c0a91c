using System.Diagnostics;
using GpuDeconv.Benchmarks;
using GpuDeconv.Compute;

namespace GpuDeconv.GpuCheck;

/// <summary>One accelerator's speed figures; NaN where not measured.</summary>
internal sealed record Timing(string Accelerator, double LaunchSyncMicroseconds, double QueuedLaunchMicroseconds,
    double SaxpyGBps, int GemmSize, double GemmGflops, string? Error)
{
    public string ToMarkdownRow() => Error is null
        ? $"| {Accelerator} | {LaunchSyncMicroseconds:F1} | {QueuedLaunchMicroseconds:F2} | {SaxpyGBps:F1} | {(GemmSize > 0 ? $"{GemmGflops:F1} (N={GemmSize})" : "not timed")} |"
        : $"| {Accelerator} | error: {Error} | | | |";
}

/// <summary>Times launches, SAXPY and a tiled GEMM with stream markers (device time) and a stopwatch (host round trip).</summary>
internal static class Measurements
{
    private const long SaxpyBytesPerArray = 256L << 20;

    public static Timing Run(Accelerator accelerator, int gemmSize)
    {
        try
        {
            // Progress on stderr, so a slow step is visible without spoiling the markdown on stdout.
            Console.Error.WriteLine($"  timing launches on {accelerator}...");
            var (launchSync, queued) = MeasureLaunches(accelerator);
            Console.Error.WriteLine("  timing SAXPY...");
            double saxpy = MeasureSaxpy(accelerator);
            if (gemmSize > 0) Console.Error.WriteLine($"  timing GEMM N={gemmSize}...");
            double gemm = gemmSize > 0 ? MeasureGemm(accelerator, gemmSize) : double.NaN;
            Console.WriteLine($"  launch+sync {launchSync:F1} µs, queued launch {queued:F2} µs, SAXPY {saxpy:F1} GB/s, GEMM {gemm:F1} GFLOP/s (N={gemmSize})");
            return new Timing(accelerator.ToString(), launchSync, queued, saxpy, gemmSize, gemm, null);
        }
        catch (Exception exception)
        {
            Console.WriteLine($"  timing FAILED: {exception.GetType().Name}: {exception.Message}");
            return new Timing(accelerator.ToString(), double.NaN, double.NaN, double.NaN, gemmSize, double.NaN, exception.Message);
        }
    }

    /// <summary>Host round trip of launch+synchronize (median of 200), and device time per launch over 1000 queued launches.</summary>
    private static (double LaunchSync, double Queued) MeasureLaunches(Accelerator accelerator)
    {
        var stream = accelerator.DefaultStream;
        using var buffer = accelerator.Allocate1D<int>(1);
        var empty = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(SubstrateKernels.Empty);
        for (int i = 0; i < 20; i++) empty(1, buffer.View);
        stream.Synchronize();

        var samples = new double[200];
        for (int i = 0; i < samples.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            empty(1, buffer.View);
            stream.Synchronize();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        const int queuedLaunches = 1000;
        using var begin = stream.RecordMarker();
        for (int i = 0; i < queuedLaunches; i++) empty(1, buffer.View);
        using var end = stream.RecordMarker();
        stream.Synchronize();
        double queued = end.ElapsedMillisecondsSince(begin) * 1000.0 / queuedLaunches;
        return (Median(samples), queued);
    }

    /// <summary>Best of 5 SAXPY runs over 256 MiB per array, 3 arrays' worth of traffic, device time from markers.</summary>
    private static double MeasureSaxpy(Accelerator accelerator)
    {
        var stream = accelerator.DefaultStream;
        int length = (int)(SaxpyBytesPerArray / sizeof(float));
        using var x = accelerator.Allocate1D<float>(length);
        using var y = accelerator.Allocate1D<float>(length);
        x.MemSetToZero();
        y.MemSetToZero();
        var saxpy = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(SubstrateKernels.Saxpy);
        saxpy(length, y.View, x.View, 0.5f);
        stream.Synchronize();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            using var begin = stream.RecordMarker();
            saxpy(length, y.View, x.View, 0.5f);
            using var end = stream.RecordMarker();
            stream.Synchronize();
            best = Math.Min(best, end.ElapsedMillisecondsSince(begin));
        }
        return 3.0 * SaxpyBytesPerArray / (best * 1e-3) / 1e9;
    }

    /// <summary>Best of 5 tiled GEMMs of size n, checked against a host dot product on a few elements.</summary>
    private static double MeasureGemm(Accelerator accelerator, int n)
    {
        var stream = accelerator.DefaultStream;
        var random = new Random(7);
        var a = new float[n * n];
        var b = new float[n * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = random.Next(-4, 5);
            b[i] = random.Next(-4, 5);
        }
        using var aBuffer = accelerator.Allocate1D(a);
        using var bBuffer = accelerator.Allocate1D(b);
        using var cBuffer = accelerator.Allocate1D<float>((long)n * n);
        var gemm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(SubstrateKernels.TiledGemm);
        int groups = (n + SubstrateKernels.Tile - 1) / SubstrateKernels.Tile;
        var config = new KernelConfig(new Index2D(groups, groups), new Index2D(SubstrateKernels.Tile, SubstrateKernels.Tile));
        gemm(config, aBuffer.View, bBuffer.View, cBuffer.View, n);
        stream.Synchronize();

        // Small integers multiply and add exactly in float, so the check can be exact.
        float[] c = cBuffer.GetAsArray1D();
        foreach (var (row, column) in new[] { (0, 0), (n - 1, n - 1), (n / 2, n / 3), (n - 1, 0) })
        {
            float expected = 0;
            for (int k = 0; k < n; k++) expected += a[row * n + k] * b[k * n + column];
            if (c[row * n + column] != expected)
                throw new InvalidOperationException($"tiled GEMM N={n}: c[{row},{column}] = {c[row * n + column]}, expected {expected}");
        }

        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            using var begin = stream.RecordMarker();
            gemm(config, aBuffer.View, bBuffer.View, cBuffer.View, n);
            using var end = stream.RecordMarker();
            stream.Synchronize();
            best = Math.Min(best, end.ElapsedMillisecondsSince(begin));
        }
        return 2.0 * n * n * n / (best * 1e-3) / 1e9;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
