using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Fill.cs: every element written (buffers start as 0xFF bytes: NaN / -1), for float, int and long.
public sealed class FillTests
{
    public static TheoryData<string, int> Sizes
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string name in AcceleratorCatalog.Names)
                foreach (int n in new[] { 1, 7, 1000, 65539 })
                    data.Add(name, n);
            return data;
        }
    }

    [Theory, MemberData(nameof(Sizes))]
    public void WritesEveryElement(string accelerator, int n)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        var floats = scope.Allocate<float>(n, 1);
        Fill.Forward(acc.DefaultStream, floats, -0.75f);
        Check.Equal<float>(Enumerable.Repeat(-0.75f, n).ToArray(), Host.Download(floats), "float fill");
        var ints = scope.Allocate<int>(n);
        Fill.Forward(acc.DefaultStream, ints, 123456);
        Check.Equal<int>(Enumerable.Repeat(123456, n).ToArray(), Host.Download(ints), "int fill");
        var longs = scope.Allocate<long>(1, n);
        Fill.Forward(acc.DefaultStream, longs, 5_000_000_000L);
        Check.Equal<long>(Enumerable.Repeat(5_000_000_000L, n).ToArray(), Host.Download(longs), "long fill");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ScalarsAndEmptyTensors(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        var scalar = scope.Allocate<float>();
        Fill.Forward(acc.DefaultStream, scalar, 2f);
        Assert.Equal([2f], Host.Download(scalar));
        var empty = scope.Allocate<float>(0, 5);
        Fill.Forward(acc.DefaultStream, empty, 2f);
        Assert.Empty(Host.Download(empty));
    }

    [Fact]
    public void AViewThatDoesNotHoldItsShapeIsRejected()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope(acc);
        var view = scope.Allocate<long>(6);
        var error = Assert.Throws<ArgumentException>(() => Fill.Forward(acc.DefaultStream, new TensorView<long>(view.Data, new Shape(2, 4)), 1L));
        Assert.Contains("Fill.Forward: output has shape [2, 4] (8 elements) but its view holds 6", error.Message);
    }
}
