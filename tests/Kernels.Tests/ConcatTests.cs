using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Concat.cs: joins along every axis against a reference that walks output coordinates, the tutorial's
// [x | layer1 | layer2] summary image (docs/reference/op-semantics.md section 4), the backward slices and finite differences.
public sealed class ConcatTests
{
    public static TheoryData<string, int> Axes
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string name in AcceleratorCatalog.Names)
                for (int axis = -4; axis < 4; axis++)
                    data.Add(name, axis);
            return data;
        }
    }

    // Three inputs of [2, 3, 5, 7] that differ along the axis (sizes 1, 4 and 0 there: an empty part in the middle).
    [Theory, MemberData(nameof(Axes))]
    public void JoinsAndSlicesAlongEveryAxis(string accelerator, int axis)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        int a = axis < 0 ? axis + 4 : axis;
        int[] baseShape = [2, 3, 5, 7];
        int[][] shapes = [With(baseShape, a, 1), With(baseShape, a, 0), With(baseShape, a, 4)];
        float[][] data = [Host.Random(41, Size(shapes[0])), [], Host.Random(42, Size(shapes[2]))];
        var inputs = new TensorView<float>[3];
        for (int k = 0; k < 3; k++) inputs[k] = scope.Upload(data[k], shapes[k]);
        int[] joined = With(baseShape, a, 5);
        var output = scope.Allocate<float>(joined);
        Concat.Forward(stream, inputs, axis, output);
        float[] expected = Reference(data, shapes, a);
        Check.Equal<float>(expected, Host.Download(output), $"concat along axis {axis}");

        var grads = new TensorView<float>[3];
        for (int k = 0; k < 3; k++) grads[k] = scope.Allocate<float>(shapes[k]);
        Concat.Backward(stream, output, axis, grads);
        for (int k = 0; k < 3; k++)
            Check.Equal<float>(data[k], Host.Download(grads[k]), $"slice {k} along axis {axis}");
    }

    // The tutorial's summary image: concat([x, layer1, layer2], axis=2) -> 24x72x3.
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TutorialSummaryImageIs24By72By3(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        float[][] images = [Host.Random(43, 24 * 24 * 3), Host.Random(44, 24 * 24 * 3), Host.Random(45, 24 * 24 * 3)];
        var output = scope.Allocate<float>(1, 24, 72, 3);
        Concat.Forward(acc.DefaultStream, [scope.Upload(images[0], 1, 24, 24, 3), scope.Upload(images[1], 1, 24, 24, 3), scope.Upload(images[2], 1, 24, 24, 3)], 2, output);
        float[] result = Host.Download(output);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 72; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(images[x / 24][(y * 24 + x % 24) * 3 + c], result[(y * 72 + x) * 3 + c]);
    }

    // Batch 128 along width, and a single input (identity).
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void Batch128AndSingleInput(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        float[][] data = [Host.Random(46, 128 * 2 * 3 * 2), Host.Random(47, 128 * 2 * 1 * 2)];
        int[][] shapes = [[128, 2, 3, 2], [128, 2, 1, 2]];
        var output = scope.Allocate<float>(128, 2, 4, 2);
        Concat.Forward(acc.DefaultStream, [scope.Upload(data[0], shapes[0]), scope.Upload(data[1], shapes[1])], -2, output);
        Check.Equal<float>(Reference(data, shapes, 2), Host.Download(output), "batch 128 along width");

        var single = scope.Allocate<float>(128, 2, 3, 2);
        Concat.Forward(acc.DefaultStream, [scope.Upload(data[0], shapes[0])], 0, single);
        Check.Equal<float>(data[0], Host.Download(single), "one input");
    }

    // d<dy, concat(x0, x1)>/dx by central differences equals the slices of dy.
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        int[][] shapes = [[2, 2, 3], [2, 1, 3]];
        float[] x = Host.Random(48, 18);
        float[] dy = Host.Random(49, 18);
        // Where each output element comes from: the reference run on the inputs' flat indices (exact small floats).
        float[] source = Reference([Host.Iota(12, 0f), Host.Iota(6, 12f)], shapes, 1);
        double[] numeric = FiniteDifference.Gradient(v => Array.ConvertAll(source, k => v[(int)k]),
            FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(dy));
        var grads = new[] { scope.Allocate<float>(shapes[0]), scope.Allocate<float>(shapes[1]) };
        Concat.Backward(acc.DefaultStream, scope.Upload(dy, 2, 3, 3), 1, grads);
        double[] analytic = FiniteDifference.ToDouble([.. Host.Download(grads[0]), .. Host.Download(grads[1])]);
        // The forward is a copy (linear), so the differences are exact up to double rounding.
        Check.Close(numeric, analytic, 1e-5, 1e-5, "concat backward vs central differences");
    }

    [Fact]
    public void ErrorsNameTheOpTheShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        var a = scope.Allocate<float>(1, 24, 24, 3);
        var b = scope.Allocate<float>(1, 23, 24, 3);
        var output = scope.Allocate<float>(1, 24, 48, 3);
        var error = Assert.Throws<ArgumentException>(() => Concat.Forward(stream, [a, b], 2, output));
        Assert.Contains("Concat.Forward: inputs[1] has shape [1, 23, 24, 3] but inputs[0] has [1, 24, 24, 3]", error.Message);
        Assert.Contains("equal dimensions except along axis 2", error.Message);

        error = Assert.Throws<ArgumentException>(() => Concat.Forward(stream, [a, a], 2, scope.Allocate<float>(1, 24, 72, 3)));
        Assert.Contains("Concat.Forward: output must have shape [1, 24, 48, 3] (the inputs joined along axis 2), but it is [1, 24, 72, 3]", error.Message);

        error = Assert.Throws<ArgumentException>(() => Concat.Forward(stream, [a, a], 4, output));
        Assert.Contains("Concat.Forward: axis 4 is out of range for inputs of rank 4; it must lie in [-4, 4)", error.Message);

        error = Assert.Throws<ArgumentException>(() => Concat.Forward(stream, [a, scope.Allocate<float>(24, 24, 3)], 1, output));
        Assert.Contains("inputs[1] has shape [24, 24, 3] but inputs[0] has [1, 24, 24, 3]; all must have rank 4", error.Message);

        error = Assert.Throws<ArgumentException>(() => Concat.Forward(stream, [], 0, output));
        Assert.Contains("Concat.Forward: inputs is empty", error.Message);

        error = Assert.Throws<ArgumentException>(() => Concat.Backward(stream, output, 2, [a, b]));
        Assert.Contains("Concat.Backward: inputGrads[1] has shape [1, 23, 24, 3] but inputGrads[0] has [1, 24, 24, 3]", error.Message);
    }

    private static int[] With(int[] shape, int axis, int size)
    {
        var copy = (int[])shape.Clone();
        copy[axis] = size;
        return copy;
    }

    private static int Size(int[] shape) => (int)new Shape(shape).Size;

    // Walks every output coordinate and finds the input it comes from (no outer/inner arithmetic).
    private static float[] Reference(float[][] data, int[][] shapes, int axis)
    {
        var joined = (int[])shapes[0].Clone();
        joined[axis] = shapes.Sum(s => s[axis]);
        var result = new float[Size(joined)];
        int rank = joined.Length;
        var coord = new int[rank];
        for (int i = 0; i < result.Length; i++)
        {
            int rest = i;
            for (int d = rank - 1; d >= 0; d--)
            {
                coord[d] = rest % joined[d];
                rest /= joined[d];
            }
            int k = 0, along = coord[axis];
            while (along >= shapes[k][axis]) along -= shapes[k++][axis];
            int source = 0;
            for (int d = 0; d < rank; d++) source = source * shapes[k][d] + (d == axis ? along : coord[d]);
            result[i] = data[k][source];
        }
        return result;
    }
}
