using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// SoftmaxCrossEntropy (sparse int labels and dense float labels) against double references:
// losses |a - ref| <= 1e-5 + 1e-5 * |ref|, gradients |a - ref| <= 1e-6 + 1e-5 * |ref|,
// finite differences (step 1e-4 in double) |a - fd| <= 1e-5 + 1e-4 * |fd|.
public sealed class SoftmaxCrossEntropyTests
{
    private static readonly int[][] Shapes = [[1, 1], [7, 10], [128, 10], [4, 65], [3, 1000]];

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesReferenceForBothLabelForms(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int c = 0; c < Shapes.Length; c++)
        {
            var shape = new Shape(Shapes[c]);
            int rows = shape[0], classes = shape[1];
            float[] logits = Host.Random(500 + c, shape.Size, -5f, 5f);
            int[] labels = RandomLabels(600 + c, rows, classes);
            float[] soft = SoftLabels(700 + c, rows, classes);

            float[] sparse = RunForward(acc, logits, shape, labels);
            Check.Close(ReferenceLoss(logits, OneHot(labels, classes), rows, classes), FiniteDifference.ToDouble(sparse), 1e-5, 1e-5, $"sparse loss {shape}");
            float[] oneHot = RunForward(acc, logits, shape, ToFloat(OneHot(labels, classes)));
            Check.Close(FiniteDifference.ToDouble(sparse), FiniteDifference.ToDouble(oneHot), 1e-5, 1e-5, $"one-hot loss vs sparse loss {shape}");
            float[] dense = RunForward(acc, logits, shape, soft);
            Check.Close(ReferenceLoss(logits, FiniteDifference.ToDouble(soft), rows, classes), FiniteDifference.ToDouble(dense), 1e-5, 1e-5, $"soft-label loss {shape}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ExtremeLogitsGiveFiniteLosses(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // Rows: the label at +1000 (loss 0), the label at -1000 (loss 2000), all -1000 (loss log 3).
        float[] logits = [1000, -1000, 0, 1000, -1000, 0, -1000, -1000, -1000];
        int[] labels = [0, 1, 2];
        var shape = new Shape(3, 3);
        double[] expected = [0, 2000, Math.Log(3)];
        Check.Close(expected, FiniteDifference.ToDouble(RunForward(acc, logits, shape, labels)), 1e-5, 1e-6, "sparse loss at +-1000");
        Check.Close(expected, FiniteDifference.ToDouble(RunForward(acc, logits, shape, ToFloat(OneHot(labels, 3)))), 1e-5, 1e-6, "one-hot loss at +-1000");
        float[] grad = RunBackward(acc, logits, shape, labels, [1, 1, 1]);
        Assert.All(grad, v => Assert.True(float.IsFinite(v), "finite gradient"));
        Check.Close(ReferenceGrad(logits, OneHot(labels, 3), [1, 1, 1], 3, 3), FiniteDifference.ToDouble(grad), 1e-6, 1e-5, "gradient at +-1000");

        // The group-per-row path (K = 100): alternating +-1000 logits, soft labels over a +1000 and a -1000 class.
        var wideShape = new Shape(2, 100);
        float[] wide = new float[200];
        for (int i = 0; i < wide.Length; i++) wide[i] = i % 2 == 0 ? 1000f : -1000f;
        float[] soft = new float[200];
        soft[10] = 0.25f; soft[11] = 0.75f; soft[150] = 1f;
        double[] wideExpected = ReferenceLoss(wide, FiniteDifference.ToDouble(soft), 2, 100);
        float[] wideLoss = RunForward(acc, wide, wideShape, soft);
        Assert.All(wideLoss, v => Assert.True(float.IsFinite(v), "finite loss"));
        Check.Close(wideExpected, FiniteDifference.ToDouble(wideLoss), 1e-3, 1e-6, "soft-label loss of a wide +-1000 row");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesReferenceForBothLabelForms(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int c = 0; c < Shapes.Length; c++)
        {
            var shape = new Shape(Shapes[c]);
            int rows = shape[0], classes = shape[1];
            float[] logits = Host.Random(800 + c, shape.Size, -5f, 5f);
            int[] labels = RandomLabels(900 + c, rows, classes);
            float[] soft = SoftLabels(1000 + c, rows, classes);
            float[] lossGrad = Host.Random(1100 + c, rows);
            Check.Close(ReferenceGrad(logits, OneHot(labels, classes), lossGrad, rows, classes),
                FiniteDifference.ToDouble(RunBackward(acc, logits, shape, labels, lossGrad)), 1e-6, 1e-5, $"sparse gradient {shape}");
            Check.Close(ReferenceGrad(logits, FiniteDifference.ToDouble(soft), lossGrad, rows, classes),
                FiniteDifference.ToDouble(RunBackward(acc, logits, shape, soft, lossGrad)), 1e-6, 1e-5, $"soft-label gradient {shape}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // K = 4 (thread per row) and K = 70 (group per row); soft labels sum to 1, where TF's gradient is exact.
        foreach (int[] dims in new[] { new[] { 3, 4 }, new[] { 2, 70 } })
        {
            var shape = new Shape(dims);
            int rows = dims[0], classes = dims[1];
            float[] logits = Host.Random(1200, shape.Size, -3f, 3f);
            int[] labels = RandomLabels(1201, rows, classes);
            float[] soft = SoftLabels(1202, rows, classes);
            float[] lossGrad = Host.Random(1203, rows);
            double[] oneHot = OneHot(labels, classes);
            double[] softDouble = FiniteDifference.ToDouble(soft);
            double[] x = FiniteDifference.ToDouble(logits);
            double[] upstream = FiniteDifference.ToDouble(lossGrad);
            double[] numericSparse = FiniteDifference.Gradient(z => ReferenceLoss(z, oneHot, rows, classes), x, upstream);
            Check.Close(numericSparse, FiniteDifference.ToDouble(RunBackward(acc, logits, shape, labels, lossGrad)), 1e-5, 1e-4, $"sparse gradient {shape} vs finite differences");
            double[] numericDense = FiniteDifference.Gradient(z => ReferenceLoss(z, softDouble, rows, classes), x, upstream);
            Check.Close(numericDense, FiniteDifference.ToDouble(RunBackward(acc, logits, shape, soft, lossGrad)), 1e-5, 1e-4, $"soft-label gradient {shape} vs finite differences");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void OutOfRangeLabelsGiveNaNRows(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        foreach (int classes in new[] { 5, 80 })
        {
            var shape = new Shape(4, classes);
            float[] logits = Host.Random(1300, shape.Size);
            int[] labels = [-1, classes, 2, int.MinValue];
            float[] losses = RunForward(acc, logits, shape, labels);
            Assert.True(float.IsNaN(losses[0]) && float.IsNaN(losses[1]) && float.IsNaN(losses[3]), $"NaN losses for bad labels, K = {classes}");
            Check.Close([ReferenceLoss(logits, OneHot([0, 0, 2, 0], classes), 4, classes)[2]], [(double)losses[2]], 1e-5, 1e-5, "the valid row");
            float[] grad = RunBackward(acc, logits, shape, labels, [1, 1, 1, 1]);
            for (int k = 0; k < classes; k++)
            {
                Assert.True(float.IsNaN(grad[k]) && float.IsNaN(grad[classes + k]) && float.IsNaN(grad[3 * classes + k]), "NaN gradient rows");
                Assert.True(float.IsFinite(grad[2 * classes + k]), "finite gradient for the valid row");
            }
            var (mean, correct) = RunMean(acc, logits, shape, labels);
            Assert.True(float.IsNaN(mean), "the mean includes a NaN row");
            Assert.InRange(correct, 0, 1);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MeanLossAndCorrectMatchReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // 128 x 10 (training shape), 300 rows (lanes take two rows), 5 x 300 (group-per-row statistics).
        foreach (int[] dims in new[] { new[] { 128, 10 }, new[] { 300, 7 }, new[] { 5, 300 } })
        {
            var shape = new Shape(dims);
            int rows = dims[0], classes = dims[1];
            float[] logits = Host.Random(1400 + rows, shape.Size, -3f, 3f);
            int[] labels = RandomLabels(1500 + rows, rows, classes);
            // Make about half the rows correct, so the count is neither 0 nor B by accident.
            for (int b = 0; b < rows; b += 2) labels[b] = (int)ReferenceArgmax(logits, b, classes);
            double[] losses = ReferenceLoss(logits, OneHot(labels, classes), rows, classes);
            int expectedCorrect = 0;
            for (int b = 0; b < rows; b++) if (ReferenceArgmax(logits, b, classes) == labels[b]) expectedCorrect++;
            var (mean, correct) = RunMean(acc, logits, shape, labels);
            Check.Close([losses.Average()], [(double)mean], 1e-5, 1e-5, $"mean loss {shape}");
            Assert.Equal(expectedCorrect, correct);
        }

        // Ties: the first maximum is the prediction, so only the label 1 counts in row 0; row 1 counts.
        float[] tied = [0, 3, 3, 1, 2, 1];
        Assert.Equal(1, RunMean(acc, tied, new Shape(2, 3), [2, 1]).Correct);
        Assert.Equal(2, RunMean(acc, tied, new Shape(2, 3), [1, 1]).Correct);
        // An empty batch: mean 0/0 = NaN, nothing correct.
        var empty = RunMean(acc, [], new Shape(0, 10), []);
        Assert.True(float.IsNaN(empty.Mean));
        Assert.Equal(0, empty.Correct);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ShapeErrorsNameTheOpTheShapesAndTheRule(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var s = acc.DefaultStream;
        var logits = Host.Upload(acc, Host.Random(1, 12), new Shape(3, 4));
        using var logitsBuffer = logits.Buffer;
        var labels = Host.Upload(acc, new[] { 0, 1 }, new Shape(2));
        using var labelsBuffer = labels.Buffer;
        var goodLabels = Host.Upload(acc, new[] { 0, 1, 2 }, new Shape(3));
        using var goodLabelsBuffer = goodLabels.Buffer;
        var softWrong = Host.Allocate<float>(acc, new Shape(3, 5));
        using var softWrongBuffer = softWrong.Buffer;
        var losses = Host.Allocate<float>(acc, new Shape(3));
        using var lossesBuffer = losses.Buffer;
        var lossesWrong = Host.Allocate<float>(acc, new Shape(3, 1));
        using var lossesWrongBuffer = lossesWrong.Buffer;
        var gradWrong = Host.Allocate<float>(acc, new Shape(4, 3));
        using var gradWrongBuffer = gradWrong.Buffer;
        var noClasses = Host.Allocate<float>(acc, new Shape(3, 0));
        using var noClassesBuffer = noClasses.Buffer;
        var count = Host.Allocate<int>(acc, new Shape(2));
        using var countBuffer = count.Buffer;
        var mean = Host.Allocate<float>(acc, new Shape(1));
        using var meanBuffer = mean.Buffer;

        var bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(s, logits.View, labels.View, losses.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.Forward", "labels", "[3]", "[2]", "one class index per row of logits [3, 4]");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(s, logits.View, softWrong.View, losses.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.Forward", "labels", "[3, 4]", "[3, 5]", "one probability per logit");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(s, logits.View, goodLabels.View, lossesWrong.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.Forward", "losses", "[3]", "[3, 1]", "one value per row of logits [3, 4]");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Backward(s, logits.View, goodLabels.View, losses.View, gradWrong.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.Backward", "logitsGrad", "[3, 4]", "[4, 3]", "shape of logits");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Backward(s, logits.View, goodLabels.View, lossesWrong.View, logits.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.Backward", "lossGrad", "[3]", "[3, 1]");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(s, noClasses.View, goodLabels.View, losses.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.Forward", "[3, 0]", "K >= 1");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.MeanLossAndCorrect(s, logits.View, goodLabels.View, mean.View, count.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.MeanLossAndCorrect", "correct", "[1]", "[2]");
        bad = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.MeanLossAndCorrect(s, logits.View, goodLabels.View, losses.View, count.View));
        ReductionsTests.AssertMentions(bad, "SoftmaxCrossEntropy.MeanLossAndCorrect", "meanLoss", "[1]", "[3]");
    }

    // ---- running the ops ----

    private static float[] RunForward<TLabel>(Accelerator acc, float[] logits, Shape shape, TLabel[] labels) where TLabel : unmanaged
    {
        var z = Host.Upload(acc, logits, shape);
        using var zBuffer = z.Buffer;
        var l = Host.Upload(acc, labels, typeof(TLabel) == typeof(int) ? new Shape(shape[0]) : shape);
        using var lBuffer = l.Buffer;
        var losses = Host.Allocate<float>(acc, new Shape(shape[0]));
        using var lossesBuffer = losses.Buffer;
        if (l.View is TensorView<int> sparse) SoftmaxCrossEntropy.Forward(acc.DefaultStream, z.View, sparse, losses.View);
        else SoftmaxCrossEntropy.Forward(acc.DefaultStream, z.View, (TensorView<float>)(object)l.View, losses.View);
        return Host.Download(losses.View);
    }

    private static float[] RunBackward<TLabel>(Accelerator acc, float[] logits, Shape shape, TLabel[] labels, float[] lossGrad) where TLabel : unmanaged
    {
        var z = Host.Upload(acc, logits, shape);
        using var zBuffer = z.Buffer;
        var l = Host.Upload(acc, labels, typeof(TLabel) == typeof(int) ? new Shape(shape[0]) : shape);
        using var lBuffer = l.Buffer;
        var g = Host.Upload(acc, lossGrad, new Shape(shape[0]));
        using var gBuffer = g.Buffer;
        var dz = Host.Allocate<float>(acc, shape);
        using var dzBuffer = dz.Buffer;
        if (l.View is TensorView<int> sparse) SoftmaxCrossEntropy.Backward(acc.DefaultStream, z.View, sparse, g.View, dz.View);
        else SoftmaxCrossEntropy.Backward(acc.DefaultStream, z.View, (TensorView<float>)(object)l.View, g.View, dz.View);
        return Host.Download(dz.View);
    }

    private static (float Mean, int Correct) RunMean(Accelerator acc, float[] logits, Shape shape, int[] labels)
    {
        var z = Host.Upload(acc, logits, shape);
        using var zBuffer = z.Buffer;
        var l = Host.Upload(acc, labels, new Shape(shape[0]));
        using var lBuffer = l.Buffer;
        var mean = Host.Allocate<float>(acc, new Shape(1));
        using var meanBuffer = mean.Buffer;
        var correct = Host.Allocate<int>(acc, new Shape(1));
        using var correctBuffer = correct.Buffer;
        SoftmaxCrossEntropy.MeanLossAndCorrect(acc.DefaultStream, z.View, l.View, mean.View, correct.View);
        return (Host.Download(mean.View)[0], Host.Download(correct.View)[0]);
    }

    // ---- data and slow references ----

    private static int[] RandomLabels(int seed, int rows, int classes)
    {
        var random = new Random(seed);
        var labels = new int[rows];
        for (int b = 0; b < rows; b++) labels[b] = random.Next(classes);
        return labels;
    }

    // Positive random weights normalised to sum to 1 per row.
    private static float[] SoftLabels(int seed, int rows, int classes)
    {
        float[] raw = Host.Random(seed, (long)rows * classes, 0f, 1f);
        for (int b = 0; b < rows; b++)
        {
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += raw[b * classes + k];
            for (int k = 0; k < classes; k++) raw[b * classes + k] = (float)(raw[b * classes + k] / sum);
        }
        return raw;
    }

    private static double[] OneHot(int[] labels, int classes)
    {
        var p = new double[labels.Length * classes];
        for (int b = 0; b < labels.Length; b++) p[b * classes + labels[b]] = 1;
        return p;
    }

    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    private static double[] ReferenceLoss(float[] logits, double[] p, int rows, int classes) =>
        ReferenceLoss(FiniteDifference.ToDouble(logits), p, rows, classes);

    // loss_b = sum_k p[b,k] (logsumexp(z_b) - z[b,k]), logsumexp taken with the row max subtracted (double).
    private static double[] ReferenceLoss(double[] logits, double[] p, int rows, int classes)
    {
        var losses = new double[rows];
        for (int b = 0; b < rows; b++)
        {
            double max = double.NegativeInfinity;
            for (int k = 0; k < classes; k++) max = Math.Max(max, logits[b * classes + k]);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.Exp(logits[b * classes + k] - max);
            double lse = max + Math.Log(sum);
            for (int k = 0; k < classes; k++)
                if (p[b * classes + k] != 0) losses[b] += p[b * classes + k] * (lse - logits[b * classes + k]);
        }
        return losses;
    }

    private static double[] ReferenceGrad(float[] logits, double[] p, float[] lossGrad, int rows, int classes)
    {
        double[] softmax = SoftmaxTests.Reference(logits, rows, classes);
        var grad = new double[logits.Length];
        for (int i = 0; i < grad.Length; i++) grad[i] = lossGrad[i / classes] * (softmax[i] - p[i]);
        return grad;
    }

    private static long ReferenceArgmax(float[] logits, int b, int classes)
    {
        int best = 0;
        for (int k = 1; k < classes; k++) if (logits[b * classes + k] > logits[b * classes + best]) best = k;
        return best;
    }
}
