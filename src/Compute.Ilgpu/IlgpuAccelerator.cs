using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using IL = ILGPU.Runtime;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>
/// A GpuDeconv accelerator on an ILGPU accelerator: memory is ILGPU's, kernels are the ILGPU twins of the library's
/// kernels (compiled by ILGPU from the same C# source as the CUDA C and OpenCL C that our own backends run), and
/// everything above the kernels (tensors, autograd, layers, trainer) runs on it unchanged.
/// </summary>
/// <remarks>
/// Ownership: an accelerator made by <see cref="IlgpuBackend.CreateAccelerator"/> owns its ILGPU accelerator and
/// disposes it; one made by <see cref="IlgpuBackend.Wrap(IL.Accelerator)"/> borrows it, and the caller disposes it after
/// this one. Memory works the same way (see IlgpuInterop).
/// </remarks>
public sealed class IlgpuAccelerator : Accelerator
{
    private readonly bool _ownsNative;
    private readonly IlgpuStream _defaultStream;

    internal IlgpuAccelerator(Context context, IlgpuDevice device, IL.Accelerator native, bool ownsNative) : base(context, device)
    {
        Native = native;
        _ownsNative = ownsNative;
        _defaultStream = new IlgpuStream(this, native.DefaultStream, ownsNative: false);
    }

    /// <summary>ILGPU's accelerator, for research code's own kernels.</summary>
    public IL.Accelerator Native { get; }

    /// <summary>ilgpu-cuda, ilgpu-opencl or ilgpu-cpu.</summary>
    public string Kind => ((IlgpuDevice)Device).Kind;

    /// <inheritdoc/>
    public override AcceleratorStream DefaultStream => _defaultStream;

    internal void EnsureAlive() => ThrowIfDisposed();

    /// <inheritdoc/>
    public override long FreeMemory => Native is ILGPU.Runtime.Cuda.CudaAccelerator cuda ? cuda.GetFreeMemory() : -1;

    /// <summary>
    /// False: ILGPU's CPU accelerator checks view indices with Trace.Assert, which ends the process (outside a test host)
    /// instead of failing the launch, and its GPU accelerators do not check at all.
    /// </summary>
    public override bool ChecksBounds => false;

    /// <inheritdoc/>
    protected override AcceleratorStream CreateStreamCore() => new IlgpuStream(this, Checked("create a stream", Native.CreateStream), ownsNative: true);

    /// <inheritdoc/>
    protected override void SynchronizeCore() => Checked("synchronize the accelerator", Native.Synchronize);

    /// <summary>
    /// Runs one ILGPU call; an exception from ILGPU (or the CUDA driver beneath it) comes out as an
    /// <see cref="IlgpuOperationException"/> naming this accelerator and <paramref name="operation"/>. Our own
    /// argument checks run before the call, so their exceptions pass unchanged.
    /// </summary>
    internal void Checked(string operation, Action call) => Checked(operation, () =>
    {
        call();
        return true;
    });

    internal T Checked<T>(string operation, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is not IlgpuOperationException and not OutOfMemoryException)
        {
            throw new IlgpuOperationException(Name, Kind, operation, e);
        }
    }

    /// <inheritdoc/>
    protected internal override DeviceMemory AllocateMemory(long lengthInBytes)
    {
        try
        {
            return new IlgpuMemory(this, Native.Allocate1D<byte>(Math.Max(lengthInBytes, 1)), lengthInBytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new OutOfMemoryException($"{Name}: ILGPU could not allocate {lengthInBytes} bytes: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    protected override object? CompileKernel(KernelDefinition definition) => new IlgpuKernel(this, definition, IlgpuKernelTwins.Find(definition));

    /// <inheritdoc/>
    protected override void DisposeCore()
    {
        if (_ownsNative) Native.Dispose();
    }
}

/// <summary>
/// An ILGPU call (a copy, fill, synchronization or stream creation) failed on an ILGPU accelerator; the message names
/// the accelerator and the operation, and the inner exception is ILGPU's (or the CUDA driver's, as ILGPU reports it).
/// </summary>
public sealed class IlgpuOperationException(string accelerator, string kind, string operation, Exception innerException) : InvalidOperationException(
    $"{kind} accelerator '{accelerator}': ILGPU failed to {operation}: {innerException.GetType().Name}: {innerException.Message}", innerException)
{
    /// <summary>The accelerator's name.</summary>
    public string AcceleratorName { get; } = accelerator;

    /// <summary>What was being done, e.g. <c>synchronize the accelerator</c>.</summary>
    public string Operation { get; } = operation;
}

/// <summary>Device memory of an <see cref="IlgpuAccelerator"/>: an ILGPU buffer it owns, or a byte view of a buffer the caller owns.</summary>
internal sealed class IlgpuMemory : DeviceMemory
{
    private readonly IL.MemoryBuffer? _owned;
    private readonly IL.MemoryBuffer? _borrowedFrom;

    public IlgpuMemory(IlgpuAccelerator accelerator, IL.MemoryBuffer1D<byte, ILGPU.Stride1D.Dense> owned, long lengthInBytes) : base(accelerator, lengthInBytes)
    {
        _owned = owned;
        Raw = owned.View.BaseView.SubView(0, lengthInBytes);
    }

    /// <summary>Borrows <paramref name="raw"/> (bytes of <paramref name="buffer"/>, which the caller keeps owning).</summary>
    public IlgpuMemory(IlgpuAccelerator accelerator, ILGPU.ArrayView<byte> raw, IL.MemoryBuffer? buffer) : base(accelerator, raw.Length)
    {
        Raw = raw;
        _borrowedFrom = buffer;
    }

    /// <summary>The bytes as ILGPU sees them.</summary>
    public ILGPU.ArrayView<byte> Raw { get; }

    /// <summary>True while the ILGPU buffer behind a borrowed view is alive (always true for owned memory).</summary>
    public bool SourceAlive => _borrowedFrom is null || !_borrowedFrom.IsDisposed;

    public ILGPU.ArrayView<byte> Bytes(long offset, long length)
    {
        ThrowIfDisposed();
        if (!SourceAlive)
            throw new ObjectDisposedException("MemoryBuffer", $"The ILGPU buffer behind this memory on '{Accelerator.Name}' has been disposed by its owner; a view must not outlive its buffer.");
        if (offset < 0 || length < 0 || offset + length > LengthInBytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes [{offset}, {offset + length}) do not lie inside ILGPU memory of {LengthInBytes} bytes.");
        return Raw.SubView(offset, length);
    }

    /// <inheritdoc/>
    protected override void Free() => _owned?.Dispose();
}

/// <summary>An ILGPU stream; copies from and to the host complete before they return.</summary>
internal sealed class IlgpuStream(IlgpuAccelerator accelerator, IL.AcceleratorStream native, bool ownsNative) : AcceleratorStream(accelerator)
{
    public IL.AcceleratorStream Native { get; } = native;

    private IlgpuAccelerator Owner { get; } = accelerator;

    /// <inheritdoc/>
    public override void Synchronize() => Owner.Checked("synchronize a stream", Native.Synchronize);

    // Spans cannot be captured by the lambdas of IlgpuAccelerator.Checked, so the host copies wrap their calls here.
    internal override void CopyFromHost(DeviceMemory destination, long destinationOffsetBytes, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return;
        var to = Memory(destination).Bytes(destinationOffsetBytes, source.Length);
        try
        {
            to.CopyFromCPU(Native, source);
            Native.Synchronize();
        }
        catch (Exception e) when (e is not IlgpuOperationException)
        {
            throw new IlgpuOperationException(Accelerator.Name, Owner.Kind, $"copy {source.Length} bytes from the host", e);
        }
    }

    internal override void CopyToHost(DeviceMemory source, long sourceOffsetBytes, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        var from = Memory(source).Bytes(sourceOffsetBytes, destination.Length);
        try
        {
            from.CopyToCPU(Native, destination);
            Native.Synchronize();
        }
        catch (Exception e) when (e is not IlgpuOperationException)
        {
            throw new IlgpuOperationException(Accelerator.Name, Owner.Kind, $"copy {destination.Length} bytes to the host", e);
        }
    }

    internal override void CopyDeviceToDevice(DeviceMemory source, long sourceOffsetBytes, DeviceMemory destination, long destinationOffsetBytes, long lengthInBytes)
    {
        if (lengthInBytes == 0) return;
        var to = Memory(destination).Bytes(destinationOffsetBytes, lengthInBytes);
        var from = Memory(source).Bytes(sourceOffsetBytes, lengthInBytes);
        Owner.Checked($"copy {lengthInBytes} bytes on the device", () => from.CopyTo(Native, to));
    }

    internal override void Fill(DeviceMemory destination, long offsetBytes, long lengthInBytes, byte value)
    {
        if (lengthInBytes == 0) return;
        var bytes = Memory(destination).Bytes(offsetBytes, lengthInBytes);
        Owner.Checked($"fill {lengthInBytes} bytes", () => bytes.MemSet(Native, value));
    }

    internal override void LaunchImplicit(LoadedKernel kernel, LongIndex3D extent, int groupSize, KernelArgumentList arguments) =>
        ((IlgpuKernel)kernel.Compiled!).LaunchImplicit(this, extent, groupSize, arguments);

    internal override void LaunchGrouped(LoadedKernel kernel, Compute.KernelConfig config, KernelArgumentList arguments) =>
        ((IlgpuKernel)kernel.Compiled!).LaunchGrouped(this, config, arguments);

    /// <inheritdoc/>
    public override StreamMarker RecordMarker()
    {
        Owner.Checked("synchronize a stream", Native.Synchronize);
        return new HostMarker(Stopwatch.GetTimestamp());
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (ownsNative) Native.Dispose();
        base.Dispose();
    }

    private IlgpuMemory Memory(DeviceMemory memory) => memory as IlgpuMemory ?? throw new ArgumentException(
        $"Memory of accelerator '{memory.Accelerator.Name}' ({memory.GetType().Name}) cannot be used on the ILGPU accelerator '{Accelerator.Name}'.");

    /// <summary>A host timestamp taken after the stream drained: elapsed time includes the wait, as on the CPU accelerator.</summary>
    private sealed class HostMarker(long timestamp) : StreamMarker
    {
        /// <inheritdoc/>
        public override double ElapsedMillisecondsSince(StreamMarker start) =>
            Stopwatch.GetElapsedTime(((HostMarker)start).Timestamp(), timestamp).TotalMilliseconds;

        private long Timestamp() => timestamp;
    }
}

/// <summary>One kernel's twin on one ILGPU accelerator: the ILGPU kernels (per group size) and how to turn our argument slots into ILGPU's.</summary>
internal sealed class IlgpuKernel
{
    private static readonly ConcurrentDictionary<Type, Func<byte[], object>> ValueReaders = new();
    private static readonly ConcurrentDictionary<Type, Func<ILGPU.ArrayView<byte>, long, long, long[], object>> ViewMakers = new();
    private static readonly MethodInfo ReadValueMethod = typeof(IlgpuKernel).GetMethod(nameof(ReadValue), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly IlgpuAccelerator _accelerator;
    private readonly KernelDefinition _definition;
    private readonly IlgpuTwin _twin;
    private readonly Type[] _parameterTypes;
    private readonly Type _launcherType;
    private readonly ConcurrentDictionary<int, Delegate> _launchers = new();

    public IlgpuKernel(IlgpuAccelerator accelerator, KernelDefinition definition, IlgpuTwin twin)
    {
        _accelerator = accelerator;
        _definition = definition;
        _twin = twin;
        _parameterTypes = [.. twin.Method.GetParameters().Select(p => p.ParameterType)];
        var launcherParameters = new List<Type> { typeof(IL.AcceleratorStream) };
        if (definition.Kind == KernelKind.Explicit) launcherParameters.Add(typeof(ILGPU.KernelConfig));
        launcherParameters.AddRange(_parameterTypes);
        launcherParameters.Add(typeof(void));
        _launcherType = Expression.GetDelegateType([.. launcherParameters]);
        // Compile now, so a kernel ILGPU cannot compile fails at load with its name, not at its first launch.
        Launcher(definition.Kind == KernelKind.Explicit ? -1 : ImplicitGroupSize(0));
    }

    public void LaunchImplicit(IlgpuStream stream, LongIndex3D extent, int groupSize, KernelArgumentList arguments)
    {
        object index = _definition.IndexRank switch
        {
            1 => new ILGPU.Index1D(Narrow(extent.X, "X")),
            2 => new ILGPU.Index2D(Narrow(extent.X, "X"), Narrow(extent.Y, "Y")),
            _ => new ILGPU.Index3D(Narrow(extent.X, "X"), Narrow(extent.Y, "Y"), Narrow(extent.Z, "Z")),
        };
        // The twin's first parameter is its index; our argument list holds the rest.
        Invoke(Launcher(ImplicitGroupSize(groupSize)), stream, index, arguments, firstArgument: 1);
    }

    /// <summary>
    /// The group size an implicitly grouped launch gets. ILGPU's CPU accelerator runs each lane of a group on its own OS
    /// thread and meets them at a barrier after every group, so there one lane per group is fastest (an element-wise kernel
    /// over 2^20 floats: 2.5 s auto-grouped, 50 ms with groups of one, docs/results/2026-12-06-ilgpu-cpu.md); implicit
    /// kernels share nothing within a group, so the size changes only speed. GPUs keep the kernel's own size.
    /// </summary>
    private int ImplicitGroupSize(int requested) => _accelerator.Native.AcceleratorType == IL.AcceleratorType.CPU ? 1 : requested;

    public void LaunchGrouped(IlgpuStream stream, Compute.KernelConfig config, KernelArgumentList arguments)
    {
        var grid = new ILGPU.Index3D(config.GridDim.X, config.GridDim.Y, config.GridDim.Z);
        var group = new ILGPU.Index3D(config.GroupDim.X, config.GroupDim.Y, config.GroupDim.Z);
        var shared = config.UsesDynamicSharedMemory ? DynamicShared(config.SharedMemoryConfig) : default;
        Invoke(Launcher(-1), stream, new ILGPU.KernelConfig(grid, group, shared), arguments, firstArgument: 0);
    }

    /// <summary>
    /// ILGPU's request for the launch's dynamic shared memory. ILGPU's CPU accelerator hands every
    /// <c>SharedMemory.GetDynamic&lt;T&gt;()</c> the requested element count whatever its T, so the request is made in
    /// an element type of the kernel's element size, not in bytes.
    /// </summary>
    private static ILGPU.SharedMemoryConfig DynamicShared(Compute.SharedMemoryConfig config) => config.ElementSize switch
    {
        1 => ILGPU.SharedMemoryConfig.RequestDynamic<byte>(config.NumElements),
        2 => ILGPU.SharedMemoryConfig.RequestDynamic<short>(config.NumElements),
        4 => ILGPU.SharedMemoryConfig.RequestDynamic<int>(config.NumElements),
        8 => ILGPU.SharedMemoryConfig.RequestDynamic<long>(config.NumElements),
        16 => ILGPU.SharedMemoryConfig.RequestDynamic<Int128>(config.NumElements),
        _ => throw new NotSupportedException(
            $"Dynamic shared memory of {config.ElementSize}-byte elements: ILGPU accelerators take 1-, 2-, 4-, 8- or 16-byte elements."),
    };

    private void Invoke(Delegate launcher, IlgpuStream stream, object dimension, KernelArgumentList arguments, int firstArgument)
    {
        var slots = arguments.Slots;
        // A 2-D or 3-D view comes as its base view followed by one value slot per extent.
        int expected = 0;
        for (int p = firstArgument; p < _parameterTypes.Length; p++) expected += 1 + ViewRank(_parameterTypes[p]) switch { 2 => 2, 3 => 3, _ => 0 };
        if (slots.Length != expected)
            throw new ArgumentException($"Kernel {_definition.Name}: {slots.Length} argument slots were given, its ILGPU twin takes {expected}.");
        var values = new object[2 + _parameterTypes.Length - firstArgument];
        values[0] = stream.Native;
        values[1] = dimension;
        int s = 0;
        for (int p = firstArgument; p < _parameterTypes.Length; p++)
        {
            var type = _parameterTypes[p];
            var slot = slots[s];
            int argument = p - firstArgument;
            int rank = ViewRank(type);
            if (slot.Kind == KernelArgumentKind.View)
            {
                if (rank == 0)
                    throw new ArgumentException($"Kernel {_definition.Name}: argument {argument} is a view, but the twin's parameter is {type.Name}.");
                long[] extents = new long[rank == 1 ? 0 : rank];
                for (int e = 0; e < extents.Length; e++) extents[e] = MemoryMarshal.Read<long>(arguments.ValueBytes(slots[s + 1 + e]));
                values[2 + argument] = MakeView(type, slot, argument, extents);
                s += 1 + extents.Length;
                continue;
            }
            var bytes = arguments.ValueBytes(slot).ToArray();
            bool flag = (_twin.BoolMask & (1 << p)) != 0;
            values[2 + argument] = flag
                ? bytes[0] != 0 ? 1 : 0
                : ValueReaders.GetOrAdd(type, static t => ReadValueMethod.MakeGenericMethod(t).CreateDelegate<Func<byte[], object>>())(bytes);
            s++;
        }
        try
        {
            launcher.DynamicInvoke(values);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new KernelExecutionException(_definition.Name, _definition.Location, new InvalidOperationException(
                $"ILGPU ({_accelerator.Kind}) failed to launch {_twin.Name}: {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException));
        }
    }

    /// <summary>The ILGPU launcher for an implicit group size (0: ILGPU chooses) or for an explicitly grouped kernel (-1).</summary>
    private Delegate Launcher(int groupSize) => _launchers.GetOrAdd(groupSize, size =>
    {
        try
        {
            var kernel = size switch
            {
                -1 => _accelerator.Native.LoadKernel(_twin.Method),
                0 => _accelerator.Native.LoadAutoGroupedKernel(_twin.Method),
                _ => _accelerator.Native.LoadImplicitlyGroupedKernel(_twin.Method, size),
            };
            return (Delegate)typeof(IL.Kernel).GetMethod(nameof(IL.Kernel.CreateLauncherDelegate))!.MakeGenericMethod(_launcherType).Invoke(kernel, null)!;
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } cause } ? cause : e;
            throw new KernelCompilationException(_definition.Name, _twin.Location, _accelerator.Kind,
                $"ILGPU could not compile the twin {_twin.Name}: {inner.GetType().Name}: {inner.Message}", "", inner);
        }
    });

    private static int Narrow(long value, string axis) => value <= int.MaxValue
        ? (int)value
        : throw new ArgumentOutOfRangeException(nameof(value), $"Launch extent {axis} = {value} exceeds ILGPU's int index range.");

    private static object ReadValue<T>(byte[] bytes) where T : unmanaged => MemoryMarshal.Read<T>(bytes);

    /// <summary>1 for ILGPU's ArrayView&lt;T&gt; and ArrayView1D&lt;T, TStride&gt;, 2 and 3 for the 2-D and 3-D views, else 0.</summary>
    private static int ViewRank(Type type)
    {
        if (!type.IsGenericType) return 0;
        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(ILGPU.ArrayView<>) || definition == typeof(IL.ArrayView1D<,>) ? 1
            : definition == typeof(IL.ArrayView2D<,>) ? 2
            : definition == typeof(IL.ArrayView3D<,>) ? 3
            : 0;
    }

    /// <summary>The ILGPU view of type <paramref name="type"/> over the memory of a view slot (a null view when the slot has none).</summary>
    private object MakeView(Type type, KernelArgument slot, int argument, long[] extents)
    {
        if (slot.Memory is null) return Activator.CreateInstance(type)!;
        var memory = slot.Memory as IlgpuMemory ?? throw new ArgumentException(
            $"Kernel {_definition.Name}: argument {argument} is memory of '{slot.Memory.Accelerator.Name}', not of the ILGPU accelerator '{_accelerator.Name}'.");
        var element = type.GetGenericArguments()[0];
        if (Marshal.SizeOf(element) != slot.ElementSize)
            throw new ArgumentException($"Kernel {_definition.Name}: argument {argument} is a view of {slot.ElementSize}-byte elements, the twin expects {element.Name}.");
        var maker = ViewMakers.GetOrAdd(type, static t =>
        {
            var definition = t.GetGenericTypeDefinition();
            string name = definition == typeof(ILGPU.ArrayView<>) ? nameof(View1D)
                : definition == typeof(IL.ArrayView1D<,>) && t.GetGenericArguments()[1] == typeof(ILGPU.Stride1D.Dense) ? nameof(Dense1D)
                : definition == typeof(IL.ArrayView2D<,>) && t.GetGenericArguments()[1] == typeof(ILGPU.Stride2D.DenseX) ? nameof(DenseX2D)
                : definition == typeof(IL.ArrayView2D<,>) && t.GetGenericArguments()[1] == typeof(ILGPU.Stride2D.DenseY) ? nameof(DenseY2D)
                : definition == typeof(IL.ArrayView3D<,>) && t.GetGenericArguments()[1] == typeof(ILGPU.Stride3D.DenseXY) ? nameof(DenseXY3D)
                : definition == typeof(IL.ArrayView3D<,>) && t.GetGenericArguments()[1] == typeof(ILGPU.Stride3D.DenseZY) ? nameof(DenseZY3D)
                : throw new NotSupportedException($"ILGPU twins take views as ArrayView<T>, ArrayView1D<T, ILGPU.Stride1D.Dense>, ArrayView2D<T, ILGPU.Stride2D.DenseX/DenseY> or ArrayView3D<T, ILGPU.Stride3D.DenseXY/DenseZY>, not {t}.");
            return typeof(IlgpuKernel).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t.GetGenericArguments()[0])
                .CreateDelegate<Func<ILGPU.ArrayView<byte>, long, long, long[], object>>();
        });
        return maker(memory.Bytes(0, memory.LengthInBytes), slot.ElementOffset, slot.Length, extents);
    }

    private static ILGPU.ArrayView<T> Elements<T>(ILGPU.ArrayView<byte> raw, long offset, long length) where T : unmanaged =>
        raw.Cast<T>().SubView(offset, length);

    private static IL.ArrayView1D<T, ILGPU.Stride1D.Dense> DenseElements<T>(ILGPU.ArrayView<byte> raw, long offset, long length) where T : unmanaged =>
        Elements<T>(raw, offset, length);

    private static object View1D<T>(ILGPU.ArrayView<byte> raw, long offset, long length, long[] extents) where T : unmanaged =>
        Elements<T>(raw, offset, length);

    private static object Dense1D<T>(ILGPU.ArrayView<byte> raw, long offset, long length, long[] extents) where T : unmanaged =>
        DenseElements<T>(raw, offset, length);

    private static object DenseX2D<T>(ILGPU.ArrayView<byte> raw, long offset, long length, long[] e) where T : unmanaged =>
        DenseElements<T>(raw, offset, length).As2DDenseXView(new ILGPU.LongIndex2D(e[0], e[1]));

    private static object DenseY2D<T>(ILGPU.ArrayView<byte> raw, long offset, long length, long[] e) where T : unmanaged =>
        DenseElements<T>(raw, offset, length).As2DDenseYView(new ILGPU.LongIndex2D(e[0], e[1]));

    private static object DenseXY3D<T>(ILGPU.ArrayView<byte> raw, long offset, long length, long[] e) where T : unmanaged =>
        DenseElements<T>(raw, offset, length).As3DDenseXYView(new ILGPU.LongIndex3D(e[0], e[1], e[2]));

    private static object DenseZY3D<T>(ILGPU.ArrayView<byte> raw, long offset, long length, long[] e) where T : unmanaged =>
        DenseElements<T>(raw, offset, length).As3DDenseZYView(new ILGPU.LongIndex3D(e[0], e[1], e[2]));
}
