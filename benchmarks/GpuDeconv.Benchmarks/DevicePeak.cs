using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// The arithmetic and memory peaks that the "% peak" column divides by, and where each figure comes from.
/// </summary>
/// <remarks>
/// CUDA: from the device's attributes, SMs x FP32 lanes per SM (by compute capability) x 2 x SM clock, and
/// 2 x memory clock x bus width (the driver reports the boost clock, so this is the datasheet peak: 66.9 TFLOP/s
/// and 3.35 TB/s on an H100 SXM). Host CPUs (the CPU accelerator and OpenCL on a CPU such as pocl): fused
/// multiply-adds measured on every core (the vector extensions alone do not tell how many FMA pipes a core has, and
/// turbo clocks are not in /proc/cpuinfo); memory: y += x measured here across all cores (3 arrays of traffic), since
/// no register tells a host's bandwidth. A convolution's rate counts the direct convolution's FLOP, so an algorithm
/// that needs fewer (Winograd) can show more than 100 %. GPUDECONV_PEAK_GFLOPS and
/// GPUDECONV_PEAK_GBS replace the host figures with known ones.
/// </remarks>
public sealed record DevicePeak(double GigaFlops, double GigaBytesPerSecond, string Source)
{
    private static readonly Dictionary<string, DevicePeak> ByKind = [];
    private static readonly Lazy<DevicePeak> Host = new(HostPeak);

    /// <summary>The peak of the first device of an accelerator kind ("cpu", "opencl", "cuda"), measured or read once per process.</summary>
    public static DevicePeak ForKind(string kind)
    {
        lock (ByKind)
        {
            if (ByKind.TryGetValue(kind, out var known)) return known;
            // ILGPU's kinds run on the same hardware as ours.
            string ours = BenchmarkAccelerators.PeakKind(kind);
            if (ours != kind) return ByKind[kind] = ForKind(ours);
            using var context = Context.CreateDefault();
            var type = Enum.Parse<AcceleratorType>(kind, ignoreCase: true);
            var device = context.FirstOrDefault(d => d.AcceleratorType == type)
                ?? throw new InvalidOperationException($"No {kind} device here; found: {string.Join(", ", context)}");
            return ByKind[kind] = For(device);
        }
    }

    /// <summary>The peak of one device.</summary>
    public static DevicePeak For(Device device) => device switch
    {
        CudaDevice cuda => Cuda(cuda),
        _ when device.RunsOnHost => Host.Value,
        _ => new DevicePeak(double.NaN, double.NaN, $"unknown for {device}"),
    };

    /// <summary>FP32 lanes per SM: 64 on GP100 (6.0), Volta and Turing (7.x) and GA100 (8.0); 128 on every other part (Maxwell, the other Pascal and Ampere chips, Ada, Hopper).</summary>
    public static int Fp32LanesPerMultiprocessor(int major, int minor) => (major, minor) switch
    {
        (6, 0) or (7, _) or (8, 0) => 64,
        _ => 128,
    };

    private static DevicePeak Cuda(CudaDevice device)
    {
        int lanes = Fp32LanesPerMultiprocessor(device.ComputeCapabilityMajor, device.ComputeCapabilityMinor);
        double gflops = device.NumMultiprocessors * lanes * 2.0 * device.ClockRateKHz / 1e6;
        double gbs = 2.0 * device.MemoryClockRateKHz * 1e3 * device.MemoryBusWidthBits / 8 / 1e9;
        return new DevicePeak(gflops, gbs, string.Create(CultureInfo.InvariantCulture,
            $"{device.NumMultiprocessors} SMs x {lanes} FP32 lanes x 2 x {device.ClockRateKHz / 1e6:F3} GHz; 2 x {device.MemoryClockRateKHz / 1e6:F3} GHz x {device.MemoryBusWidthBits}-bit bus"));
    }

    private static DevicePeak HostPeak()
    {
        string cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        string flags = FirstField(cpuinfo, "flags") ?? "";
        var flagSet = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        string isa = flagSet.Contains("avx512f") ? "AVX-512" : flagSet.Contains("avx2") && flagSet.Contains("fma") ? "AVX2 + FMA" : "SSE";
        double mhz = double.TryParse(FirstField(cpuinfo, "cpu MHz"), NumberStyles.Float, CultureInfo.InvariantCulture, out double m) ? m : double.NaN;
        int cores = Environment.ProcessorCount;
        // Measured, not derived from the flags: how many 512-bit FMAs a core retires per cycle differs between CPUs that
        // report the same flags (two on some Intel cores, one, as two 256-bit halves, on AMD Zen 4), and turbo clocks
        // are not in /proc/cpuinfo.
        double gflops = MeasureHostFma();
        string flopSource = string.Create(CultureInfo.InvariantCulture,
            $"FMA throughput measured on {cores} threads ({isa}, {(Vector512.IsHardwareAccelerated ? 512 : 256)}-bit vectors, 12 chains per thread; cpuinfo says {mhz / 1e3:F2} GHz, so {gflops / cores / (mhz / 1e3):F1} FLOP/cycle per core)");
        double gbs = MeasureHostCopy();
        string byteSource = string.Create(CultureInfo.InvariantCulture, $"y += x measured on {cores} threads");
        if (Override("GPUDECONV_PEAK_GFLOPS") is double knownFlops) (gflops, flopSource) = (knownFlops, "GPUDECONV_PEAK_GFLOPS");
        if (Override("GPUDECONV_PEAK_GBS") is double knownBytes) (gbs, byteSource) = (knownBytes, "GPUDECONV_PEAK_GBS");
        return new DevicePeak(gflops, gbs, $"{flopSource}; {byteSource}");
    }

    private static double? Override(string variable)
    {
        string? text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text)) return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : throw new ArgumentException($"{variable}={text}: expected a positive number.");
    }

    private static string? FirstField(string cpuinfo, string name)
    {
        foreach (string line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim() == name) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    /// <summary>
    /// GFLOP/s of fused multiply-adds on every core: 12 independent accumulator chains per thread (more than latency x
    /// pipes on any current core), the widest vectors the JIT accelerates, the best of three rounds of about 0.1 s.
    /// </summary>
    private static double MeasureHostFma()
    {
        const long Steps = 10_000_000;
        int parts = Environment.ProcessorCount;
        int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        double best = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, parts, _ =>
            {
                if (Vector512.IsHardwareAccelerated) FmaChains512(Steps);
                else FmaChains256(Steps);
            });
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return 2.0 * 12 * lanes * Steps * parts / best / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FmaChains512(long steps)
    {
        var m = Vector512.Create(0.9999f);
        var c = Vector512.Create(1e-4f);
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < steps; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c); a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c); a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FmaChains256(long steps)
    {
        var m = Vector256.Create(0.9999f);
        var c = Vector256.Create(1e-4f);
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < steps; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c); a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c); a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c); a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c); a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).GetElement(0);
    }

    /// <summary>
    /// GB/s of y += x over 256 MiB arrays split across all cores (3 arrays of traffic: read x, read y, write y), the best
    /// of five. An in-place update, like SAXPY, because a plain copy also reads every target line before writing it
    /// (a write-allocate the byte count would not show), which understated the bandwidth by about a third.
    /// </summary>
    private static double MeasureHostCopy()
    {
        const int Length = 64 << 20;   // floats: 256 MiB per array
        var x = new float[Length];
        var y = new float[Length];
        Array.Fill(x, 1f);
        Array.Fill(y, 2f);
        int parts = Environment.ProcessorCount;
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, parts, part =>
            {
                int begin = (int)((long)Length * part / parts), end = (int)((long)Length * (part + 1) / parts);
                var source = MemoryMarshal.Cast<float, Vector256<float>>(x.AsSpan(begin, end - begin));
                var target = MemoryMarshal.Cast<float, Vector256<float>>(y.AsSpan(begin, end - begin));
                for (int i = 0; i < target.Length; i++) target[i] += source[i];
            });
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return 3.0 * Length * sizeof(float) / best / 1e9;
    }
}
