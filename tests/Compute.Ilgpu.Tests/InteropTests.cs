using GpuDeconv.Compute.Conformance.Ilgpu;
using GpuDeconv.Layers;
using ILGPU.Runtime;
using Xunit;
using IL = ILGPU;
using Shape = GpuDeconv.Layers.Shape;

namespace GpuDeconv.Compute.Ilgpu.Tests;

/// <summary>
/// Zero-copy interop with research code's ILGPU objects: tensors over ILGPU buffers and views, tensor storage handed to
/// ILGPU kernels, who owns what, and the errors for foreign, mis-sized, mistyped and disposed buffers. Runs on ILGPU's
/// CPU accelerator (present everywhere).
/// </summary>
public sealed class InteropTests
{
    private static IlgpuAccelerator Accelerator() => (IlgpuAccelerator)IlgpuCatalogAccess.Cpu;

    [Fact]
    public void TensorOverAnIlgpuBufferSharesItsMemoryBothWays()
    {
        var accelerator = Accelerator();
        using var buffer = accelerator.Native.Allocate1D<float>(6);
        buffer.CopyFromCPU([1, 2, 3, 4, 5, 6]);
        using var borrowed = accelerator.Borrow(buffer);
        using var tensor = Tensor.FromBuffer(borrowed, new Shape(2, 3));
        Assert.Equal([1f, 2, 3, 4, 5, 6], tensor.ToArray());

        // A library op writes a new tensor; the ILGPU side sees the tensor's own writes through AsIlgpuView.
        using var doubled = Functional.Scale(tensor, 2f);
        var view = doubled.View.Data.AsIlgpuView();
        Assert.Equal(6, view.Length);
        Assert.Equal([2f, 4, 6, 8, 10, 12], ArrayViewExtensions.GetAsArray1D<float>(view));

        // ILGPU writes into the buffer are what the tensor reads next.
        buffer.View.SubView(0, 1).CopyFromCPU([100f]);
        Assert.Equal(100f, tensor.ToArray()[0]);
    }

    [Fact]
    public void TensorOverAnIlgpuSubViewSeesOnlyThoseElements()
    {
        var accelerator = Accelerator();
        using var buffer = accelerator.Native.Allocate1D<float>(10);
        buffer.CopyFromCPU([.. Enumerable.Range(0, 10).Select(i => (float)i)]);
        using var borrowed = accelerator.Borrow(buffer.View.SubView(4, 4));
        using var tensor = Tensor.FromBuffer(borrowed, new Shape(4));
        Assert.Equal([4f, 5, 6, 7], tensor.ToArray());
    }

    [Fact]
    public void DisposingTheTensorAndTheBorrowLeavesTheIlgpuBufferAlive()
    {
        var accelerator = Accelerator();
        using var buffer = accelerator.Native.Allocate1D<float>(4);
        buffer.CopyFromCPU([1, 2, 3, 4]);
        using (var borrowed = accelerator.Borrow(buffer))
        using (var tensor = Tensor.FromBuffer(borrowed, new Shape(4)))
            Assert.Equal(4, tensor.ToArray().Length);
        Assert.False(buffer.IsDisposed);
        Assert.Equal([1f, 2, 3, 4], buffer.GetAsArray1D());
    }

    [Fact]
    public void ATensorWhoseIlgpuBufferWasDisposedSaysSoInsteadOfReadingFreedMemory()
    {
        var accelerator = Accelerator();
        var buffer = accelerator.Native.Allocate1D<float>(4);
        using var borrowed = accelerator.Borrow(buffer);
        using var tensor = Tensor.FromBuffer(borrowed, new Shape(4));
        buffer.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => tensor.ToArray());
        Assert.Contains("disposed by its owner", e.Message);

        var again = Assert.Throws<ObjectDisposedException>(() => accelerator.Borrow(buffer));
        Assert.Contains("has been disposed", again.Message);
    }

    [Fact]
    public void ABufferOfAnotherIlgpuAcceleratorIsRefusedNamingBoth()
    {
        var accelerator = Accelerator();
        using var other = IlgpuCatalogAccess.Backend.Native.GetPreferredDevice(preferCPU: true).CreateAccelerator(IlgpuCatalogAccess.Backend.Native);
        using var foreign = other.Allocate1D<float>(4);
        var e = Assert.Throws<ArgumentException>(() => accelerator.Borrow(foreign));
        Assert.Contains("not on", e.Message);
        Assert.Contains(accelerator.Name, e.Message);
    }

    [Fact]
    public void WrongLengthAndWrongElementTypeAreClearErrors()
    {
        var accelerator = Accelerator();
        using var floats = accelerator.Native.Allocate1D<float>(5);
        using var borrowed = accelerator.Borrow(floats);
        var length = Assert.Throws<ArgumentException>(() => Tensor.FromBuffer(borrowed, new Shape(2, 3)));
        Assert.Contains("needs 6 Single elements", length.Message);
        Assert.Contains("has 5", length.Message);

        using var ints = accelerator.Native.Allocate1D<int>(4);
        using var borrowedInts = accelerator.Borrow(ints);
        using var labels = Tensor.FromBuffer(borrowedInts, new Shape(4));
        var type = Assert.Throws<InvalidOperationException>(() => labels.View);
        Assert.Contains("holds Int32, not Float32", type.Message);
    }

    [Fact]
    public void StorageOfAnotherBackendIsNotAnIlgpuView()
    {
        using var context = Context.Create(b => b.CPU());
        using var cpu = context.GetPreferredDevice(preferCPU: true).CreateAccelerator(context);
        using var tensor = Tensor.FromArray(cpu, [1f, 2f], new Shape(2));
        var e = Assert.Throws<ArgumentException>(() => tensor.View.Data.AsIlgpuView());
        Assert.Contains("is not memory of an ILGPU accelerator", e.Message);
    }

    [Fact]
    public void AUserKernelOnTheLibrarysStreamSeesTheLibrarysWorkInOrder()
    {
        var accelerator = Accelerator();
        var stream = accelerator.DefaultStream.AsIlgpuStream();
        Assert.Same(accelerator.Native.DefaultStream, stream);
        using var tensor = Tensor.FromArray(accelerator, [1f, -2f, 3f], new Shape(3));
        using var relu = Functional.Relu(tensor);
        var addOne = accelerator.Native.LoadAutoGroupedKernel<IL.Index1D, IL.ArrayView<float>>(AddOne);
        addOne(stream, 3, relu.View.Data.AsIlgpuView());
        stream.Synchronize();
        Assert.Equal([2f, 1f, 4f], relu.ToArray());

        using var context = Context.Create(b => b.CPU());
        using var cpu = context.GetPreferredDevice(preferCPU: true).CreateAccelerator(context);
        var e = Assert.Throws<ArgumentException>(() => cpu.DefaultStream.AsIlgpuStream());
        Assert.Contains("is not an ILGPU stream", e.Message);
    }

    private static void AddOne(IL.Index1D index, IL.ArrayView<float> values) => values[index] += 1f;

    [Fact]
    public void AnIlgpuFailureComesOutAsOurExceptionNamingTheAcceleratorAndTheOperation()
    {
        // Our own checks stop a borrowed buffer that its owner disposed before ILGPU sees it, so here the ILGPU call
        // itself gets a view of a disposed buffer (ILGPU 1.5.3 then throws a NullReferenceException) through the one
        // checking point that the copies, fills, synchronizations and stream creation of IlgpuAccelerator go through.
        var accelerator = Accelerator();
        var buffer = accelerator.Native.Allocate1D<float>(4);
        var view = buffer.View;
        buffer.Dispose();
        var e = Assert.Throws<IlgpuOperationException>(() => ((IlgpuAccelerator)accelerator).Checked("copy 16 bytes to the host", () => view.GetAsArray1D()));
        Assert.Equal(accelerator.Name, e.AcceleratorName);
        Assert.Equal("copy 16 bytes to the host", e.Operation);
        Assert.Contains($"ilgpu-cpu accelerator '{accelerator.Name}': ILGPU failed to copy 16 bytes to the host", e.Message);
        Assert.NotNull(e.InnerException);
        Assert.Contains(e.InnerException.Message, e.Message);
        Assert.Contains(e.InnerException.GetType().Name, e.Message);
    }

    [Fact]
    public void TheInteropSampleRunsAndAgreesWithTheCpuAccelerator()
    {
        var (exitCode, output) = GpuDeconv.Testing.Samples.Run("IlgpuInterop", "--cpu");
        Assert.True(exitCode is 0, output);
        Assert.Contains("OK: ILGPU kernels and GpuDeconv layers shared one buffer", output);
    }
}

/// <summary>The shared ILGPU backend and its CPU accelerator, as the conformance catalog has them.</summary>
internal static class IlgpuCatalogAccess
{
    public static IlgpuBackend Backend => IlgpuCatalog.Shared;

    public static Accelerator Cpu
    {
        get
        {
            IlgpuCatalog.Register();
            return Conformance.AcceleratorCatalog.TryGet("ilgpu-cpu", out var accelerator, out string reason)
                ? accelerator! : throw new InvalidOperationException(reason);
        }
    }
}
