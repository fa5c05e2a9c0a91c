using ILGPU;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using IL = ILGPU.Runtime;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>One device ILGPU enumerated, or refused, and why.</summary>
/// <param name="Kind">ilgpu-cuda, ilgpu-opencl or ilgpu-cpu.</param>
/// <param name="Name">The device's name as ILGPU gives it.</param>
/// <param name="Device">The usable device; null when refused.</param>
/// <param name="Reason">Why the device or backend cannot be used; null when it can.</param>
public sealed record IlgpuDeviceProbe(string Kind, string Name, IlgpuDevice? Device, string? Reason)
{
    /// <inheritdoc/>
    public override string ToString() => Reason is null ? $"{Kind}: {Name}" : $"{Kind}: {Name} refused: {Reason}";
}

/// <summary>
/// ILGPU's context with the devices it found, as GpuDeconv devices (the ILGPU twin of <see cref="Context"/>).
/// Create one with <see cref="Create"/>, or hand in an ILGPU <see cref="ILGPU.Context"/> that research code already has
/// with <see cref="Wrap(ILGPU.Context)"/>; see docs/architecture.md for which device runs what.
/// </summary>
public sealed class IlgpuBackend : IDisposable
{
    /// <summary>The accelerator kinds this backend provides.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["ilgpu-cuda", "ilgpu-opencl", "ilgpu-cpu"];

    /// <summary>ILGPU's CPU device as the library's kernels need it: 8 lanes per warp, 32 warps, so groups of up to 256 threads.</summary>
    public static ILGPU.Runtime.CPU.CPUDevice KernelCpuDevice() => new(8, 32, 1);

    /// <summary>
    /// The context settings the library's kernels need: ILGPU.Algorithms, and static readonly tables inlined into kernels
    /// (<c>ArrayMode.InlineMutableStaticArrays</c>). Apply it to a context of your own before handing it to <see cref="Wrap(ILGPU.Context)"/>.
    /// </summary>
    public static ILGPU.Context.Builder Configure(ILGPU.Context.Builder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Arrays(ArrayMode.InlineMutableStaticArrays).EnableAlgorithms();
    }

    private readonly bool _ownsNative;
    private readonly List<IlgpuDeviceProbe> _probes = [];

    private IlgpuBackend(ILGPU.Context native, bool ownsNative, IReadOnlyList<IlgpuDeviceProbe> refusedEarly)
    {
        Native = native;
        _ownsNative = ownsNative;
        _probes.AddRange(refusedEarly);
        foreach (var device in native.Devices)
        {
            string kind = KindOf(device.AcceleratorType);
            string? reason = RefusalOf(device);
            _probes.Add(new IlgpuDeviceProbe(kind, device.Name, reason is null ? new IlgpuDevice(this, device) : null, reason));
        }
        foreach (string kind in Kinds)
            if (!_probes.Any(p => p.Kind == kind))
                _probes.Add(new IlgpuDeviceProbe(kind, "-", null, MissingReason(kind)));
        Context = Compute.Context.Create(_ => { });
    }

    /// <summary>ILGPU's context (owned by this object when it came from <see cref="Create"/>).</summary>
    public ILGPU.Context Native { get; }

    /// <summary>An empty GpuDeconv context that accelerators of this backend belong to.</summary>
    public Context Context { get; }

    /// <summary>Every device ILGPU reported, usable or refused with its reason, and a line for each backend it found nothing on.</summary>
    public IReadOnlyList<IlgpuDeviceProbe> Probes => _probes;

    /// <summary>The usable devices, CUDA first, then OpenCL, then the CPU.</summary>
    public IReadOnlyList<IlgpuDevice> Devices => [.. _probes.Where(p => p.Device is not null).Select(p => p.Device!).OrderBy(d => d.AcceleratorType switch
    {
        AcceleratorType.Cuda => 0,
        AcceleratorType.OpenCL => 1,
        _ => 2,
    })];

    /// <summary>An ILGPU context with CUDA, OpenCL and the kernels' CPU device (<see cref="KernelCpuDevice"/>), and ILGPU.Algorithms enabled.</summary>
    public static IlgpuBackend Create()
    {
        var refused = new List<IlgpuDeviceProbe>();
        ILGPU.Context native;
        try
        {
            native = ILGPU.Context.Create(builder => Configure(builder.Cuda().OpenCL().CPU(KernelCpuDevice())));
        }
        catch (Exception e)
        {
            // A broken driver stack must not hide the CPU device.
            refused.Add(new IlgpuDeviceProbe("ilgpu-cuda", "-", null, $"probing CUDA and OpenCL failed: {e.GetType().Name}: {e.Message}"));
            native = ILGPU.Context.Create(builder => Configure(builder.CPU(KernelCpuDevice())));
        }
        return new IlgpuBackend(native, ownsNative: true, refused);
    }

    /// <summary>Wraps an ILGPU context the caller created and keeps owning (disposing this backend leaves it alive).</summary>
    public static IlgpuBackend Wrap(ILGPU.Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new IlgpuBackend(context, ownsNative: false, []);
    }

    /// <summary>The first usable device of <paramref name="kind"/> (ilgpu-cuda, ilgpu-opencl, ilgpu-cpu).</summary>
    /// <exception cref="ArgumentException">The kind is not one of <see cref="Kinds"/>.</exception>
    /// <exception cref="InvalidOperationException">This machine has no usable device of that kind; the message says why.</exception>
    public IlgpuDevice GetDevice(string kind)
    {
        if (!Kinds.Contains(kind))
            throw new ArgumentException($"Unknown ILGPU accelerator kind '{kind}'; expected one of {string.Join(", ", Kinds)}.", nameof(kind));
        var usable = _probes.FirstOrDefault(p => p.Kind == kind && p.Device is not null);
        if (usable is not null) return usable.Device!;
        string reasons = string.Join("; ", _probes.Where(p => p.Kind == kind).Select(p => p.Name == "-" ? p.Reason : $"{p.Name}: {p.Reason}"));
        throw new InvalidOperationException($"No usable {kind} device: {reasons}.");
    }

    /// <summary>Creates an accelerator on the first usable device of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The kind is unknown.</exception>
    /// <exception cref="InvalidOperationException">No usable device of that kind.</exception>
    public IlgpuAccelerator CreateAccelerator(string kind) => (IlgpuAccelerator)GetDevice(kind).CreateAccelerator(Context);

    /// <summary>Wraps an accelerator that research code created on its own ILGPU context; the caller keeps owning it.</summary>
    /// <exception cref="ArgumentException">The accelerator belongs to another ILGPU context than this backend's.</exception>
    public IlgpuAccelerator Wrap(IL.Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (!ReferenceEquals(accelerator.Context, Native))
            throw new ArgumentException($"The ILGPU accelerator '{accelerator.Name}' belongs to another ILGPU context than this backend's; wrap that context with IlgpuBackend.Wrap first.", nameof(accelerator));
        var device = _probes.Select(p => p.Device).FirstOrDefault(d => d is not null && ReferenceEquals(d.Native, accelerator.Device))
                     ?? new IlgpuDevice(this, accelerator.Device);
        return new IlgpuAccelerator(Context, device, accelerator, ownsNative: false);
    }

    internal static string KindOf(IL.AcceleratorType type) => type switch
    {
        IL.AcceleratorType.Cuda => "ilgpu-cuda",
        IL.AcceleratorType.OpenCL => "ilgpu-opencl",
        _ => "ilgpu-cpu",
    };

    /// <summary>Why ILGPU lists a device it cannot run the kernels on, or null.</summary>
    private static string? RefusalOf(IL.Device device)
    {
        if (device is ILGPU.Runtime.OpenCL.CLDevice cl && !cl.Capabilities.GenericAddressSpace)
            return $"OpenCL {cl.CVersion} device without the generic address space, which ILGPU's OpenCL backend needs (GpuDeconv's own 'opencl' accelerator runs it)";
        if (device.MaxNumThreadsPerGroup < 256)
            return $"{device.MaxNumThreadsPerGroup} threads per group; the library's kernels launch groups of 256";
        return null;
    }

    private static string MissingReason(string kind) => kind switch
    {
        "ilgpu-cuda" => "ILGPU found no CUDA device (it needs the NVIDIA driver's libcuda.so and an NVIDIA GPU)",
        "ilgpu-opencl" => "ILGPU found no OpenCL device (it loads the unversioned libOpenCL.so, from Debian's ocl-icd-opencl-dev, and needs OpenCL 2.0 with the generic address space)",
        _ => "ILGPU's CPU device is missing",
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        Context.Dispose();
        if (_ownsNative) Native.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"ILGPU backend: {string.Join("; ", _probes)}";
}
