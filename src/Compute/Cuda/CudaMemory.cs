namespace GpuDeconv.Compute;

/// <summary>Device memory from cuMemAlloc_v2; a zero-length buffer has no pointer.</summary>
internal sealed class CudaMemory(CudaAccelerator accelerator, ulong pointer, long lengthInBytes)
    : DeviceMemory(accelerator, lengthInBytes)
{
    public ulong Pointer { get; } = pointer;

    // Runs on finalizer threads too: CudaAccelerator.Free makes the context current first.
    protected override void Free() => accelerator.Free(Pointer);
}
