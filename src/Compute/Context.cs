using System.Collections;
using System.Text;

namespace GpuDeconv.Compute;

/// <summary>Chooses the backends a <see cref="Context"/> probes (ILGPU's <c>Context.Builder</c>).</summary>
public sealed class ContextBuilder
{
    internal bool UseCpu { get; private set; }

    internal CPUAcceleratorMode CpuMode { get; private set; } = CPUAcceleratorMode.Auto;

    internal bool UseOpenCL { get; private set; }

    internal bool UseCuda { get; private set; }

    public ContextBuilder CPU() => CPU(CPUAcceleratorMode.Auto);

    public ContextBuilder CPU(CPUAcceleratorMode mode)
    {
        UseCpu = true;
        CpuMode = mode;
        return this;
    }

    public ContextBuilder OpenCL()
    {
        UseOpenCL = true;
        return this;
    }

    public ContextBuilder Cuda()
    {
        UseCuda = true;
        return this;
    }

    /// <summary>Every backend: CUDA, OpenCL and the CPU.</summary>
    public ContextBuilder Default() => Cuda().OpenCL().CPU(CpuMode);

    /// <inheritdoc cref="Default"/>
    public ContextBuilder AllAccelerators() => Default();

    /// <summary>Probes the chosen backends.</summary>
    public Context ToContext() => new(this);
}

/// <summary>The devices of the chosen backends, and why a backend has none (ILGPU's <c>Context</c>).</summary>
/// <remarks>A backend whose probe fails is reported in <see cref="Backends"/> and never makes construction throw.</remarks>
public sealed class Context : IDisposable, IEnumerable<Device>
{
    private int _disposed;

    internal Context(ContextBuilder builder)
    {
        var probes = new List<BackendProbe>();
        if (builder.UseCuda) probes.Add(Probe(AcceleratorType.Cuda, CudaDevice.Probe));
        if (builder.UseOpenCL) probes.Add(Probe(AcceleratorType.OpenCL, CLDevice.Probe));
        if (builder.UseCpu) probes.Add(new BackendProbe(AcceleratorType.CPU, [new CPUDevice(builder.CpuMode)], null));
        Backends = probes;
        Devices = [.. probes.SelectMany(probe => probe.Devices)];
    }

    /// <summary>A context with every backend.</summary>
    public static Context CreateDefault() => new ContextBuilder().Default().ToContext();

    /// <summary>A context with the backends <paramref name="configure"/> chooses.</summary>
    public static Context Create(Action<ContextBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new ContextBuilder();
        configure(builder);
        return builder.ToContext();
    }

    /// <summary>A builder; call <see cref="ContextBuilder.ToContext"/> when done.</summary>
    public static ContextBuilder Create() => new();

    /// <summary>One entry per enabled backend: its devices, or the reason it has none.</summary>
    public IReadOnlyList<BackendProbe> Backends { get; }

    /// <summary>All devices, CUDA first, then OpenCL, then the CPU.</summary>
    public IReadOnlyList<Device> Devices { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The devices of type <typeparamref name="TDevice"/>.</summary>
    public IReadOnlyList<TDevice> GetDevices<TDevice>() where TDevice : Device => [.. Devices.OfType<TDevice>()];

    /// <summary>The device to use by default: CUDA, then an OpenCL GPU, then an OpenCL CPU, then the CPU accelerator; the CPU first when <paramref name="preferCPU"/>.</summary>
    /// <exception cref="InvalidOperationException">The context has no devices.</exception>
    public Device GetPreferredDevice(bool preferCPU)
    {
        if (Devices.Count == 0)
            throw new InvalidOperationException($"The context has no devices. Backends: {string.Join("; ", Backends)}.");
        if (preferCPU)
        {
            var cpu = Devices.FirstOrDefault(device => device.AcceleratorType == AcceleratorType.CPU);
            if (cpu is not null) return cpu;
        }
        return Devices.OrderBy(Rank).First();
    }

    private static int Rank(Device device) => device.AcceleratorType switch
    {
        AcceleratorType.Cuda => 0,
        AcceleratorType.OpenCL => device.RunsOnHost ? 2 : 1,
        _ => 3,
    };

    /// <summary>Creates an accelerator for the <paramref name="index"/>-th CPU device.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such CPU device.</exception>
    public CPUAccelerator CreateCPUAccelerator(int index)
    {
        var cpus = GetDevices<CPUDevice>();
        if ((uint)index >= (uint)cpus.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"The context has {cpus.Count} CPU device(s); enable the CPU backend with Context.Create(b => b.CPU()).");
        return (CPUAccelerator)cpus[index].CreateAccelerator(this);
    }

    /// <summary>A multi-line listing of the devices and of the backends that are unavailable, with reasons.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        for (int i = 0; i < Devices.Count; i++)
        {
            var device = Devices[i];
            text.Append($"[{i}] {device.AcceleratorType,-6} {device.Name}: {device.MaxNumThreadsPerGroup} threads/group, warp {device.WarpSize}, ")
                .Append($"{device.MemorySize / (1024.0 * 1024 * 1024):F1} GiB, {device.MaxSharedMemoryPerGroup / 1024} KiB shared, {device.NumMultiprocessors} units");
            if (!string.IsNullOrEmpty(device.Details)) text.Append($" ({device.Details})");
            text.AppendLine();
        }
        foreach (var probe in Backends.Where(probe => !probe.IsAvailable))
            text.AppendLine($"    {probe.Type,-6} unavailable: {probe.Reason}");
        return text.ToString();
    }

    public IEnumerator<Device> GetEnumerator() => Devices.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);

    public override string ToString() => $"Context with {Devices.Count} device(s)";

    private static BackendProbe Probe(AcceleratorType type, Func<BackendProbe> probe)
    {
        try
        {
            return probe();
        }
        catch (Exception exception)
        {
            return BackendProbe.Missing(type, $"probe failed: {exception.GetType().Name}: {exception.Message}");
        }
    }
}
