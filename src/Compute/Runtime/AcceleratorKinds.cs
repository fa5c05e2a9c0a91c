using System.Reflection;

namespace GpuDeconv.Compute;

/// <summary>An accelerator kind that was asked for and cannot be had here; the message says why and what to try.</summary>
public sealed class AcceleratorUnavailableException(string kind, string message) : InvalidOperationException(message)
{
    /// <summary>The kind asked for (cuda, opencl, cpu, ilgpu-cuda, ilgpu-opencl, ilgpu-cpu or auto).</summary>
    public string Kind { get; } = kind;
}

/// <summary>A backend beside ours that creates accelerators of its own kinds (ILGPU's: ilgpu-cuda, ilgpu-opencl, ilgpu-cpu).</summary>
public interface IAcceleratorProvider
{
    /// <summary>The kinds it creates, in the order <c>auto</c> would prefer them.</summary>
    IReadOnlyList<string> Kinds { get; }

    /// <summary>
    /// A new accelerator of <paramref name="kind"/> that disposes whatever it lives in (a context) when it is disposed,
    /// and a line that says which device it is; null with the reason when this machine has none of that kind.
    /// </summary>
    Accelerator? TryCreate(string kind, out string description);
}

/// <summary>
/// The one call that makes an accelerator of a kind by name, as the trainer's <c>--accelerator</c> does: <c>cpu</c>,
/// <c>opencl</c>, <c>cuda</c> (our backends), the kinds of registered providers (<c>ilgpu-cuda</c>, <c>ilgpu-opencl</c>,
/// <c>ilgpu-cpu</c> once <c>GpuDeconv.Compute.Ilgpu</c> is referenced), or <c>auto</c>: CUDA (ILGPU's route when NVRTC
/// is missing), then OpenCL, then the CPU. The accelerator owns its context: disposing it disposes both.
/// </summary>
/// <remarks>
/// Research code, the trainer, the samples and the benchmarks call <c>GpuDeconv.Layers.Accelerators.Create</c>, the
/// documented entry point, which is this call. This class is its form for code that uses <c>GpuDeconv.Compute</c>
/// alone, and where a backend registers its kinds (<see cref="Register"/>).
/// </remarks>
public static class AcceleratorKinds
{
    private static readonly List<IAcceleratorProvider> Providers = [];
    private static readonly object Gate = new();

    /// <summary>Our own kinds.</summary>
    public static IReadOnlyList<string> Builtin { get; } = ["cuda", "opencl", "cpu"];

    /// <summary>Every kind that can be asked for: auto, ours, then each provider's.</summary>
    public static IReadOnlyList<string> All
    {
        get
        {
            LoadCompanions();
            lock (Gate) return ["auto", .. Builtin, .. Providers.SelectMany(p => p.Kinds)];
        }
    }

    /// <summary>Adds a backend's kinds (called by that backend's assembly when it loads); registering twice is harmless.</summary>
    public static void Register(IAcceleratorProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate)
            if (!Providers.Any(p => p.GetType() == provider.GetType())) Providers.Add(provider);
    }

    /// <summary>A new accelerator of <paramref name="kind"/>; see the class remarks for the kinds.</summary>
    /// <exception cref="ArgumentException">The kind is not one of <see cref="All"/>.</exception>
    /// <exception cref="AcceleratorUnavailableException">No usable device of that kind here; the message says why.</exception>
    public static Accelerator Create(string kind) => Create(kind, out _);

    /// <summary>As <see cref="Create(string)"/>; <paramref name="description"/> says which device it is and, for auto, why.</summary>
    public static Accelerator Create(string kind, out string description)
    {
        ArgumentNullException.ThrowIfNull(kind);
        kind = kind.Trim().ToLowerInvariant();
        var provider = ProviderOf(kind);
        if (provider is not null)
            return provider.TryCreate(kind, out description)
                   ?? throw new AcceleratorUnavailableException(kind, $"no {kind} accelerator: {description}");
        if (kind != "auto" && !Builtin.Contains(kind))
            throw new ArgumentException($"Unknown accelerator kind '{kind}'; expected one of {string.Join(", ", All)}.", nameof(kind));

        var context = Context.CreateDefault();
        try
        {
            AcceleratorType? wanted = kind switch { "cuda" => AcceleratorType.Cuda, "opencl" => AcceleratorType.OpenCL, "cpu" => AcceleratorType.CPU, _ => null };
            var device = wanted is { } type ? context.Devices.FirstOrDefault(d => d.AcceleratorType == type) : context.GetPreferredDevice(preferCPU: false);
            if (device is null)
            {
                var probe = context.Backends.FirstOrDefault(b => b.Type == wanted);
                throw new AcceleratorUnavailableException(kind, $"no {kind} accelerator: {probe?.Reason ?? "the backend found no device"}");
            }
            return Open(kind, device, context, ProviderOf("ilgpu-cuda"), out description);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The accelerator for the <paramref name="device"/> that <paramref name="kind"/> found in <paramref name="context"/>
    /// (the context goes with it, or is disposed when another route is taken): the device itself when usable; for
    /// <c>auto</c>, a CUDA device without NVRTC hands over to <paramref name="ilgpuCuda"/>, ILGPU's CUDA backend, which
    /// compiles the same kernels with the driver alone; otherwise the device's reason, with the ilgpu-cuda hint.
    /// </summary>
    /// <exception cref="AcceleratorUnavailableException">The device cannot be used and no other route applies.</exception>
    internal static Accelerator Open(string kind, Device device, Context context, IAcceleratorProvider? ilgpuCuda, out string description)
    {
        if (device.UnusableReason is { } unusable)
        {
            if (kind == "auto" && device.AcceleratorType == AcceleratorType.Cuda && ilgpuCuda?.TryCreate("ilgpu-cuda", out string ilgpuDescription) is { } fallback)
            {
                context.Dispose();
                description = $"{ilgpuDescription} (auto: {device.Name} has no NVRTC route: {unusable}; taking ILGPU's CUDA backend)";
                return fallback;
            }
            throw new AcceleratorUnavailableException(kind, $"the {device.AcceleratorType} device '{device.Name}' cannot be used: {unusable}" +
                (ilgpuCuda is not null ? "; ilgpu-cuda runs the same kernels through ILGPU, which needs only the NVIDIA driver" : ""));
        }
        string why = kind == "auto"
            ? $" (auto: CUDA, then OpenCL, then CPU; {string.Join("; ", context.Backends.Where(b => !b.IsAvailable).Select(b => $"{b.Type} unavailable: {b.Reason}").DefaultIfEmpty("all backends available"))})"
            : "";
        description = $"{device.AcceleratorType} {device.Name}{why}";
        var accelerator = device.CreateAccelerator(context);
        accelerator.DisposeAlso(context);
        return accelerator;
    }

    private static IAcceleratorProvider? ProviderOf(string kind)
    {
        LoadCompanions();
        lock (Gate) return Providers.FirstOrDefault(p => p.Kinds.Contains(kind));
    }

    // A provider registers when its assembly loads; load the ones that sit beside us (GpuDeconv.Compute.Ilgpu) once,
    // so a program that references the package but has not touched it yet still finds its kinds. A thread that asks
    // while another is loading them waits for the load to finish (a flag set before the load let it look up the kinds
    // too early: "Unknown accelerator kind 'ilgpu-cpu'" from tests that create accelerators on parallel threads).
    private static void LoadCompanions() => _ = Companions.Value;

    private static readonly Lazy<bool> Companions = new(() =>
    {
        try
        {
            var assembly = Assembly.Load("GpuDeconv.Compute.Ilgpu");
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or TypeInitializationException)
        {
            // Not referenced, or left out of a trimmed build: the builtin kinds remain.
            return false;
        }
    }, LazyThreadSafetyMode.ExecutionAndPublication);
}
