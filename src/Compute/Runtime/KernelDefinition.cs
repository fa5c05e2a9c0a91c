using System.ComponentModel;

namespace GpuDeconv.Compute;

/// <summary>How a kernel is grouped: by an index parameter (implicit) or by a <see cref="KernelConfig"/> (explicit).</summary>
public enum KernelKind
{
    Implicit,
    Explicit,
}

/// <summary>What a kernel's call graph uses; computed by the generator.</summary>
[Flags]
public enum KernelFeatures
{
    None = 0,
    Barrier = 1,
    SharedMemory = 2,
    DynamicSharedMemory = 4,
    Atomics = 8,
    FloatAtomics = 16,
    Int64Atomics = 32,
    Double = 64,
    LocalMemory = 128,
    GroupIntrinsics = 256,
}

/// <summary>The delegate shape a loader asks a generated launcher factory for (docs/kernel-abi.md section 3).</summary>
public enum LauncherShape
{
    AutoGroupedStream,
    AutoGrouped,
    ImplicitlyGroupedStream,
    ImplicitlyGrouped,
    Stream,
    Explicit,
}

/// <summary>Everything the generator knows about one kernel: sources, flags and a typed launcher factory.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class KernelDefinition(
    string key,
    string name,
    string entryPoint,
    KernelKind kind,
    int indexRank,
    KernelFeatures features,
    string cudaSource,
    string openCLSource,
    string location,
    Func<LoadedKernel, LauncherShape, Delegate> createLauncher)
{
    public string Key { get; } = key;

    /// <summary>Display name, e.g. <c>Program.Saxpy</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The C identifier of the entry function in both sources.</summary>
    public string EntryPoint { get; } = entryPoint;

    public KernelKind Kind { get; } = kind;

    public int IndexRank { get; } = indexRank;

    public KernelFeatures Features { get; } = features;

    public string CudaSource { get; } = cudaSource;

    public string OpenCLSource { get; } = openCLSource;

    /// <summary>Where the kernel is declared, <c>File.cs:line</c>.</summary>
    public string Location { get; } = location;

    public Func<LoadedKernel, LauncherShape, Delegate> CreateLauncher { get; } = createLauncher;

    public bool Uses(KernelFeatures feature) => (Features & feature) == feature;

    public override string ToString() => $"{Name} ({Location})";
}
