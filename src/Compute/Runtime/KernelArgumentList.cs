using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute;

/// <summary>The kind of one kernel argument slot.</summary>
public enum KernelArgumentKind
{
    /// <summary>A 1-D view: device memory, element offset, length, element size.</summary>
    View,

    /// <summary>A plain value: its raw bytes.</summary>
    Value,
}

/// <summary>One argument slot as the backends see it.</summary>
public readonly record struct KernelArgument(
    KernelArgumentKind Kind,
    DeviceMemory? Memory,
    long ElementOffset,
    long Length,
    int ElementSize,
    int ValueOffset,
    int ValueSize);

/// <summary>Arguments of one launch, filled by generated launchers in C# parameter order (docs/kernel-abi.md).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class KernelArgumentList
{
    private KernelArgument[] _slots = new KernelArgument[16];
    private byte[] _values = new byte[256];
    private int _valueBytes;

    internal KernelArgumentList()
    {
    }

    /// <summary>The accelerator the arguments are checked against; set by <see cref="Reset"/>.</summary>
    internal Accelerator Accelerator { get; private set; } = null!;

    public int Count { get; private set; }

    internal ReadOnlySpan<KernelArgument> Slots => _slots.AsSpan(0, Count);

    /// <summary>The raw bytes of a value slot.</summary>
    internal ReadOnlySpan<byte> ValueBytes(in KernelArgument slot) => _values.AsSpan(slot.ValueOffset, slot.ValueSize);

    /// <summary>Empties the list for a new launch on <paramref name="accelerator"/>, dropping references to the previous launch's memory.</summary>
    internal void Reset(Accelerator accelerator)
    {
        Array.Clear(_slots, 0, Count);
        Count = 0;
        _valueBytes = 0;
        Accelerator = accelerator;
    }

    public void AddView<T>(ArrayView<T> view) where T : unmanaged
    {
        Validate(view, Accelerator, Count);
        Push(new KernelArgument(KernelArgumentKind.View, view.Memory, view.Index, view.Length, Unsafe.SizeOf<T>(), 0, 0));
    }

    /// <summary>Rejects a view that is disposed, lives on another accelerator, or has no device memory.</summary>
    internal static void Validate<T>(ArrayView<T> view, Accelerator accelerator, int position) where T : unmanaged
    {
        var memory = view.Memory;
        if (memory is not null)
        {
            if (memory.IsDisposed)
                throw new ObjectDisposedException(nameof(MemoryBuffer), $"Kernel argument {position} is a view of a disposed memory buffer.");
            if (!ReferenceEquals(memory.Accelerator, accelerator))
                throw new ArgumentException(
                    $"Kernel argument {position} is a view on accelerator '{memory.Accelerator.Name}', but the kernel runs on '{accelerator.Name}'.");
        }
        else if (view.Length != 0)
        {
            throw new ArgumentException($"Kernel argument {position} is a view without device memory (shared or local memory views cannot be passed to launches).");
        }
    }

    public void AddValue<T>(T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (_valueBytes + size > _values.Length) Array.Resize(ref _values, Math.Max(_values.Length * 2, _valueBytes + size));
        Unsafe.WriteUnaligned(ref _values[_valueBytes], value);
        Push(new KernelArgument(KernelArgumentKind.Value, null, 0, 0, 0, _valueBytes, size));
        _valueBytes += size;
    }

    private void Push(KernelArgument slot)
    {
        if (Count == _slots.Length) Array.Resize(ref _slots, Count * 2);
        _slots[Count++] = slot;
    }
}
