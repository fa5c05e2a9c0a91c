using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Text;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>One kernel's ILGPU twin: the method ILGPU compiles, and which of its int parameters were bool flags.</summary>
public sealed record IlgpuTwin(string KernelKey, MethodInfo Method, int BoolMask, string Location)
{
    /// <summary>The kernel's display name, <c>Class.Method</c>.</summary>
    public string Name => $"{Method.DeclaringType?.Name}.{Method.Name}";
}

/// <summary>
/// The ILGPU twins of the kernels, registered by the code that <c>IlgpuTwinGenerator</c> emits into each twin assembly
/// (for <c>X.dll</c> the twins live in <c>X.Ilgpu.dll</c>, or in <c>X.dll</c> itself when it runs the generator on its
/// own sources). A kernel is found by the same key as the generated CUDA and OpenCL code (docs/kernel-abi.md).
/// </summary>
public static class IlgpuKernelTwins
{
    private static readonly ConcurrentDictionary<string, IlgpuTwin> Twins = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> HostShaped = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> ProbedAssemblies = new(StringComparer.Ordinal);
    private static readonly Lock LoadLock = new();

    /// <summary>Every registered twin (after the twin assemblies of the loaded kernel assemblies have been loaded).</summary>
    public static IReadOnlyCollection<IlgpuTwin> All
    {
        get
        {
            LoadTwinAssemblies();
            return [.. Twins.Values.OrderBy(t => t.KernelKey, StringComparer.Ordinal)];
        }
    }

    /// <summary>Kernels without a twin because they are host-shaped, with the reason (by <c>Namespace.Class::Method</c>).</summary>
    public static IReadOnlyDictionary<string, string> HostShapedKernels
    {
        get
        {
            LoadTwinAssemblies();
            return new Dictionary<string, string>(HostShaped, StringComparer.Ordinal);
        }
    }

    /// <summary>Called by generated code: registers the twin of the kernel <paramref name="originalType"/>.<c>Name</c>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register(string originalType, MethodInfo twin, int boolMask, string location)
    {
        ArgumentNullException.ThrowIfNull(twin);
        string key = KeyOf(originalType, twin, boolMask);
        Twins[key] = new IlgpuTwin(key, twin, boolMask, location);
    }

    /// <summary>Called by generated code: the kernels that have no twin, and why.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void RegisterHostShaped(IReadOnlyDictionary<string, string> kernels)
    {
        foreach (var (name, reason) in kernels) HostShaped[name] = reason;
    }

    /// <summary>The twin of <paramref name="definition"/>.</summary>
    /// <exception cref="HostShapedKernelException">The kernel is host-shaped: it has no twin by design.</exception>
    /// <exception cref="NotSupportedException">The kernel's assembly has no twin assembly.</exception>
    public static IlgpuTwin Find(KernelDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (Twins.TryGetValue(definition.Key, out var twin)) return twin;
        LoadTwinAssemblies();
        if (Twins.TryGetValue(definition.Key, out twin)) return twin;
        string method = definition.Key[..definition.Key.IndexOf('(')];
        if (HostShaped.TryGetValue(method, out string? reason))
            throw new HostShapedKernelException(definition.Name, definition.Location, reason);
        throw new NotSupportedException(
            $"Kernel {definition.Name} ({definition.Location}) has no ILGPU twin (key {definition.Key}). Twins are generated at build time: " +
            "reference the assembly's .Ilgpu companion (GpuDeconv.Kernels.Ilgpu for the library's kernels), or add the kernel sources to a project " +
            "as AdditionalFiles with GpuDeconvIlgpuTwin=\"true\" (see src/Kernels.Ilgpu).");
    }

    /// <summary>
    /// Loads <c>X.Ilgpu</c> for each loaded assembly <c>X</c> that has one, once each, so its twins register. One caller at
    /// a time: a second thread must not see an assembly marked probed and return before its twins have registered (a
    /// kernel's first launch from two threads then failed with "no ILGPU twin").
    /// </summary>
    internal static void LoadTwinAssemblies()
    {
        lock (LoadLock)
            LoadTwinAssembliesOnce();
    }

    private static void LoadTwinAssembliesOnce()
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            string? name = assembly.GetName().Name;
            if (name is null || name.EndsWith(".Ilgpu", StringComparison.Ordinal) || name.StartsWith("System", StringComparison.Ordinal)
                || name.StartsWith("Microsoft", StringComparison.Ordinal) || name.StartsWith("ILGPU", StringComparison.Ordinal)) continue;
            if (!ProbedAssemblies.TryAdd(name, true)) continue;
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
            try
            {
                var twins = Assembly.Load(new AssemblyName(name + ".Ilgpu"));
                System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(twins.ManifestModule.ModuleHandle);
            }
            catch (FileNotFoundException)
            {
                // No twin assembly: this assembly has no kernels, or runs the twin generator on itself.
            }
        }
    }

    /// <summary>The key of the original kernel: the twin's signature with ILGPU's types named as ours, and bool flags as bool.</summary>
    private static string KeyOf(string originalType, MethodInfo twin, int boolMask)
    {
        var builder = new StringBuilder();
        builder.Append(originalType).Append("::").Append(twin.Name).Append('(');
        var parameters = twin.GetParameters();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (i > 0) builder.Append(',');
            if ((boolMask & (1 << i)) != 0) builder.Append("System.Boolean");
            else AppendType(builder, parameters[i].ParameterType);
        }
        return builder.Append(')').ToString();
    }

    private static void AppendType(StringBuilder builder, Type type)
    {
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        string name = definition.FullName ?? definition.Name;
        if (definition.Namespace is "ILGPU" or "ILGPU.Runtime") name = "GpuDeconv.Compute." + name[(definition.Namespace.Length + 1)..];
        builder.Append(name);
        if (!type.IsGenericType) return;
        builder.Append('[');
        var arguments = type.GetGenericArguments();
        for (int i = 0; i < arguments.Length; i++)
        {
            if (i > 0) builder.Append(',');
            AppendType(builder, arguments[i]);
        }
        builder.Append(']');
    }
}

/// <summary>
/// A host-shaped kernel (one written for the host's vectors, such as <c>Float8</c>) was launched on an ILGPU
/// accelerator, which compiles only GPU-shaped kernels; the caller should pick its GPU-shaped variant where
/// <see cref="Device.RunsHostKernels"/> is false.
/// </summary>
public sealed class HostShapedKernelException(string kernel, string location, string reason) : NotSupportedException(
    $"Kernel {kernel} ({location}) is host-shaped ({reason}); ILGPU accelerators run only GPU-shaped kernels. " +
    "Its caller should choose the GPU-shaped variant where Device.RunsHostKernels is false.")
{
    /// <summary>The kernel's name.</summary>
    public string Kernel { get; } = kernel;

    /// <summary>What makes it host-shaped.</summary>
    public string Reason { get; } = reason;
}
