using System.Globalization;
using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>An NVIDIA GPU reached through the CUDA driver API; kernels are compiled with NVRTC.</summary>
public sealed class CudaDevice : Device
{
    private CudaDevice(int ordinal, int handle, string name)
    {
        Ordinal = ordinal;
        Handle = handle;
        Name = name;
    }

    public override AcceleratorType AcceleratorType => AcceleratorType.Cuda;

    public override string Name { get; }

    /// <summary>The device's index in the driver's enumeration.</summary>
    public int Ordinal { get; }

    internal int Handle { get; }

    public override int MaxNumThreadsPerGroup => MaxThreadsPerBlock;

    public override int WarpSize => Warp;

    public override long MemorySize => TotalMemory;

    /// <summary>The opt-in maximum (up to 227 KB on Hopper); launches above 48 KB raise the kernel's limit first.</summary>
    public override int MaxSharedMemoryPerGroup => Math.Max(SharedPerBlockOptIn, SharedPerBlock);

    public override int NumMultiprocessors => Multiprocessors;

    /// <summary>Compute capability major version (9 for H100).</summary>
    public int ComputeCapabilityMajor { get; private init; }

    /// <summary>Compute capability minor version.</summary>
    public int ComputeCapabilityMinor { get; private init; }

    /// <summary>The driver's CUDA version, e.g. 12080 for 12.8.</summary>
    public int DriverVersion { get; private init; }

    /// <summary>The SM clock the driver reports (its maximum, boost), in kHz: 1980000 on an H100 SXM.</summary>
    public int ClockRateKHz { get; private init; }

    /// <summary>The memory clock in kHz; with <see cref="MemoryBusWidthBits"/>, the peak bandwidth is 2 x clock x width / 8.</summary>
    public int MemoryClockRateKHz { get; private init; }

    /// <summary>The global memory bus width in bits (5120 on an H100 SXM).</summary>
    public int MemoryBusWidthBits { get; private init; }

    internal int MaxThreadsPerBlock { get; private init; }

    internal int Warp { get; private init; }

    internal long TotalMemory { get; private init; }

    internal int SharedPerBlock { get; private init; }

    internal int SharedPerBlockOptIn { get; private init; }

    internal int Multiprocessors { get; private init; }

    /// <summary>Why NVRTC could not be loaded (the device is still listed), else null.</summary>
    internal string? NvrtcFailure { get; private init; }

    public override string Details
    {
        get
        {
            string nvrtc = NvrtcFailure is null
                ? $"NVRTC {CudaLibraries.NvrtcVersion.Major}.{CudaLibraries.NvrtcVersion.Minor} ({CudaLibraries.NvrtcLocation})"
                : "NVRTC not found";
            return string.Create(CultureInfo.InvariantCulture,
                $"compute capability {ComputeCapabilityMajor}.{ComputeCapabilityMinor}, driver CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10}, {nvrtc}, {Multiprocessors} SMs, {TotalMemory / (1024 * 1024)} MiB");
        }
    }

    /// <inheritdoc/>
    public override string? UnusableReason => NvrtcFailure;

    public override Accelerator CreateAccelerator(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (NvrtcFailure is not null)
            throw new InvalidOperationException($"Cannot create a CUDA accelerator on '{Name}': {NvrtcFailure}.");
        return new CudaAccelerator(context, this);
    }

    private static readonly object ProbeGate = new();
    private static BackendProbe? _probe;

    /// <summary>Finds the CUDA devices, or says precisely why there are none (driver library, cuInit, device count).</summary>
    public static BackendProbe Probe()
    {
        lock (ProbeGate)
        {
            return _probe ??= ProbeOnce();
        }
    }

    private static unsafe BackendProbe ProbeOnce()
    {
        if (!CudaLibraries.TryLoadDriver(out string reason)) return BackendProbe.Missing(AcceleratorType.Cuda, reason);
        try
        {
            int status = CudaApi.cuInit(0);
            if (status != 0)
                return BackendProbe.Missing(AcceleratorType.Cuda, CudaException.Create(status, "cuInit").Message);
            int driverVersion = 0;
            CudaException.Check(CudaApi.cuDriverGetVersion(&driverVersion), "cuDriverGetVersion");
            int count = 0;
            CudaException.Check(CudaApi.cuDeviceGetCount(&count), "cuDeviceGetCount");
            if (count == 0) return BackendProbe.Missing(AcceleratorType.Cuda, "no CUDA devices");
            string? nvrtcFailure = CudaLibraries.TryLoadNvrtc(driverVersion / 1000, out string nvrtcReason) ? null : nvrtcReason;
            var devices = new List<Device>(count);
            byte* name = stackalloc byte[256];
            for (int ordinal = 0; ordinal < count; ordinal++)
            {
                int handle = 0;
                CudaException.Check(CudaApi.cuDeviceGet(&handle, ordinal), "cuDeviceGet");
                CudaException.Check(CudaApi.cuDeviceGetName(name, 256, handle), "cuDeviceGetName");
                nuint totalMemory = 0;
                CudaException.Check(CudaApi.cuDeviceTotalMem_v2(&totalMemory, handle), "cuDeviceTotalMem_v2");
                devices.Add(new CudaDevice(ordinal, handle, Marshal.PtrToStringUTF8((nint)name) ?? $"CUDA device {ordinal}")
                {
                    ComputeCapabilityMajor = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                    ComputeCapabilityMinor = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                    MaxThreadsPerBlock = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                    Warp = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_WARP_SIZE),
                    Multiprocessors = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                    ClockRateKHz = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_CLOCK_RATE),
                    MemoryClockRateKHz = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
                    MemoryBusWidthBits = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH),
                    SharedPerBlock = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
                    SharedPerBlockOptIn = Attribute(handle, CudaApi.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
                    TotalMemory = (long)totalMemory,
                    DriverVersion = driverVersion,
                    NvrtcFailure = nvrtcFailure,
                });
            }
            return new BackendProbe(AcceleratorType.Cuda, devices, nvrtcFailure);
        }
        catch (EntryPointNotFoundException e)
        {
            return BackendProbe.Missing(AcceleratorType.Cuda, $"the NVIDIA driver is too old (CUDA 11.0 or newer needed): {e.Message}");
        }
        catch (CudaException e)
        {
            return BackendProbe.Missing(AcceleratorType.Cuda, e.Message);
        }
    }

    private static unsafe int Attribute(int device, int attribute)
    {
        int value = 0;
        CudaException.Check(CudaApi.cuDeviceGetAttribute(&value, attribute, device), $"cuDeviceGetAttribute({attribute})");
        return value;
    }
}
