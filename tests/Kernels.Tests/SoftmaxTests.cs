using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Softmax.Forward against a double reference. Tolerance |a - ref| <= 1e-6 + 1e-5 * |ref|.
public sealed class SoftmaxTests
{
    // K <= 64 takes one thread per row, K > 64 a group per row; 1000 classes cross several lane strides.
    private static readonly int[][] Shapes = [[1, 1], [3, 7], [128, 10], [4, 64], [2, 65], [5, 1000], [3, 257]];

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int c = 0; c < Shapes.Length; c++)
        {
            var shape = new Shape(Shapes[c]);
            float[] logits = Host.Random(300 + c, shape.Size, -5f, 5f);
            float[] actual = Run(acc, logits, shape);
            Check.Close(Reference(logits, shape[0], shape[1]), FiniteDifference.ToDouble(actual), 1e-6, 1e-5, $"softmax {shape}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ExtremeLogitsStayFinite(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        float[] logits = [1000, -1000, 0, -1000, -1000, -1000];
        Check.Close([1, 0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3], FiniteDifference.ToDouble(Run(acc, logits, new Shape(2, 3))), 1e-7, 1e-6, "softmax of +-1000");

        // The group-per-row path: a row of 100 with one +1000 and the rest -1000, and a row of equal +1000s.
        float[] wide = new float[200];
        Array.Fill(wide, -1000f);
        wide[37] = 1000f;
        for (int k = 100; k < 200; k++) wide[k] = 1000f;
        float[] result = Run(acc, wide, new Shape(2, 100));
        Assert.All(result, v => Assert.True(float.IsFinite(v), "finite"));
        Check.Close(Reference(wide, 2, 100), FiniteDifference.ToDouble(result), 1e-7, 1e-6, "softmax of a wide +-1000 row");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ShapeErrorsNameTheOpTheShapesAndTheRule(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var logits = Host.Upload(acc, Host.Random(1, 12), new Shape(3, 4));
        using var logitsBuffer = logits.Buffer;
        var wrong = Host.Allocate<float>(acc, new Shape(4, 3));
        using var wrongBuffer = wrong.Buffer;
        var rank3 = Host.Allocate<float>(acc, new Shape(1, 3, 4));
        using var rank3Buffer = rank3.Buffer;
        var bad = Assert.Throws<ArgumentException>(() => Softmax.Forward(acc.DefaultStream, logits.View, wrong.View));
        ReductionsTests.AssertMentions(bad, "Softmax.Forward", "output", "[3, 4]", "[4, 3]", "shape of logits");
        bad = Assert.Throws<ArgumentException>(() => Softmax.Forward(acc.DefaultStream, rank3.View, rank3.View));
        ReductionsTests.AssertMentions(bad, "Softmax.Forward", "logits", "rank 2", "[B, K]", "[1, 3, 4]");
    }

    private static float[] Run(Compute.Accelerator acc, float[] logits, Shape shape)
    {
        var z = Host.Upload(acc, logits, shape);
        using var zBuffer = z.Buffer;
        var y = Host.Allocate<float>(acc, shape);
        using var yBuffer = y.Buffer;
        Softmax.Forward(acc.DefaultStream, z.View, y.View);
        return Host.Download(y.View);
    }

    internal static double[] Reference(float[] logits, int rows, int classes) => Reference(FiniteDifference.ToDouble(logits), rows, classes);

    internal static double[] Reference(double[] logits, int rows, int classes)
    {
        var result = new double[logits.Length];
        for (int b = 0; b < rows; b++)
        {
            double max = double.NegativeInfinity;
            for (int k = 0; k < classes; k++) max = Math.Max(max, logits[b * classes + k]);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.Exp(logits[b * classes + k] - max);
            for (int k = 0; k < classes; k++) result[b * classes + k] = Math.Exp(logits[b * classes + k] - max) / sum;
        }
        return result;
    }
}
