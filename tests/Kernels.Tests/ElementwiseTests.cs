using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Elementwise.cs: each op against a plain loop. Every op is one IEEE operation (or two) per element in the same
// order on every backend (no FMA contraction), so results must be bit-identical to the host loop.
public sealed class ElementwiseTests
{
    // 1, odd, not a multiple of any group size, above 64Ki.
    public static TheoryData<string, int> Sizes
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string name in AcceleratorCatalog.Names)
                foreach (int n in new[] { 1, 7, 1000, 65537 })
                    data.Add(name, n);
            return data;
        }
    }

    [Theory, MemberData(nameof(Sizes))]
    public void EveryOpMatchesAPlainLoop(string accelerator, int n)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        float[] a = Host.Random(1, n), b = Host.Random(2, n), c = Host.Random(3, n);
        var av = scope.Upload(a, 1, n);
        var bv = scope.Upload(b, 1, n);

        var output = scope.Allocate<float>(1, n);
        Elementwise.Add(stream, av, bv, output);
        Check.Equal<float>(Loop(n, i => a[i] + b[i]), Host.Download(output), "Add");
        Elementwise.Subtract(stream, av, bv, output);
        Check.Equal<float>(Loop(n, i => a[i] - b[i]), Host.Download(output), "Subtract");
        Elementwise.Multiply(stream, av, bv, output);
        Check.Equal<float>(Loop(n, i => a[i] * b[i]), Host.Download(output), "Multiply");
        Elementwise.Scale(stream, av, -2.5f, output);
        Check.Equal<float>(Loop(n, i => -2.5f * a[i]), Host.Download(output), "Scale");
        Elementwise.Copy(stream, av, output);
        Check.Equal<float>(a, Host.Download(output), "Copy");

        var accumulator = scope.Upload(c, 1, n);
        // 0.3 is not a power of two: the product rounds, so a fused multiply-add would show in the bits.
        Elementwise.AddScaled(stream, av, 0.3f, accumulator);
        float[] expected = Loop(n, i => c[i] + 0.3f * a[i]);
        Check.Equal<float>(expected, Host.Download(accumulator), "AddScaled");
        Elementwise.MultiplyAdd(stream, av, bv, accumulator);
        Check.Equal<float>(Loop(n, i => expected[i] + a[i] * b[i]), Host.Download(accumulator), "MultiplyAdd");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void OutputsMayAliasInputs(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        const int n = 1031;
        float[] a = Host.Random(4, n), b = Host.Random(5, n);
        var av = scope.Upload(a, n);
        var bv = scope.Upload(b, n);
        Elementwise.Add(stream, av, bv, av);      // a := a + b
        Elementwise.Multiply(stream, av, bv, bv); // b := (a + b) * b
        Elementwise.Scale(stream, av, 3f, av);    // a := 3 (a + b)
        Check.Equal<float>(Loop(n, i => 3f * (a[i] + b[i])), Host.Download(av), "a after Add into a and Scale in place");
        Check.Equal<float>(Loop(n, i => (a[i] + b[i]) * b[i]), Host.Download(bv), "b after Multiply into b");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void EmptyTensorsLaunchNothing(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        var empty = scope.Allocate<float>(3, 0, 2);
        Elementwise.Add(acc.DefaultStream, empty, empty, empty);
        Elementwise.AddScaled(acc.DefaultStream, empty, 2f, empty);
        Assert.Empty(Host.Download(empty));
    }

    [Fact]
    public void ShapeErrorsNameTheOpBothShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope(acc);
        var a = scope.Allocate<float>(2, 3);
        var b = scope.Allocate<float>(3, 2);
        var error = Assert.Throws<ArgumentException>(() => Elementwise.Add(acc.DefaultStream, a, b, a));
        Assert.Contains("Elementwise.Add", error.Message);
        Assert.Contains("b must have shape [2, 3]", error.Message);
        Assert.Contains("but it is [3, 2]", error.Message);
        Assert.Contains("no broadcasting", error.Message);

        var small = scope.Allocate<float>(5);
        error = Assert.Throws<ArgumentException>(() => Elementwise.AddScaled(acc.DefaultStream, a, 1f, small));
        Assert.Contains("Elementwise.AddScaled", error.Message);
        Assert.Contains("accumulator must have shape [2, 3] (the same shape as x), but it is [5]", error.Message);

        // A view that does not hold its shape.
        var wrong = new TensorView<float>(a.Data, new Shape(7));
        error = Assert.Throws<ArgumentException>(() => Elementwise.Scale(acc.DefaultStream, wrong, 1f, wrong));
        Assert.Contains("Elementwise.Scale: x has shape [7] (7 elements) but its view holds 6", error.Message);
    }

    [Fact]
    public void ViewsOnAnotherAcceleratorAreRejected()
    {
        var acc = TestAccelerators.Cpu;
        using var other = AcceleratorCatalog.CreateSecondCpuAccelerator();
        using var scope = new TensorScope(acc);
        using var foreign = new TensorScope(other);
        var a = scope.Allocate<float>(4);
        var b = foreign.Allocate<float>(4);
        var error = Assert.Throws<ArgumentException>(() => Elementwise.Multiply(acc.DefaultStream, a, b, a));
        Assert.Contains("Elementwise.Multiply: b lives on", error.Message);
    }

    private static float[] Loop(int n, Func<int, float> f)
    {
        var result = new float[n];
        for (int i = 0; i < n; i++) result[i] = f(i);
        return result;
    }
}
