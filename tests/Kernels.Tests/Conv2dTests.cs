using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

/// <summary>Plain-loop double-precision references for conv2d and its gradients (TF semantics, docs/reference/op-semantics.md sections 1-2).</summary>
internal static class Conv2dReference
{
    /// <summary>One spatial dimension: output size and padding before the data, straight from the formulas of docs/reference/op-semantics.md section 1.</summary>
    public static (int Out, int Before) Window(int n, int k, int s, int d, Padding padding)
    {
        int e = (k - 1) * d + 1;
        if (padding == Padding.Valid) return ((n - e + s) / s, 0);
        int output = (n + s - 1) / s;
        return (output, Math.Max(0, (output - 1) * s + e - n) / 2);
    }

    /// <summary>y = conv2d(x, w) (+ bias): x [N,H,W,Cin], w [KH,KW,Cin,Cout].</summary>
    public static double[] Forward(double[] x, Shape xs, double[] w, Shape ws, Conv2dOptions o, double[]? bias = null)
    {
        var (oh, pt) = Window(xs[1], ws[0], o.Stride.Height, o.Dilation.Height, o.Padding);
        var (ow, pl) = Window(xs[2], ws[1], o.Stride.Width, o.Dilation.Width, o.Padding);
        int n = xs[0], h = xs[1], wd = xs[2], cin = xs[3], kh = ws[0], kw = ws[1], cout = ws[3];
        var y = new double[n * oh * ow * cout];
        for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int co = 0; co < cout; co++)
        {
            double sum = bias is null ? 0 : bias[co];
            for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
            {
                int iy = oy * o.Stride.Height + i * o.Dilation.Height - pt;
                int ix = ox * o.Stride.Width + j * o.Dilation.Width - pl;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                for (int ci = 0; ci < cin; ci++)
                    sum += x[((b * h + iy) * wd + ix) * cin + ci] * w[((i * kw + j) * cin + ci) * cout + co];
            }
            y[((b * oh + oy) * ow + ox) * cout + co] = sum;
        }
        return y;
    }

    /// <summary>dx of shape xs from dy (scatter form of docs/reference/op-semantics.md section 2; also conv2d_transpose).</summary>
    public static double[] BackwardInput(double[] dy, Shape dys, double[] w, Shape ws, Shape xs, Conv2dOptions o)
    {
        var (oh, pt) = Window(xs[1], ws[0], o.Stride.Height, o.Dilation.Height, o.Padding);
        var (ow, pl) = Window(xs[2], ws[1], o.Stride.Width, o.Dilation.Width, o.Padding);
        Assert.Equal(new Shape(xs[0], oh, ow, ws[3]), dys);
        int n = xs[0], h = xs[1], wd = xs[2], cin = xs[3], kh = ws[0], kw = ws[1], cout = ws[3];
        var dx = new double[xs.Size];
        for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++)
        {
            int iy = oy * o.Stride.Height + i * o.Dilation.Height - pt;
            int ix = ox * o.Stride.Width + j * o.Dilation.Width - pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (int ci = 0; ci < cin; ci++)
            for (int co = 0; co < cout; co++)
                dx[((b * h + iy) * wd + ix) * cin + ci] += dy[((b * oh + oy) * ow + ox) * cout + co] * w[((i * kw + j) * cin + ci) * cout + co];
        }
        return dx;
    }

    /// <summary>dw of shape ws from x and dy.</summary>
    public static double[] BackwardFilter(double[] x, Shape xs, double[] dy, Shape ws, Conv2dOptions o)
    {
        var (oh, pt) = Window(xs[1], ws[0], o.Stride.Height, o.Dilation.Height, o.Padding);
        var (ow, pl) = Window(xs[2], ws[1], o.Stride.Width, o.Dilation.Width, o.Padding);
        int n = xs[0], h = xs[1], wd = xs[2], cin = xs[3], kh = ws[0], kw = ws[1], cout = ws[3];
        var dw = new double[ws.Size];
        for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++)
        {
            int iy = oy * o.Stride.Height + i * o.Dilation.Height - pt;
            int ix = ox * o.Stride.Width + j * o.Dilation.Width - pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (int ci = 0; ci < cin; ci++)
            for (int co = 0; co < cout; co++)
                dw[((i * kw + j) * cin + ci) * cout + co] += x[((b * h + iy) * wd + ix) * cin + ci] * dy[((b * oh + oy) * ow + ox) * cout + co];
        }
        return dw;
    }

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}

/// <summary>Runs the ops on an accelerator with host arrays in and out (each call on its own stream, so split-K scratch is private).</summary>
internal static class ConvRunner
{
    public delegate void Op(AcceleratorStream stream, TensorView<float> a, TensorView<float> b, TensorView<float> result);

    public static float[] Run(Accelerator acc, Op op, float[] a, Shape aShape, float[] b, Shape bShape, Shape resultShape)
    {
        using var stream = acc.CreateStream();
        var (aBuffer, aView) = Host.Upload(acc, a, aShape);
        var (bBuffer, bView) = Host.Upload(acc, b, bShape);
        var (rBuffer, rView) = Host.Allocate<float>(acc, resultShape);
        using (aBuffer)
        using (bBuffer)
        using (rBuffer)
        {
            op(stream, aView, bView, rView);
            stream.Synchronize();
            Scratch.Release(stream);
            return Host.Download(rView);
        }
    }

    public static float[] Forward(Accelerator acc, float[] x, Shape xs, float[] w, Shape ws, Conv2dOptions o, float[]? bias = null,
                                  ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        var ys = Conv2dKernels.OutputShape(xs, ws, o);
        if (bias is null)
            return Run(acc, (s, xv, wv, yv) => Conv2dKernels.Forward(s, xv, wv, yv, o, algorithm: algorithm), x, xs, w, ws, ys);
        var (biasBuffer, biasView) = Host.Upload(acc, bias, new Shape(bias.Length));
        using (biasBuffer)
            return Run(acc, (s, xv, wv, yv) => Conv2dKernels.Forward(s, xv, wv, yv, o, biasView, algorithm), x, xs, w, ws, ys);
    }

    public static float[] BackwardInput(Accelerator acc, float[] dy, Shape dys, float[] w, Shape ws, Shape xs, Conv2dOptions o,
                                        ConvAlgorithm algorithm = ConvAlgorithm.Auto) =>
        Run(acc, (s, dyv, wv, dxv) => Conv2dKernels.BackwardInput(s, dyv, wv, dxv, o, algorithm), dy, dys, w, ws, xs);

    public static float[] BackwardFilter(Accelerator acc, float[] x, Shape xs, float[] dy, Shape dys, Shape ws, Conv2dOptions o,
                                         ConvAlgorithm algorithm = ConvAlgorithm.Auto) =>
        Run(acc, (s, xv, dyv, dwv) => Conv2dKernels.BackwardFilter(s, xv, dyv, dwv, o, algorithm), x, xs, dy, dys, ws);

    public static double[] D(float[] values) => FiniteDifference.ToDouble(values);

    public static float[] F(params double[] values) => Array.ConvertAll(values, v => (float)v);
}

public sealed class Conv2dTests
{
    // x shape, filter shape, options: awkward sizes, 1x1 kernels, strides 2/3 and larger than the kernel, dilation 2,
    // VALID and SAME, channel counts that do not divide the 64- or 16-wide tiles, batch 1, a CIFAR-like layer and batch 128.
    public static readonly (Shape X, Shape W, Conv2dOptions O)[] Cases =
    [
        (new(1, 1, 1, 1), new(1, 1, 1, 1), new(1, Padding.Same)),
        (new(2, 7, 5, 3), new(3, 3, 3, 4), new(1, Padding.Same)),
        (new(1, 9, 11, 5), new(3, 2, 5, 10), new(2, Padding.Valid)),
        (new(2, 10, 9, 3), new(2, 2, 3, 5), new(3, Padding.Same)),
        (new(2, 10, 9, 3), new(2, 2, 3, 5), new(3, Padding.Valid)),
        (new(1, 8, 9, 3), new(3, 3, 3, 3), new(1, Padding.Same, 2)),
        (new(1, 9, 8, 2), new(3, 2, 2, 3), new(1, Padding.Valid, (2, 3))),
        (new(1, 13, 17, 7), new(1, 1, 7, 70), new(2, Padding.Same)),
        (new(1, 1, 25, 3), new(1, 3, 3, 2), new((1, 4), Padding.Same)),
        (new(3, 5, 5, 17), new(3, 3, 17, 65), new(1, Padding.Valid)),
        (new(2, 12, 12, 64), new(5, 5, 64, 64), new(1, Padding.Same)),
        (new(128, 8, 8, 3), new(3, 3, 3, 4), new(1, Padding.Same)),
        (new(2, 11, 13, 16), new(3, 3, 16, 32), new(2, Padding.Same)),
        (new(1, 10, 10, 8), new(3, 3, 8, 16), new(1, Padding.Same, 2)),
        // The CIFAR network's layers on Fashion-MNIST (28x28x1): one input channel, 7x7 planes, 10 output channels.
        (new(2, 28, 28, 1), new(5, 5, 1, 64), new(1, Padding.Same)),
        (new(2, 7, 7, 64), new(5, 5, 64, 10), new(1, Padding.Same)),
    ];

    /// <summary>Theory data: every accelerator with each convolution algorithm (Vector where host-shaped kernels compile, Host on the CPU accelerator's 512-bit route).</summary>
    public static TheoryData<string, ConvAlgorithm> AcceleratorsAndAlgorithms
    {
        get
        {
            var data = new TheoryData<string, ConvAlgorithm>();
            foreach (var row in TestAccelerators.Names)
            {
                data.Add(row.Data, ConvAlgorithm.ImplicitGemm);
                data.Add(row.Data, ConvAlgorithm.Vector);
                data.Add(row.Data, ConvAlgorithm.Host);
            }
            return data;
        }
    }

    private static void RequireAlgorithm(Accelerator acc, ConvAlgorithm algorithm)
    {
        if (algorithm == ConvAlgorithm.Vector) TestAccelerators.RequireHostShaped(acc);
        if (algorithm == ConvAlgorithm.Host) RequireHostRoute(acc);
    }

    private static void RequireHostRoute(Accelerator acc)
    {
        if (acc is not CPUAccelerator || !acc.Device.RunsHostKernels)
            Assert.Skip($"ConvAlgorithm.Host is the CPU accelerator's route; {acc} runs kernels.");
        if (!HostRoute.Available)
            Assert.Skip("ConvAlgorithm.Host needs 512-bit vectors (AVX-512), which this CPU lacks or GPUDECONV_CPU_VECTOR=256 turned off.");
    }

    private static string Describe(int i) => $"case {i}: x {Cases[i].X}, w {Cases[i].W}, {Cases[i].O}";

    // fp32 accumulation of K products of values in [-1, 1]: atol grows with the reduction length K.
    private static void Close(double[] expected, float[] actual, int k, string what) =>
        Check.Close(expected, ConvRunner.D(actual), atol: 1e-6 * k + 1e-6, rtol: 1e-4, what);

    [Theory, MemberData(nameof(AcceleratorsAndAlgorithms))]
    public void ForwardMatchesReference(string accelerator, ConvAlgorithm algorithm)
    {
        var acc = TestAccelerators.Get(accelerator);
        RequireAlgorithm(acc, algorithm);
        for (int i = 0; i < Cases.Length; i++)
        {
            var (xs, ws, o) = Cases[i];
            var x = Host.Random(100 + i, xs.Size);
            var w = Host.Random(200 + i, ws.Size);
            float[]? bias = i % 2 == 1 ? Host.Random(300 + i, ws[3]) : null;
            var expected = Conv2dReference.Forward(ConvRunner.D(x), xs, ConvRunner.D(w), ws, o, bias is null ? null : ConvRunner.D(bias));
            Close(expected, ConvRunner.Forward(acc, x, xs, w, ws, o, bias, algorithm), ws[0] * ws[1] * ws[2] + 1, $"{Describe(i)} forward");
        }
    }

    [Theory, MemberData(nameof(AcceleratorsAndAlgorithms))]
    public void BackwardInputMatchesReference(string accelerator, ConvAlgorithm algorithm)
    {
        var acc = TestAccelerators.Get(accelerator);
        RequireAlgorithm(acc, algorithm);
        for (int i = 0; i < Cases.Length; i++)
        {
            var (xs, ws, o) = Cases[i];
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var dy = Host.Random(400 + i, ys.Size);
            var w = Host.Random(500 + i, ws.Size);
            var expected = Conv2dReference.BackwardInput(ConvRunner.D(dy), ys, ConvRunner.D(w), ws, xs, o);
            Close(expected, ConvRunner.BackwardInput(acc, dy, ys, w, ws, xs, o, algorithm), ws[0] * ws[1] * ws[3], $"{Describe(i)} dx");
        }
    }

    [Theory, MemberData(nameof(AcceleratorsAndAlgorithms))]
    public void BackwardFilterMatchesReference(string accelerator, ConvAlgorithm algorithm)
    {
        var acc = TestAccelerators.Get(accelerator);
        RequireAlgorithm(acc, algorithm);
        for (int i = 0; i < Cases.Length; i++)
        {
            var (xs, ws, o) = Cases[i];
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var x = Host.Random(600 + i, xs.Size);
            var dy = Host.Random(700 + i, ys.Size);
            var expected = Conv2dReference.BackwardFilter(ConvRunner.D(x), xs, ConvRunner.D(dy), ws, o);
            Close(expected, ConvRunner.BackwardFilter(acc, x, xs, dy, ys, ws, o, algorithm), (int)(ys.Size / ys[3]), $"{Describe(i)} dw");
        }
    }

    [Fact]
    public void BackwardFilterSplitsTheLongReduction()
    {
        // N*OH*OW = 128*8*8 = 8192 rows must go through several split-K slices and the ordered reduce (checked against
        // the reference above); here the split result must also equal a sum over batch halves done separately.
        var acc = TestAccelerators.Cpu;
        Shape xs = new(128, 8, 8, 3), ws = new(3, 3, 3, 4);
        var o = Conv2dOptions.Default;
        var ys = Conv2dKernels.OutputShape(xs, ws, o);
        var x = Host.Random(1, xs.Size);
        var dy = Host.Random(2, ys.Size);
        var whole = ConvRunner.BackwardFilter(acc, x, xs, dy, ys, ws, o);
        Shape halfX = new(64, 8, 8, 3), halfY = new(64, 8, 8, 4);
        var first = ConvRunner.BackwardFilter(acc, x[..(int)halfX.Size], halfX, dy[..(int)halfY.Size], halfY, ws, o);
        var second = ConvRunner.BackwardFilter(acc, x[(int)halfX.Size..], halfX, dy[(int)halfY.Size..], halfY, ws, o);
        var sum = new double[whole.Length];
        for (int i = 0; i < sum.Length; i++) sum[i] = (double)first[i] + second[i];
        Check.Close(sum, ConvRunner.D(whole), atol: 1e-3, rtol: 1e-4, "dw of 128 images vs the sum of two halves");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleA_StrideTwoGivesMinusTwo(string accelerator)
    {
        // docs/reference/op-semantics.md 7(a): x = ones(1x4x4x1), F = [1,0,-1,-2], stride 2: VALID and SAME both give -2 everywhere.
        var acc = TestAccelerators.Get(accelerator);
        var x = Enumerable.Repeat(1f, 16).ToArray();
        float[] f = [1, 0, -1, -2];
        foreach (var padding in new[] { Padding.Valid, Padding.Same })
        {
            var y = ConvRunner.Forward(acc, x, new(1, 4, 4, 1), f, new(2, 2, 1, 1), new(2, padding));
            Assert.Equal([-2f, -2f, -2f, -2f], y);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleA2_NoFlipAndChannelLayout(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // 7(a2): stride 1 SAME, k = 3, F = 1..9, delta at (0,0) of a 3x3 image -> [5,4,0] / [2,1,0] / [0,0,0].
        var delta = new float[9];
        delta[0] = 1;
        var y = ConvRunner.Forward(acc, delta, new(1, 3, 3, 1), Host.Iota(9), new(3, 3, 1, 1), Conv2dOptions.Default);
        Assert.Equal([5f, 4, 0, 2, 1, 0, 0, 0, 0], y);
        // 7(a2): 1x1 kernel F[0,0] = [[1,2],[3,4],[5,6]] (in 3, out 2), x = [1,2,3] -> [22, 28].
        var channels = ConvRunner.Forward(acc, [1, 2, 3], new(1, 1, 1, 3), Host.Iota(6), new(1, 1, 3, 2), Conv2dOptions.Default);
        Assert.Equal([22f, 28f], channels);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleF_OneRowStrideFour(string accelerator)
    {
        // 7(f): x = 0..96 in one row, F = [1,2,3], stride 4 SAME (pad 1/1) -> 25 outputs, y[0]=3, y[1]=26, y[23]=554, y[24]=287.
        var acc = TestAccelerators.Get(accelerator);
        var y = ConvRunner.Forward(acc, Host.Iota(97, 0), new(1, 1, 97, 1), [1, 2, 3], new(1, 3, 1, 1), new((1, 4), Padding.Same));
        Assert.Equal(25, y.Length);
        Assert.Equal(3f, y[0]);
        Assert.Equal(26f, y[1]);
        Assert.Equal(554f, y[23]);
        Assert.Equal(287f, y[24]);
    }

    [Theory, MemberData(nameof(AcceleratorsAndAlgorithms))]
    public void GradientsMatchFiniteDifferences(string accelerator, ConvAlgorithm algorithm)
    {
        var acc = TestAccelerators.Get(accelerator);
        RequireAlgorithm(acc, algorithm);
        (Shape X, Shape W, Conv2dOptions O)[] cases =
        [
            (new(1, 5, 4, 2), new(3, 2, 2, 3), new(2, Padding.Same)),
            (new(2, 4, 5, 1), new(2, 2, 1, 2), new(1, Padding.Valid, 2)),
            (new(1, 5, 5, 2), new(1, 1, 2, 2), new(3, Padding.Valid)),
        ];
        foreach (var (xs, ws, o) in cases)
        {
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var x = Host.Random(11, xs.Size);
            var w = Host.Random(12, ws.Size);
            var dy = Host.Random(13, ys.Size);
            double[] xd = ConvRunner.D(x), wd = ConvRunner.D(w), dyd = ConvRunner.D(dy);
            var dxExpected = FiniteDifference.Gradient(v => Conv2dReference.Forward(v, xs, wd, ws, o), xd, dyd);
            var dwExpected = FiniteDifference.Gradient(v => Conv2dReference.Forward(xd, xs, v, ws, o), wd, dyd);
            Check.Close(dxExpected, ConvRunner.D(ConvRunner.BackwardInput(acc, dy, ys, w, ws, xs, o, algorithm)), 1e-5, 1e-4, $"dx vs finite differences, x {xs} w {ws} {o}");
            Check.Close(dwExpected, ConvRunner.D(ConvRunner.BackwardFilter(acc, x, xs, dy, ys, ws, o, algorithm)), 1e-5, 1e-4, $"dw vs finite differences, x {xs} w {ws} {o}");
        }
    }

    // Shapes the host route's blocks meet at their edges: planes that are not a multiple of 12 pixels, channel counts that
    // fill one of the two 16-float vectors or part of one, 4 and 8 input channels per filter-gradient step, a 7x7 stride-2
    // stem and strided input gradients (dy spread with zeros).
    public static readonly (Shape X, Shape W, Conv2dOptions O)[] HostCases =
    [
        (new(3, 24, 24, 3), new(5, 5, 3, 64), new(1, Padding.Same)),
        (new(4, 6, 6, 64), new(5, 5, 64, 10), new(1, Padding.Same)),
        (new(2, 23, 21, 12), new(7, 7, 12, 48), new(2, Padding.Same)),
        (new(1, 15, 14, 9), new(3, 3, 9, 17), new(2, Padding.Valid)),
        (new(2, 9, 10, 33), new(3, 3, 33, 31), new(1, Padding.Same, 2)),
        (new(1, 5, 26, 4), new(1, 1, 4, 96), new(3, Padding.Same)),
        // One to three input channels: the filter gradient's row taps (LeNet-5's conv1; 8 taps and a rest; stride 2), and
        // SAME, whose edge columns leave out the taps that fall on padding (an even width pads one side more).
        (new(3, 12, 11, 1), new(5, 5, 1, 6), new(1, Padding.Valid)),
        (new(2, 15, 16, 1), new(3, 11, 1, 20), new(2, Padding.Valid)),
        (new(2, 8, 8, 1), new(3, 3, 1, 6), new(1, Padding.Same)),
        (new(2, 9, 13, 2), new(3, 4, 2, 20), new(2, Padding.Same)),
        // 49 pixels: the forward pass in blocks of ten.
        (new(1, 7, 7, 64), new(3, 3, 64, 40), new(1, Padding.Same)),
    ];

    // Filters above 1 MB, which the host forward pass runs in chunks of filter rows over groups of channel and pixel blocks:
    // 49 pixels in blocks of ten with a 16-channel last block; 162 pixels in blocks of twelve with 200 channels (a tail
    // inside a vector); VALID stride 2 onto 7x7 with 300 input channels (a part chunk at the end); 16 pixels and 512
    // channels, four channel blocks per group.
    public static readonly (Shape X, Shape W, Conv2dOptions O)[] LargeFilterCases =
    [
        (new(1, 7, 7, 256), new(3, 3, 256, 144), new(1, Padding.Same)),
        (new(2, 9, 9, 160), new(3, 3, 160, 200), new(1, Padding.Same)),
        (new(1, 15, 15, 300), new(3, 3, 300, 128), new(2, Padding.Valid)),
        (new(1, 4, 4, 128), new(3, 3, 128, 512), new(1, Padding.Same)),
    ];

    [Fact]
    public void HostForwardOfLargeFiltersGivesTheVectorKernelsBits()
    {
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        for (int i = 0; i < LargeFilterCases.Length; i++)
        {
            var (xs, ws, o) = LargeFilterCases[i];
            Assert.True((long)ws.Size * sizeof(float) > 1 << 20, $"case {i} must have a filter above 1 MB");
            var x = Host.Random(1700 + i, xs.Size);
            var w = Host.Random(1710 + i, ws.Size);
            var bias = Host.Random(1720 + i, ws[3]);
            Check.Equal<float>(ConvRunner.Forward(cpu, x, xs, w, ws, o, bias, ConvAlgorithm.Vector), ConvRunner.Forward(cpu, x, xs, w, ws, o, bias, ConvAlgorithm.Host),
                $"large filter {i}: x {xs}, w {ws}, {o}");
        }
    }

    // Filters that Conv2dFilterCache keeps derived forms of: Winograd over one image's 16 tiles (by columns: 40 outputs,
    // a 16-wide last column block), 160 tiles in batches (20 outputs), a 5x5 filter; the direct route's repacked large
    // filters (LargeFilterCases).
    public static readonly (Shape X, Shape W, Conv2dOptions O, ConvAlgorithm Algorithm)[] CachedCases =
    [
        (new(1, 14, 14, 64), new(3, 3, 64, 40), new(1, Padding.Same), ConvAlgorithm.Winograd),
        (new(10, 16, 16, 16), new(3, 3, 16, 20), new(1, Padding.Same), ConvAlgorithm.Winograd),
        (new(2, 12, 12, 24), new(5, 5, 24, 40), new(1, Padding.Valid), ConvAlgorithm.Winograd),
        .. LargeFilterCases.Select(c => (c.X, c.W, c.O, ConvAlgorithm.Host)),
    ];

    [Fact]
    public void CachedFiltersGiveTheBitsOfFiltersPreparedPerCall()
    {
        // A cache keeps what the route would make on every call (the same transform, the same repacking), so each call with
        // it, the first (which fills it) and the next (which reads it), gives the uncached call's bits, on any thread count.
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        using var sequential = ((CPUDevice)cpu.Device).CreateCPUAccelerator(cpu.Context, CPUAcceleratorMode.Sequential);
        for (int i = 0; i < CachedCases.Length; i++)
        {
            var (xs, ws, o, algorithm) = CachedCases[i];
            var x = Host.Random(1900 + i, xs.Size);
            var w = Host.Random(1920 + i, ws.Size);
            var bias = Host.Random(1940 + i, ws[3]);
            var expected = ConvRunner.Forward(cpu, x, xs, w, ws, o, bias, algorithm);
            foreach (var acc in new Accelerator[] { cpu, sequential })
            {
                var (first, second, bytes) = RunCached(acc, x, xs, w, ws, o, bias, algorithm);
                string what = $"cached case {i} ({algorithm}, {(acc == cpu ? "parallel" : "sequential")}): x {xs}, w {ws}, {o}";
                Check.Equal<float>(expected, first, $"{what}, first call");
                Check.Equal<float>(expected, second, $"{what}, second call");
                Assert.True(bytes >= ws.Size * sizeof(float), $"{what}: the cache holds {bytes} bytes, less than the filter");
            }
        }
    }

    [Fact]
    public void AutoTakesWinogradForOneSmallImageWhenTheTransformIsCached()
    {
        // One 14x14 image at 64 channels is 16 tiles: too few to repay a transform made per call (Auto runs it directly), enough
        // once the transform is kept. The cached Auto result is the Winograd route's, bit for bit.
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        Shape xs = new(1, 14, 14, 64), ws = new(3, 3, 64, 64);
        var o = new Conv2dOptions(1, Padding.Same);
        var x = Host.Random(1960, xs.Size);
        var w = Host.Random(1961, ws.Size);
        var winograd = ConvRunner.Forward(cpu, x, xs, w, ws, o, null, ConvAlgorithm.Winograd);
        Assert.NotEqual(winograd, ConvRunner.Forward(cpu, x, xs, w, ws, o, null, ConvAlgorithm.Auto));
        Check.Equal<float>(winograd, RunCached(cpu, x, xs, w, ws, o, null, ConvAlgorithm.Auto).Second, "Auto with a cached transform vs Winograd");
    }

    [Fact]
    public void ACacheUsedWithAnotherFilterRemakesWhatItKeeps()
    {
        // The cache knows its filter by memory and shape: a second filter (another buffer) gets its own transform, not the first's.
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        var (xs, ws, o, algorithm) = CachedCases[0];
        var x = Host.Random(1970, xs.Size);
        float[] w1 = Host.Random(1971, ws.Size), w2 = Host.Random(1972, ws.Size);
        var ys = Conv2dKernels.OutputShape(xs, ws, o);
        using var cache = new Conv2dFilterCache();
        var (w1Buffer, w1View) = Host.Upload(cpu, w1, ws);
        using (w1Buffer)
        {
            var second = ConvRunner.Run(cpu, (stream, xView, w2View, yView) =>
            {
                Conv2dKernels.Forward(stream, xView, w1View, yView, o, algorithm: algorithm, filterCache: cache);
                Conv2dKernels.Forward(stream, xView, w2View, yView, o, algorithm: algorithm, filterCache: cache);
            }, x, xs, w2, ws, ys);
            Check.Equal<float>(ConvRunner.Forward(cpu, x, xs, w2, ws, o, null, algorithm), second, "the second filter through a cache the first filled");
        }
        cache.Dispose();
        Assert.Equal(0, cache.Bytes);
        Assert.Throws<ObjectDisposedException>(() => RunCached(cpu, x, xs, w1, ws, o, null, algorithm, cache));
    }

    // Two forward calls with one cache and one filter buffer; the outputs and the bytes the cache then holds.
    private static (float[] First, float[] Second, long Bytes) RunCached(Accelerator acc, float[] x, Shape xs, float[] w, Shape ws, Conv2dOptions o,
                                                                         float[]? bias, ConvAlgorithm algorithm, Conv2dFilterCache? given = null)
    {
        var ys = Conv2dKernels.OutputShape(xs, ws, o);
        var cache = given ?? new Conv2dFilterCache();
        using var stream = acc.CreateStream();
        var (xBuffer, xView) = Host.Upload(acc, x, xs);
        var (wBuffer, wView) = Host.Upload(acc, w, ws);
        var (bBuffer, bView) = Host.Upload(acc, bias ?? [0f], new Shape(bias?.Length ?? 1));
        var (yBuffer, yView) = Host.Allocate<float>(acc, ys);
        try
        {
            float[] Call()
            {
                Conv2dKernels.Forward(stream, xView, wView, yView, o, bias is null ? null : bView, algorithm, cache);
                stream.Synchronize();
                return Host.Download(yView);
            }
            var first = Call();
            var second = Call();
            return (first, second, cache.Bytes);
        }
        finally
        {
            xBuffer.Dispose();
            wBuffer.Dispose();
            bBuffer.Dispose();
            yBuffer.Dispose();
            Scratch.Release(stream);
            if (given is null) cache.Dispose();
        }
    }

    [Fact]
    public void HostRouteGivesTheVectorKernelsBits()
    {
        // HostConv computes Conv2dVector's sums term for term (same order, one rounding per term, bias added last), only with
        // wider blocks: on the CPU accelerator both must agree to the bit, for every shape the reference tests use.
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        var cases = Cases.Concat(HostCases).ToArray();
        SameBits(cases, Enumerable.Range(0, cases.Length), seed: 1100, "case", (cpu, ConvAlgorithm.Vector), (cpu, ConvAlgorithm.Host));
    }

    [Fact]
    public void HostForwardThatStreamsItsOutputKeepsTheVectorKernelsBits()
    {
        // conv1 of the CIFAR network at the smallest batch whose output the host route writes with non-temporal stores.
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        int batch = 1;
        while (!HostMask.Streams((long)batch * 24 * 24 * 64 * sizeof(float))) batch *= 2;
        Shape xs = new(batch, 24, 24, 3), ws = new(5, 5, 3, 64);
        var o = new Conv2dOptions(1, Padding.Same);
        var x = Host.Random(1600, xs.Size);
        var w = Host.Random(1601, ws.Size);
        var bias = Host.Random(1602, 64);
        Check.Equal<float>(ConvRunner.Forward(cpu, x, xs, w, ws, o, bias, ConvAlgorithm.Vector), ConvRunner.Forward(cpu, x, xs, w, ws, o, bias, ConvAlgorithm.Host),
            $"streamed host forward vs Vector, batch {batch}");
    }

    [Fact]
    public void HostRouteCasesMatchReference() => MatchesReference(HostCases, ConvAlgorithm.Host, seed: 1500, withBias: false);

    // Forward (with or without a bias), input and filter gradients of each case on the CPU accelerator with one algorithm,
    // against the double-precision reference within the reference tests' bound.
    private static void MatchesReference((Shape X, Shape W, Conv2dOptions O)[] cases, ConvAlgorithm algorithm, int seed, bool withBias)
    {
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        for (int i = 0; i < cases.Length; i++)
        {
            var (xs, ws, o) = cases[i];
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var x = Host.Random(seed + i, xs.Size);
            var w = Host.Random(seed + 100 + i, ws.Size);
            var dy = Host.Random(seed + 200 + i, ys.Size);
            var bias = withBias ? Host.Random(seed + 300 + i, ws[3]) : null;
            string what = $"{algorithm} case {i}: x {xs}, w {ws}, {o}";
            Close(Conv2dReference.Forward(ConvRunner.D(x), xs, ConvRunner.D(w), ws, o, bias is null ? null : ConvRunner.D(bias)),
                ConvRunner.Forward(cpu, x, xs, w, ws, o, bias, algorithm), ws[0] * ws[1] * ws[2] + (withBias ? 1 : 0), $"{what} forward");
            Close(Conv2dReference.BackwardInput(ConvRunner.D(dy), ys, ConvRunner.D(w), ws, xs, o),
                ConvRunner.BackwardInput(cpu, dy, ys, w, ws, xs, o, algorithm), ws[0] * ws[1] * ws[3], $"{what} dx");
            Close(Conv2dReference.BackwardFilter(ConvRunner.D(x), xs, ConvRunner.D(dy), ws, o),
                ConvRunner.BackwardFilter(cpu, x, xs, dy, ys, ws, o, algorithm), (int)(ys.Size / ys[3]), $"{what} dw");
        }
    }

    // 3x3 and 5x5 stride-1 shapes for the Winograd route: planes that are not a multiple of the 4x4 output tiles,
    // channel counts around the 16-float vectors and the 12-row GEMM blocks, VALID and SAME, batch edges of the tile batches.
    public static readonly (Shape X, Shape W, Conv2dOptions O)[] WinogradCases =
    [
        (new(2, 12, 12, 64), new(5, 5, 64, 64), new(1, Padding.Same)),
        (new(3, 6, 6, 64), new(5, 5, 64, 10), new(1, Padding.Same)),
        (new(2, 9, 11, 17), new(3, 3, 17, 33), new(1, Padding.Same)),
        (new(1, 10, 7, 16), new(5, 5, 16, 16), new(1, Padding.Valid)),
        (new(5, 7, 7, 40), new(3, 3, 40, 24), new(1, Padding.Valid)),
        (new(9, 14, 14, 32), new(3, 3, 32, 48), new(1, Padding.Same)),
        (new(1, 5, 5, 3), new(3, 3, 3, 8), new(1, Padding.Same)),
        // 112 tiles of 8x8: past one 24-tile forward batch and one 96-tile filter-gradient part, channels off the vectors.
        (new(7, 13, 13, 20), new(5, 5, 20, 33), new(1, Padding.Same)),
        // 3x3 in 48-tile batches (4 of them: the batch-parallel forward pass on up to two cores).
        (new(12, 16, 16, 24), new(3, 3, 24, 40), new(1, Padding.Same)),
        // Few tiles for many input channels: the column-parallel forward pass, its tiles in two rounds of at most 8 MB.
        (new(28, 7, 7, 512), new(3, 3, 512, 16), new(1, Padding.Same)),
    ];

    // The transforms round differently from a direct sum; the bound is the reference tests' (1e-6 per term + 1e-4
    // relative), which a wrong transform, tile or padding misses by orders of magnitude.
    [Fact]
    public void WinogradMatchesReference() => MatchesReference(WinogradCases, ConvAlgorithm.Winograd, seed: 1800, withBias: true);

    // The transforms written out (Bt6, Bt8, At6, At8) against the matrices HostWinograd computes from the interpolation
    // points, in double precision: a wrong sign or coefficient in either shows here before it shows as a wrong convolution.
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void WinogradTransformsMatchTheirMatrices(int r)
    {
        var (alpha, bt, at) = HostWinograd.Matrices(r);
        Assert.Equal(r + 3, alpha);
        var random = new Random(r);
        var d = Enumerable.Range(0, alpha * alpha).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        // BT d B: element (i, j) = sum over k, l of BT[i][k] d[k][l] BT[j][l].
        var written = HostWinograd.TransformBlock(r, d);
        for (int i = 0; i < alpha; i++)
            for (int j = 0; j < alpha; j++)
            {
                double expected = 0;
                for (int k = 0; k < alpha; k++)
                    for (int l = 0; l < alpha; l++) expected += (double)bt[i * alpha + k] * d[k * alpha + l] * bt[j * alpha + l];
                Assert.True(Math.Abs(written[i * alpha + j] - expected) <= 1e-4 * (1 + Math.Abs(expected)),
                    $"BT d B at ({i}, {j}) for {r}x{r}: {written[i * alpha + j]}, the matrix gives {expected}");
            }
        // AT m A (4 x 4).
        var untransformed = HostWinograd.UntransformBlock(r, d);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double expected = 0;
                for (int k = 0; k < alpha; k++)
                    for (int l = 0; l < alpha; l++) expected += (double)at[i * alpha + k] * d[k * alpha + l] * at[j * alpha + l];
                Assert.True(Math.Abs(untransformed[i * 4 + j] - expected) <= 1e-4 * (1 + Math.Abs(expected)),
                    $"AT m A at ({i}, {j}) for {r}x{r}: {untransformed[i * 4 + j]}, the matrix gives {expected}");
            }
    }

    // Winograd's sums have one order whatever the cores: a sequential CPU accelerator (one part at a time, the
    // batch-parallel forward pass, the filter gradient's points in one group) gives the parallel one's bits, including
    // where the parallel one takes the column-parallel forward pass and splits the filter gradient's points.
    [Fact]
    public void WinogradGivesTheSameBitsOnOneThread()
    {
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        using var sequential = ((CPUDevice)cpu.Device).CreateCPUAccelerator(cpu.Context, CPUAcceleratorMode.Sequential);
        SameBits(WinogradCases, [0, 2, 7, 9], seed: 2100, "Winograd case", (cpu, ConvAlgorithm.Winograd), (sequential, ConvAlgorithm.Winograd));
    }

    // Forward (with a bias), input and filter gradients of the chosen cases on two (accelerator, algorithm) routes, equal
    // to the bit.
    private static void SameBits((Shape X, Shape W, Conv2dOptions O)[] cases, IEnumerable<int> indices, int seed, string label,
                                 (Accelerator Accelerator, ConvAlgorithm Algorithm) expected, (Accelerator Accelerator, ConvAlgorithm Algorithm) actual)
    {
        foreach (int i in indices)
        {
            var (xs, ws, o) = cases[i];
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var x = Host.Random(seed + i, xs.Size);
            var w = Host.Random(seed + 100 + i, ws.Size);
            var dy = Host.Random(seed + 200 + i, ys.Size);
            var bias = Host.Random(seed + 300 + i, ws[3]);
            string what = $"{label} {i}: x {xs}, w {ws}, {o}";
            var (a, aAlgorithm) = expected;
            var (b, bAlgorithm) = actual;
            Check.Equal<float>(ConvRunner.Forward(a, x, xs, w, ws, o, bias, aAlgorithm), ConvRunner.Forward(b, x, xs, w, ws, o, bias, bAlgorithm), $"{what} forward");
            Check.Equal<float>(ConvRunner.BackwardInput(a, dy, ys, w, ws, xs, o, aAlgorithm), ConvRunner.BackwardInput(b, dy, ys, w, ws, xs, o, bAlgorithm), $"{what} dx");
            Check.Equal<float>(ConvRunner.BackwardFilter(a, x, xs, dy, ys, ws, o, aAlgorithm), ConvRunner.BackwardFilter(b, x, xs, dy, ys, ws, o, bAlgorithm), $"{what} dw");
        }
    }

    // Convolutions that Auto runs by HostFewOutputs (at most 12 output channels, input channels in whole vectors; the
    // input gradient with stride 1): conv3 itself; 12 outputs, 48 inputs (a one-vector rest) and stride 2 (the filter gradient
    // only); one output with dilation 2 (VALID); 80 inputs (four vectors and one) at batch 7 and 48 inputs at batch 2,
    // both past the input gradient's six-image blocks.
    public static readonly (Shape X, Shape W, Conv2dOptions O)[] FewOutputCases =
    [
        (new(12, 6, 6, 64), new(5, 5, 64, 10), new(1, Padding.Same)),
        (new(3, 9, 7, 48), new(3, 3, 48, 12), new(2, Padding.Same)),
        (new(2, 8, 8, 32), new(3, 3, 32, 1), new(1, Padding.Valid, 2)),
        (new(7, 5, 6, 80), new(3, 3, 80, 7), new(1, Padding.Same)),
        (new(2, 7, 5, 48), new(5, 5, 48, 11), new(1, Padding.Same)),
    ];

    [Fact]
    public void FewOutputConvolutionsMatchTheReference()
    {
        foreach (var (xs, ws, o) in FewOutputCases)
        {
            var g = Conv2dKernels.Geometry(xs, ws, o);
            Assert.True(HostFewOutputs.Takes(g) && HostFewOutputs.TakesForward(g), $"Auto's forward pass and filter gradient of x {xs}, w {ws}, {o} should be HostFewOutputs'.");
            Assert.Equal(o.Stride.Height == 1, HostFewOutputs.TakesBackwardInput(g));
        }
        MatchesReference(FewOutputCases, ConvAlgorithm.Auto, seed: 2300, withBias: true);
    }

    [Fact]
    public void FewOutputConvolutionsGiveTheSameBitsOnOneThread()
    {
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        using var sequential = ((CPUDevice)cpu.Device).CreateCPUAccelerator(cpu.Context, CPUAcceleratorMode.Sequential);
        SameBits(FewOutputCases, Enumerable.Range(0, FewOutputCases.Length), seed: 2400, "few-output case", (cpu, ConvAlgorithm.Auto), (sequential, ConvAlgorithm.Auto));
    }

    [Fact]
    public void WinogradRefusesWhatItDoesNotCompute()
    {
        var cpu = TestAccelerators.Cpu;
        RequireHostRoute(cpu);
        Shape xs = new(1, 8, 8, 4), ws = new(3, 3, 4, 4);
        var error = Assert.Throws<NotSupportedException>(() =>
            ConvRunner.Forward(cpu, Host.Random(1, xs.Size), xs, Host.Random(2, ws.Size), ws, new Conv2dOptions(2, Padding.Same), null, ConvAlgorithm.Winograd));
        Assert.Contains("3x3 and 5x5 filters with stride 1", error.Message);
        Assert.Contains("stride (2, 2)", error.Message);
    }

    [Fact]
    public void HostAlgorithmElsewhereSaysWhereItRuns()
    {
        if (!AcceleratorCatalog.TryGet("opencl", out var cl, out string reason)) Assert.Skip($"opencl accelerator unavailable: {reason}");
        Shape xs = new(1, 4, 4, 2), ws = new(3, 3, 2, 3);
        var error = Assert.Throws<NotSupportedException>(() =>
            ConvRunner.Forward(cl!, Host.Random(1, xs.Size), xs, Host.Random(2, ws.Size), ws, Conv2dOptions.Default, null, ConvAlgorithm.Host));
        Assert.Contains("CPU accelerator", error.Message);
        Assert.Contains("Use Auto or Vector", error.Message);
    }

    [Fact]
    public void SameBitsOnCpuAndOpenCL()
    {
        // Both accelerators run the same fixed-order sums (the implicit GEMM without FMA contraction, the vector kernels
        // with explicit fused multiply-adds), so results match bit for bit.
        if (!AcceleratorCatalog.TryGet("opencl", out var cl, out string reason)) Assert.Skip($"opencl accelerator unavailable: {reason}");
        var cpu = TestAccelerators.Cpu;
        foreach (var algorithm in new[] { ConvAlgorithm.ImplicitGemm, ConvAlgorithm.Vector })
        foreach (int i in new[] { 2, 6, 10, 11, 12, 13 })
        {
            var (xs, ws, o) = Cases[i];
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var x = Host.Random(800 + i, xs.Size);
            var w = Host.Random(900 + i, ws.Size);
            var dy = Host.Random(1000 + i, ys.Size);
            Check.Equal<float>(ConvRunner.Forward(cpu, x, xs, w, ws, o, null, algorithm), ConvRunner.Forward(cl!, x, xs, w, ws, o, null, algorithm), $"{Describe(i)} forward, {algorithm}");
            Check.Equal<float>(ConvRunner.BackwardInput(cpu, dy, ys, w, ws, xs, o, algorithm), ConvRunner.BackwardInput(cl!, dy, ys, w, ws, xs, o, algorithm), $"{Describe(i)} dx, {algorithm}");
            Check.Equal<float>(ConvRunner.BackwardFilter(cpu, x, xs, dy, ys, ws, o, algorithm), ConvRunner.BackwardFilter(cl!, x, xs, dy, ys, ws, o, algorithm), $"{Describe(i)} dw, {algorithm}");
        }
        // The CPU accelerator's 512-bit direct route (Host) against the Float8 kernels on pocl.
        if (!HostRoute.Available) return;
        foreach (int i in new[] { 2, 6, 10, 11, 12, 13 })
        {
            var (xs, ws, o) = Cases[i];
            var ys = Conv2dKernels.OutputShape(xs, ws, o);
            var x = Host.Random(800 + i, xs.Size);
            var w = Host.Random(900 + i, ws.Size);
            var dy = Host.Random(1000 + i, ys.Size);
            const ConvAlgorithm host = ConvAlgorithm.Host, vector = ConvAlgorithm.Vector;
            Check.Equal<float>(ConvRunner.Forward(cpu, x, xs, w, ws, o, null, host), ConvRunner.Forward(cl!, x, xs, w, ws, o, null, vector), $"{Describe(i)} forward, Host vs pocl");
            Check.Equal<float>(ConvRunner.BackwardInput(cpu, dy, ys, w, ws, xs, o, host), ConvRunner.BackwardInput(cl!, dy, ys, w, ws, xs, o, vector), $"{Describe(i)} dx, Host vs pocl");
            Check.Equal<float>(ConvRunner.BackwardFilter(cpu, x, xs, dy, ys, ws, o, host), ConvRunner.BackwardFilter(cl!, x, xs, dy, ys, ws, o, vector), $"{Describe(i)} dw, Host vs pocl");
        }
    }

    [Theory, MemberData(nameof(AcceleratorsAndAlgorithms))]
    public void EmptyForwardOutputGivesZeroGradients(string accelerator, ConvAlgorithm algorithm)
    {
        // VALID 5x5 on 4x4 gives a 0x0 output (n - k + s = 0 is allowed): dx and dw must be written as zeros, not left stale.
        var acc = TestAccelerators.Get(accelerator);
        RequireAlgorithm(acc, algorithm);
        Shape xs = new(1, 4, 4, 3), ws = new(5, 5, 3, 2), ys = new(1, 0, 0, 2);
        var o = new Conv2dOptions(1, Padding.Valid);
        Assert.Equal(ys, Conv2dKernels.OutputShape(xs, ws, o));
        Assert.All(ConvRunner.BackwardInput(acc, [], ys, Host.Random(1, ws.Size), ws, xs, o, algorithm), v => Assert.Equal(0f, v));
        Assert.All(ConvRunner.BackwardFilter(acc, Host.Random(2, xs.Size), xs, [], ys, ws, o, algorithm), v => Assert.Equal(0f, v));
        Assert.Empty(ConvRunner.Forward(acc, Host.Random(3, xs.Size), xs, Host.Random(1, ws.Size), ws, o, algorithm: algorithm));
    }

    [Fact]
    public void OutputShapeFollowsTensorFlow()
    {
        Assert.Equal(new Shape(128, 24, 24, 64), Conv2dKernels.OutputShape(new(128, 24, 24, 3), new(5, 5, 3, 64), Conv2dOptions.Default));
        Assert.Equal(new Shape(1, 28, 28, 6), Conv2dKernels.OutputShape(new(1, 32, 32, 1), new(5, 5, 1, 6), new(1, Padding.Valid)));
        Assert.Equal(new Shape(3, 33, 33, 20), Conv2dKernels.OutputShape(new(3, 97, 97, 3), new(3, 3, 3, 20), new(3, Padding.Same)));
        var g = Conv2dKernels.Geometry(new(1, 97, 97, 1), new(3, 3, 1, 1), new(4, Padding.Same));
        Assert.Equal((25, 1), (g.OutH, g.PadTop));
    }

    [Fact]
    public void ErrorsNameTheOpShapesAndRule()
    {
        var acc = TestAccelerators.Cpu;
        // Rank.
        var rank = Assert.Throws<ArgumentException>(() => Conv2dKernels.OutputShape(new(4, 4, 3), new(3, 3, 3, 2), Conv2dOptions.Default));
        Assert.Contains("Conv2d", rank.Message);
        Assert.Contains("[4, 4, 3]", rank.Message);
        Assert.Contains("rank 4", rank.Message);
        // Channels.
        var channels = Assert.Throws<ArgumentException>(() => Conv2dKernels.OutputShape(new(1, 4, 4, 3), new(3, 3, 2, 5), Conv2dOptions.Default));
        Assert.Contains("Conv2d", channels.Message);
        Assert.Contains("[1, 4, 4, 3]", channels.Message);
        Assert.Contains("[3, 3, 2, 5]", channels.Message);
        Assert.Contains("input[3] == filter[2]", channels.Message);
        // Dilation with stride.
        var dilation = Assert.Throws<ArgumentException>(() => Conv2dKernels.OutputShape(new(1, 9, 9, 1), new(3, 3, 1, 1), new(2, Padding.Same, 2)));
        Assert.Contains("dilation above 1 needs stride 1", dilation.Message);

        // Forward: wrong output shape.
        var wrongOutput = Assert.Throws<ArgumentException>(() =>
            ConvRunner.Run(acc, (s, x, w, y) => Conv2dKernels.Forward(s, x, w, y, Conv2dOptions.Default), new float[48], new(1, 4, 4, 3), new float[54], new(3, 3, 3, 2), new(1, 4, 4, 3)));
        Assert.Contains("Conv2d: output must have shape [1, 4, 4, 2]", wrongOutput.Message);
        Assert.Contains("[1, 4, 4, 3]", wrongOutput.Message);
        Assert.Contains("[3, 3, 3, 2]", wrongOutput.Message);
        // Forward: wrong bias.
        var (biasBuffer, biasView) = Host.Upload(acc, new float[3], new Shape(3));
        using (biasBuffer)
        {
            var wrongBias = Assert.Throws<ArgumentException>(() =>
                ConvRunner.Run(acc, (s, x, w, y) => Conv2dKernels.Forward(s, x, w, y, Conv2dOptions.Default, biasView), new float[48], new(1, 4, 4, 3), new float[54], new(3, 3, 3, 2), new(1, 4, 4, 2)));
            Assert.Contains("bias must have shape [2]", wrongBias.Message);
            Assert.Contains("[3]", wrongBias.Message);
        }

        // BackwardInput: the input size does not map to outputGrad's size; the message gives the accepted range.
        var spatial = Assert.Throws<ArgumentException>(() =>
            ConvRunner.BackwardInput(acc, new float[2 * 3 * 3 * 4], new(2, 3, 3, 4), new float[3 * 3 * 5 * 4], new(3, 3, 5, 4), new(2, 7, 7, 5), new(2, Padding.Same)));
        Assert.Contains("Conv2d.BackwardInput: inputGrad [2, 7, 7, 5]", spatial.Message);
        Assert.Contains("implies a forward output of 4x4 (ceil(7/2) = 4)", spatial.Message);
        Assert.Contains("outputGrad is [2, 3, 3, 4]", spatial.Message);
        Assert.Contains("accept input sizes 5..6 (height) and 5..6 (width)", spatial.Message);
        // BackwardInput: channels and batch.
        var dyChannels = Assert.Throws<ArgumentException>(() =>
            ConvRunner.BackwardInput(acc, new float[9 * 3], new(1, 3, 3, 3), new float[9 * 20], new(3, 3, 5, 4), new(1, 3, 3, 5), Conv2dOptions.Default));
        Assert.Contains("outputGrad [1, 3, 3, 3] has 3 channels but filter [3, 3, 5, 4] has 4", dyChannels.Message);
        var batch = Assert.Throws<ArgumentException>(() =>
            ConvRunner.BackwardInput(acc, new float[2 * 9 * 4], new(2, 3, 3, 4), new float[9 * 20], new(3, 3, 5, 4), new(1, 3, 3, 5), Conv2dOptions.Default));
        Assert.Contains("same batch size", batch.Message);
        Assert.Contains("[1, 3, 3, 5]", batch.Message);
        Assert.Contains("[2, 3, 3, 4]", batch.Message);

        // BackwardFilter: outputGrad does not match conv(input, filterGrad).
        var dw = Assert.Throws<ArgumentException>(() =>
            ConvRunner.BackwardFilter(acc, new float[48], new(1, 4, 4, 3), new float[2 * 2 * 2], new(1, 2, 2, 2), new(3, 3, 3, 2), Conv2dOptions.Default));
        Assert.Contains("Conv2d.BackwardFilter: outputGrad must have shape [1, 4, 4, 2]", dw.Message);
        Assert.Contains("[1, 2, 2, 2]", dw.Message);
        Assert.Contains("[3, 3, 3, 2]", dw.Message);
    }
}
