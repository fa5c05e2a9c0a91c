using System.Globalization;

namespace GpuDeconv.Compute;

/// <summary>An OpenCL device of one platform, described by its <c>clGetDeviceInfo</c> values.</summary>
public sealed class CLDevice : Device
{
    private CLDevice(nint platform, nint device)
    {
        PlatformHandle = platform;
        DeviceHandle = device;
        PlatformName = CLApi.PlatformString(platform, CLApi.PlatformName);
        PlatformVersion = CLApi.PlatformString(platform, CLApi.PlatformVersion);
        Name = CLApi.DeviceString(device, CLApi.DeviceName);
        Vendor = CLApi.DeviceString(device, CLApi.DeviceVendor);
        DeviceVersion = CLApi.DeviceString(device, CLApi.DeviceVersion);
        DriverVersion = CLApi.DeviceString(device, CLApi.DriverVersion);
        OpenCLCVersion = CLApi.DeviceString(device, CLApi.DeviceOpenCLCVersion);
        Extensions = CLApi.DeviceString(device, CLApi.DeviceExtensions)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        DeviceType = CLApi.DeviceValue<ulong>(device, CLApi.DeviceType);
        MaxNumThreadsPerGroup = (int)Math.Min(int.MaxValue, CLApi.DeviceValue<nuint>(device, CLApi.DeviceMaxWorkGroupSize));
        NumMultiprocessors = (int)CLApi.DeviceValue<uint>(device, CLApi.DeviceMaxComputeUnits);
        MemorySize = (long)CLApi.DeviceValue<ulong>(device, CLApi.DeviceGlobalMemSize);
        MaxMemoryAllocation = (long)CLApi.DeviceValue<ulong>(device, CLApi.DeviceMaxMemAllocSize);
        MaxSharedMemoryPerGroup = (int)Math.Min(int.MaxValue, CLApi.DeviceValue<ulong>(device, CLApi.DeviceLocalMemSize));
        MaxGroupSize = ReadMaxWorkItemSizes(device);
        ulong singleConfig = CLApi.DeviceValue<ulong>(device, CLApi.DeviceSingleFpConfig);
        SupportsCorrectlyRoundedDivideSqrt = (singleConfig & CLApi.FpCorrectlyRoundedDivideSqrt) != 0;
        // CL_DEVICE_DOUBLE_FP_CONFIG is 0 when doubles are unsupported; 1.2 devices also advertise cl_khr_fp64.
        SupportsDouble = HasExtension("cl_khr_fp64") || CLApi.DeviceValue<ulong>(device, CLApi.DeviceDoubleFpConfig) != 0;
        WarpSize = GuessWarpSize();
    }

    public override AcceleratorType AcceleratorType => AcceleratorType.OpenCL;

    public override string Name { get; }

    public string Vendor { get; }

    public string PlatformName { get; }

    /// <summary>CL_PLATFORM_VERSION, e.g. <c>OpenCL 3.0 PoCL 3.1</c>.</summary>
    public string PlatformVersion { get; }

    /// <summary>CL_DEVICE_VERSION, e.g. <c>OpenCL 3.0 ...</c>.</summary>
    public string DeviceVersion { get; }

    public string DriverVersion { get; }

    /// <summary>CL_DEVICE_OPENCL_C_VERSION, e.g. <c>OpenCL C 1.2</c>.</summary>
    public string OpenCLCVersion { get; }

    public IReadOnlyList<string> Extensions { get; }

    /// <summary>True for CL_DEVICE_TYPE_CPU devices (pocl, Intel CPU runtime).</summary>
    public bool IsCpuDevice => (DeviceType & CLApi.DeviceTypeCpu) != 0;

    public override bool RunsOnHost => IsCpuDevice;

    public override int MaxNumThreadsPerGroup { get; }

    /// <summary>The subgroup width OpenCL doesn't report directly: 32 on NVIDIA, 64 on AMD GPUs, 16 on Intel GPUs, 1 on CPUs.</summary>
    public override int WarpSize { get; }

    public override long MemorySize { get; }

    /// <summary>CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer.</summary>
    public long MaxMemoryAllocation { get; }

    public override int MaxSharedMemoryPerGroup { get; }

    public override int NumMultiprocessors { get; }

    /// <summary>CL_DEVICE_MAX_WORK_ITEM_SIZES for dimensions X, Y, Z.</summary>
    public Index3D MaxGroupSize { get; }

    public bool SupportsDouble { get; }

    public bool SupportsInt64Atomics => HasExtension("cl_khr_int64_base_atomics") && HasExtension("cl_khr_int64_extended_atomics");

    /// <summary>True when the device offers native float atomics (cl_ext_float_atomics); otherwise kernels use CAS loops.</summary>
    public bool SupportsFloatAtomics => HasExtension("cl_ext_float_atomics");

    public bool SupportsCorrectlyRoundedDivideSqrt { get; }

    /// <summary>The (major, minor) version of CL_DEVICE_OPENCL_C_VERSION.</summary>
    public Version CVersion => ParseVersion(OpenCLCVersion, "OpenCL C ");

    /// <summary>The (major, minor) version of CL_PLATFORM_VERSION.</summary>
    public Version PlatformApiVersion => ParseVersion(PlatformVersion, "OpenCL ");

    public override string Details =>
        $"{PlatformName} | {DeviceVersion} | driver {DriverVersion} | {OpenCLCVersion} | {NumMultiprocessors} CUs, " +
        $"max group {MaxNumThreadsPerGroup}, local {MaxSharedMemoryPerGroup / 1024} KiB, global {MemorySize / (1024 * 1024)} MiB | " +
        $"fp64 {YesNo(SupportsDouble)}, int64 atomics {YesNo(SupportsInt64Atomics)}, float atomics {(SupportsFloatAtomics ? "native" : "CAS")}" +
        (CLAccelerator.PoclCacheProblem(PlatformName, PlatformVersion) is { } problem ? $" | {problem}" : string.Empty);

    internal nint PlatformHandle { get; }

    internal nint DeviceHandle { get; }

    private ulong DeviceType { get; }

    public bool HasExtension(string name) => Extensions.Contains(name, StringComparer.Ordinal);

    public override Accelerator CreateAccelerator(Context context) => new CLAccelerator(context, this);

    // Enumerations never overlap: the ICD loader (ocl-icd) initialises itself on the first call without a lock, and two
    // contexts created at once on different threads could see a platform with no devices (CI saw pocl vanish that way).
    private static readonly Lock ProbeLock = new();

    /// <summary>Finds all devices of all OpenCL platforms, or says precisely why there are none.</summary>
    public static BackendProbe Probe()
    {
        if (CLApi.TryLoad() is { } missing) return BackendProbe.Missing(AcceleratorType.OpenCL, missing);
        try
        {
            lock (ProbeLock) return ProbeLoaded();
        }
        catch (Exception e) when (e is CLException or DllNotFoundException or EntryPointNotFoundException)
        {
            return BackendProbe.Missing(AcceleratorType.OpenCL, $"enumerating OpenCL devices failed: {e.Message}");
        }
    }

    private static unsafe BackendProbe ProbeLoaded()
    {
        uint count;
        int status = CLApi.clGetPlatformIDs(0, null, &count);
        // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no vendor file is registered.
        if (status == -1001 || (status == 0 && count == 0))
            return BackendProbe.Missing(AcceleratorType.OpenCL, "no OpenCL platform (ICD loader present but no driver registered in /etc/OpenCL/vendors)");
        CLException.Check(status, "clGetPlatformIDs");
        var platforms = new nint[count];
        fixed (nint* p = platforms) CLException.Check(CLApi.clGetPlatformIDs(count, p, null), "clGetPlatformIDs");

        var devices = new List<Device>();
        var reasons = new List<string>();
        foreach (nint platform in platforms)
        {
            string platformName = CLApi.PlatformString(platform, CLApi.PlatformName);
            uint deviceCount;
            status = CLApi.clGetDeviceIDs(platform, CLApi.DeviceTypeAll, 0, null, &deviceCount);
            if (status == -1 || (status == 0 && deviceCount == 0))
            {
                // pocl hides its devices when it can't create its cache directory.
                string? cacheProblem = CLAccelerator.PoclCacheProblem(platformName, CLApi.PlatformString(platform, CLApi.PlatformVersion));
                reasons.Add(cacheProblem is null ? $"platform {platformName} has no devices" : $"platform {platformName} has no devices: {cacheProblem}");
                continue;
            }
            if (status != 0)
            {
                reasons.Add($"platform {platformName}: {CLException.Describe("clGetDeviceIDs", status)}");
                continue;
            }
            var ids = new nint[deviceCount];
            fixed (nint* d = ids) CLException.Check(CLApi.clGetDeviceIDs(platform, CLApi.DeviceTypeAll, deviceCount, d, null), "clGetDeviceIDs");
            foreach (nint id in ids)
            {
                if (CLApi.DeviceValue<uint>(id, CLApi.DeviceAvailable) == 0 || CLApi.DeviceValue<uint>(id, CLApi.DeviceCompilerAvailable) == 0)
                {
                    reasons.Add($"platform {platformName}: device {CLApi.DeviceString(id, CLApi.DeviceName)} is unavailable or has no compiler");
                    continue;
                }
                devices.Add(new CLDevice(platform, id));
            }
        }
        return devices.Count > 0
            ? new BackendProbe(AcceleratorType.OpenCL, devices, reasons.Count > 0 ? string.Join("; ", reasons) : null)
            : BackendProbe.Missing(AcceleratorType.OpenCL, string.Join("; ", reasons));
    }

    private static unsafe Index3D ReadMaxWorkItemSizes(nint device)
    {
        uint dims = CLApi.DeviceValue<uint>(device, CLApi.DeviceMaxWorkItemDimensions);
        var sizes = new nuint[Math.Max(3, dims)];
        fixed (nuint* s = sizes)
            CLException.Check(CLApi.clGetDeviceInfo(device, CLApi.DeviceMaxWorkItemSizes, (nuint)(sizeof(nuint) * dims), s, null), "clGetDeviceInfo");
        static int Clamp(nuint v) => v == 0 ? 1 : (int)Math.Min(int.MaxValue, v);
        return new Index3D(Clamp(sizes[0]), Clamp(sizes[1]), Clamp(sizes[2]));
    }

    private int GuessWarpSize()
    {
        if (IsCpuDevice) return 1;
        string vendor = Vendor.ToUpperInvariant();
        if (vendor.Contains("NVIDIA", StringComparison.Ordinal)) return 32;
        if (vendor.Contains("AMD", StringComparison.Ordinal) || vendor.Contains("ADVANCED MICRO", StringComparison.Ordinal)) return 64;
        if (vendor.Contains("INTEL", StringComparison.Ordinal)) return 16;
        return 32;
    }

    private static Version ParseVersion(string text, string prefix)
    {
        int start = text.IndexOf(prefix, StringComparison.Ordinal);
        if (start < 0) return new Version(1, 0);
        var parts = text[(start + prefix.Length)..].Split(' ')[0].Split('.');
        return parts.Length >= 2
               && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
               && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor)
            ? new Version(major, minor)
            : new Version(1, 0);
    }

    private static string YesNo(bool value) => value ? "yes" : "no";

    public override string ToString() => $"OpenCL {Name} ({PlatformName})";
}
