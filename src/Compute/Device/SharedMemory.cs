using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute;

/// <summary>Memory shared by the threads of one group (ILGPU's <c>SharedMemory</c>); sizes must be compile-time constants on devices.</summary>
/// <remarks>
/// On the CPU accelerator each thread's i-th allocation call returns the group's i-th allocation,
/// created zeroed by the first thread to reach it, so every thread must make the same calls in the same order.
/// </remarks>
public static unsafe class SharedMemory
{
    /// <summary>One shared element.</summary>
    /// <exception cref="InvalidOperationException">Called outside an explicitly grouped kernel.</exception>
    public static ref T Allocate<T>() where T : unmanaged
    {
        var context = LaneContext.Grouped("SharedMemory.Allocate");
        nint pointer = context.Group!.Shared(context.SharedOrdinal++, sizeof(T));
        return ref Unsafe.AsRef<T>((void*)pointer);
    }

    /// <summary>A shared array of <paramref name="length"/> elements.</summary>
    /// <exception cref="InvalidOperationException">Called outside an explicitly grouped kernel.</exception>
    public static ArrayView<T> Allocate<T>(int length) where T : unmanaged
    {
        var context = LaneContext.Grouped("SharedMemory.Allocate");
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "SharedMemory.Allocate needs a length of zero or more.");
        nint pointer = context.Group!.Shared(context.SharedOrdinal++, (long)length * sizeof(T));
        return new ArrayView<T>(pointer, length);
    }

    /// <summary>A shared 2-D array of <paramref name="extent"/> in the layout <typeparamref name="TStride"/>.</summary>
    /// <exception cref="InvalidOperationException">Called outside an explicitly grouped kernel.</exception>
    public static ArrayView2D<T, TStride> Allocate2D<T, TStride>(Index2D extent, TStride stride)
        where T : unmanaged
        where TStride : struct, IStride2D
    {
        _ = stride;
        return new ArrayView2D<T, TStride>(Allocate<T>(extent.Size), extent);
    }

    /// <summary>The dynamic shared memory requested by the launch's <see cref="KernelConfig.SharedMemoryConfig"/>, as elements of <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">Called outside an explicitly grouped kernel.</exception>
    public static ArrayView<T> GetDynamic<T>() where T : unmanaged =>
        LaneContext.Grouped("SharedMemory.GetDynamic").Group!.Dynamic<T>();
}

/// <summary>Memory private to one thread (ILGPU's <c>LocalMemory</c>); sizes must be compile-time constants on devices.</summary>
public static class LocalMemory
{
    /// <summary>A thread-private array of <paramref name="length"/> zeroed elements.</summary>
    /// <exception cref="InvalidOperationException">Called outside a kernel.</exception>
    public static ArrayView<T> Allocate<T>(int length) where T : unmanaged
    {
        var context = LaneContext.Current
            ?? throw new InvalidOperationException("LocalMemory.Allocate is only valid inside a kernel running on an accelerator.");
        return context.Local<T>(length);
    }
}

/// <summary>Memory ordering fences (ILGPU's <c>MemoryFence</c>); on the CPU all three are full fences.</summary>
public static class MemoryFence
{
    public static void GroupLevel() => Interlocked.MemoryBarrier();

    public static void DeviceLevel() => Interlocked.MemoryBarrier();

    public static void SystemLevel() => Interlocked.MemoryBarrier();
}
