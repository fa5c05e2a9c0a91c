using System.Diagnostics;
using System.Globalization;
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
/// and 3.35 TB/s on an H100 SXM). Host CPUs (the CPU accelerator and OpenCL on a CPU such as pocl): logical
/// cores x FLOP per cycle from the vector extensions in /proc/cpuinfo (AVX-512: 64, assuming two FMA pipes;
/// AVX2 + FMA: 32; otherwise 8) x the clock /proc/cpuinfo shows; memory: y += x measured here across all
/// cores (3 arrays of traffic), since no register tells a host's bandwidth. GPUDECONV_PEAK_GFLOPS and
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
        (int perCycle, string isa) = flagSet.Contains("avx512f") ? (64, "AVX-512, 2 FMA pipes")
            : flagSet.Contains("avx2") && flagSet.Contains("fma") ? (32, "AVX2 + FMA, 2 pipes")
            : (8, "SSE");
        double mhz = double.TryParse(FirstField(cpuinfo, "cpu MHz"), NumberStyles.Float, CultureInfo.InvariantCulture, out double m) ? m : double.NaN;
        int cores = Environment.ProcessorCount;
        double gflops = cores * perCycle * mhz / 1e3;
        string flopSource = string.Create(CultureInfo.InvariantCulture, $"{cores} cores x {perCycle} FLOP/cycle ({isa}) x {mhz / 1e3:F2} GHz");
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
