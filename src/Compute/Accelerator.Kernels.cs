using System.Collections.Concurrent;

namespace GpuDeconv.Compute;

public abstract partial class Accelerator
{
    private readonly ConcurrentDictionary<(LoadedKernel Kernel, LauncherShape Shape), Delegate> _launchers = new();

    /// <summary>Finds the generated definition of <paramref name="kernel"/>, loads it and returns its typed launcher (cached per shape).</summary>
    private TDelegate LoadLauncher<TDelegate>(Delegate kernel, LauncherShape shape, int groupSize) where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ThrowIfDisposed();
        var method = kernel.Method;
        if (!method.IsStatic || kernel.Target is not null)
            throw new ArgumentException(
                $"Kernel {method.DeclaringType?.Name}.{method.Name} must be a static method (lambdas and instance methods cannot be translated).", nameof(kernel));
        var definition = KernelRegistry.Find(method);
        var expected = shape is LauncherShape.Stream or LauncherShape.Explicit ? KernelKind.Explicit : KernelKind.Implicit;
        if (definition.Kind != expected)
        {
            string loader = LoaderName(shape);
            string hint = definition.Kind == KernelKind.Implicit
                ? "its first parameter is an index, so load it with LoadAutoGroupedStreamKernel/LoadAutoGroupedKernel/LoadImplicitlyGrouped*Kernel"
                : "it has no index parameter, so load it with LoadStreamKernel/LoadKernel and launch it with a KernelConfig";
            throw new ArgumentException($"Kernel {definition.Name} ({definition.Location}) is {definition.Kind.ToString().ToLowerInvariant()}ly grouped and cannot be loaded with {loader}: {hint}.", nameof(kernel));
        }
        var loaded = Load(definition, groupSize);
        var launcher = _launchers.GetOrAdd((loaded, shape), static key => key.Kernel.Definition.CreateLauncher(key.Kernel, key.Shape));
        return launcher as TDelegate ?? throw new InvalidCastException(
            $"The generated launcher of kernel {definition.Name} for {LoaderName(shape)} is {launcher.GetType()}, but the loader expects {typeof(TDelegate)}; " +
            "the generator and runtime disagree (rebuild, or check that the loader's type arguments match the kernel's parameters).");
    }

    private int CheckGroupSize(int groupSize)
    {
        if (groupSize < 1 || groupSize > MaxNumThreadsPerGroup)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"The group size must be in [1, {MaxNumThreadsPerGroup}] on '{Name}'.");
        return groupSize;
    }

    private static string LoaderName(LauncherShape shape) => shape switch
    {
        LauncherShape.AutoGroupedStream => "LoadAutoGroupedStreamKernel",
        LauncherShape.AutoGrouped => "LoadAutoGroupedKernel",
        LauncherShape.ImplicitlyGroupedStream => "LoadImplicitlyGroupedStreamKernel",
        LauncherShape.ImplicitlyGrouped => "LoadImplicitlyGroupedKernel",
        LauncherShape.Stream => "LoadStreamKernel",
        _ => "LoadKernel",
    };
}
