namespace GpuDeconv.Layers;

/// <summary>How <see cref="GpuDeconv.Kernels.Unpool.Forward"/> treats its indices.</summary>
public enum UnpoolIndices
{
    /// <summary>Check every index (out of range is an error), sum duplicates deterministically; synchronizes once per call.</summary>
    Validate,

    /// <summary>The caller guarantees unique in-range indices (switches of non-overlapping max pooling): one store pass, no synchronisation; out-of-range indices are skipped.</summary>
    TrustedUnique,
}
