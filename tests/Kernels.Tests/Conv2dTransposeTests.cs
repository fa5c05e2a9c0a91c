using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

public sealed class Conv2dTransposeTests
{
    // output shape, filter [KH, KW, Cout, Cin_v], options; the value shape is the forward conv's output of the output shape.
    // Includes outputs above the smallest accepted size (odd SAME sizes, VALID with spare cells) and strides above the kernel.
    private static readonly (Shape Out, Shape F, Conv2dOptions O)[] Cases =
    [
        (new(1, 1, 1, 1), new(1, 1, 1, 1), new(1, Padding.Same)),
        (new(2, 5, 6, 3), new(2, 2, 3, 4), new(2, Padding.Same)),
        (new(1, 9, 10, 3), new(3, 3, 3, 5), new(2, Padding.Valid)),
        (new(2, 11, 7, 5), new(2, 2, 5, 3), new(3, Padding.Same)),
        (new(1, 12, 13, 2), new(3, 3, 2, 10), new(1, Padding.Same, 2)),
        (new(1, 1, 99, 1), new(1, 3, 1, 1), new((1, 4), Padding.Same)),
        (new(2, 12, 12, 64), new(5, 5, 64, 64), new(1, Padding.Same)),
        (new(2, 12, 12, 3), new(5, 5, 3, 64), new(1, Padding.Same)),
    ];

    private static Shape ValueShape(Shape output, Shape filter, Conv2dOptions o) => Conv2dKernels.OutputShape(output, filter, o);

    private static float[] Forward(Accelerator acc, float[] v, Shape vs, float[] f, Shape fs, Shape outShape, Conv2dOptions o) =>
        ConvRunner.Run(acc, (s, vv, fv, ov) => Conv2dTranspose.Forward(s, vv, fv, ov, o), v, vs, f, fs, outShape);

    private static float[] BackwardValue(Accelerator acc, float[] dOut, Shape outShape, float[] f, Shape fs, Shape vs, Conv2dOptions o) =>
        ConvRunner.Run(acc, (s, dov, fv, dvv) => Conv2dTranspose.BackwardValue(s, dov, fv, dvv, o), dOut, outShape, f, fs, vs);

    private static float[] BackwardFilter(Accelerator acc, float[] v, Shape vs, float[] dOut, Shape outShape, Shape fs, Conv2dOptions o) =>
        ConvRunner.Run(acc, (s, vv, dov, dfv) => Conv2dTranspose.BackwardFilter(s, vv, dov, dfv, o), v, vs, dOut, outShape, fs);

    private static float[] Row(Accelerator acc, int o) =>
        Forward(acc, Enumerable.Repeat(1f, 25).ToArray(), new(1, 1, 25, 1), [1, 2, 3], new(1, 3, 1, 1), new(1, 1, o, 1), new((1, 4), Padding.Same));

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ForwardMatchesReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int i = 0; i < Cases.Length; i++)
        {
            var (os, fs, o) = Cases[i];
            var vs = ValueShape(os, fs, o);
            var v = Host.Random(10 + i, vs.Size);
            var f = Host.Random(20 + i, fs.Size);
            var expected = Conv2dReference.BackwardInput(ConvRunner.D(v), vs, ConvRunner.D(f), fs, os, o);
            Check.Close(expected, ConvRunner.D(Forward(acc, v, vs, f, fs, os, o)), 1e-6 * fs[0] * fs[1] * fs[3] + 1e-6, 1e-4,
                $"case {i}: value {vs}, filter {fs}, output {os}, {o}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardsMatchReference(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        for (int i = 0; i < Cases.Length; i++)
        {
            var (os, fs, o) = Cases[i];
            var vs = ValueShape(os, fs, o);
            var v = Host.Random(30 + i, vs.Size);
            var f = Host.Random(40 + i, fs.Size);
            var dOut = Host.Random(50 + i, os.Size);
            // dvalue = conv2d(dOut, F); dF = conv2d's filter gradient with x = dOut, dy = value.
            var dv = Conv2dReference.Forward(ConvRunner.D(dOut), os, ConvRunner.D(f), fs, o);
            var df = Conv2dReference.BackwardFilter(ConvRunner.D(dOut), os, ConvRunner.D(v), fs, o);
            Check.Close(dv, ConvRunner.D(BackwardValue(acc, dOut, os, f, fs, vs, o)), 1e-6 * fs[0] * fs[1] * fs[2] + 1e-6, 1e-4, $"case {i} dvalue");
            Check.Close(df, ConvRunner.D(BackwardFilter(acc, v, vs, dOut, os, fs, o)), 1e-6 * vs.Size / vs[3] + 1e-6, 1e-4, $"case {i} dfilter");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleA_TransposeOfTheStrideTwoConv(string accelerator)
    {
        // 7(a): conv2d_transpose(conv = -2 everywhere, F = [1,0,-1,-2], [1,4,4,1], s = 2), the same for VALID and SAME.
        var acc = TestAccelerators.Get(accelerator);
        foreach (var padding in new[] { Padding.Valid, Padding.Same })
        {
            var y = Forward(acc, [-2, -2, -2, -2], new(1, 2, 2, 1), [1, 0, -1, -2], new(2, 2, 1, 1), new(1, 4, 4, 1), new(2, padding));
            Assert.Equal([-2f, 0, -2, 0, 2, 4, 2, 4, -2, 0, -2, 0, 2, 4, 2, 4], y);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleA2_PlacementFlipAndChannels(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        // v = [[1,2],[3,4]], F = [1,0,-1,-2], VALID, s = 2.
        var placed = Forward(acc, [1, 2, 3, 4], new(1, 2, 2, 1), [1, 0, -1, -2], new(2, 2, 1, 1), new(1, 4, 4, 1), new(2, Padding.Valid));
        Assert.Equal([1f, 0, 2, 0, -1, -2, -2, -4, 3, 0, 4, 0, -3, -6, -4, -8], placed);
        // Stride 1 SAME, k = 3, F = 1..9, delta at (0,0): [5,6,0] / [8,9,0] / [0,0,0].
        var delta = new float[9];
        delta[0] = 1;
        var flipped = Forward(acc, delta, new(1, 3, 3, 1), Host.Iota(9), new(3, 3, 1, 1), new(1, 3, 3, 1), Conv2dOptions.Default);
        Assert.Equal([5f, 6, 0, 8, 9, 0, 0, 0, 0], flipped);
        // 1x1 kernel F[0,0] = [[1,2],[3,4],[5,6]] (out_c = 3, in_c = 2), v = [1, 10] -> [21, 43, 65].
        var channels = Forward(acc, [1, 10], new(1, 1, 1, 2), Host.Iota(6), new(1, 1, 3, 2), new(1, 1, 1, 3), Conv2dOptions.Default);
        Assert.Equal([21f, 43, 65], channels);
        // Adjoint: <conv2d(x = [1,2,3]), y = [1,10]> = <x, conv2d_transpose(y)> = 302.
        var conv = ConvRunner.Forward(acc, [1, 2, 3], new(1, 1, 1, 3), Host.Iota(6), new(1, 1, 3, 2), Conv2dOptions.Default);
        Assert.Equal(302f, conv[0] * 1 + conv[1] * 10);
        Assert.Equal(302f, 1 * channels[0] + 2 * channels[1] + 3 * channels[2]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleD_OddSizesForStrideTwoSame(string accelerator)
    {
        // 7(d): v = ones(3x3), F = [[1,2],[3,4]], s = 2 SAME: o = 5 (pad 0/1) and o = 6 (no padding).
        var acc = TestAccelerators.Get(accelerator);
        var ones = Enumerable.Repeat(1f, 9).ToArray();
        var five = Forward(acc, ones, new(1, 3, 3, 1), [1, 2, 3, 4], new(2, 2, 1, 1), new(1, 5, 5, 1), new(2, Padding.Same));
        float[] odd = [1, 2, 1, 2, 1], even = [3, 4, 3, 4, 3];
        Assert.Equal([.. odd, .. even, .. odd, .. even, .. odd], five);
        var six = Forward(acc, ones, new(1, 3, 3, 1), [1, 2, 3, 4], new(2, 2, 1, 1), new(1, 6, 6, 1), new(2, Padding.Same));
        float[] top = [1, 2, 1, 2, 1, 2], bottom = [3, 4, 3, 4, 3, 4];
        Assert.Equal([.. top, .. bottom, .. top, .. bottom, .. top, .. bottom], six);

        // o = 4 and o = 7 are TF's "actual = 3, computed = 2 / 4".
        foreach (var (o, computed) in new[] { (4, 2), (7, 4) })
        {
            var error = Assert.Throws<ArgumentException>(() => Conv2dTranspose.CheckShapes(new(1, 3, 3, 1), new(2, 2, 1, 1), new(1, o, o, 1), new(2, Padding.Same)));
            Assert.Contains($"implies a value of {computed}x{computed} (ceil({o}/2) = {computed})", error.Message);
            Assert.Contains("value is [1, 3, 3, 1]", error.Message);
            Assert.Contains("output sizes 5..6 (height) and 5..6 (width)", error.Message);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleE_KernelThreeStrideTwo(string accelerator)
    {
        // 7(e): k = 3, s = 2 SAME, v = 1..9 (3x3), F = 1..9.
        var acc = TestAccelerators.Get(accelerator);
        var five = Forward(acc, Host.Iota(9), new(1, 3, 3, 1), Host.Iota(9), new(3, 3, 1, 1), new(1, 5, 5, 1), new(2, Padding.Same));
        Assert.Equal(
        [
            5f, 14, 10, 24, 15,
            16, 40, 26, 60, 36,
            20, 44, 25, 54, 30,
            46, 100, 56, 120, 66,
            35, 74, 40, 84, 45,
        ], five);
        var six = Forward(acc, Host.Iota(9), new(1, 3, 3, 1), Host.Iota(9), new(3, 3, 1, 1), new(1, 6, 6, 1), new(2, Padding.Same));
        Assert.Equal(
        [
            1f, 2, 5, 4, 9, 6,
            4, 5, 14, 10, 24, 15,
            11, 16, 40, 26, 60, 36,
            16, 20, 44, 25, 54, 30,
            35, 46, 100, 56, 120, 66,
            28, 35, 74, 40, 84, 45,
        ], six);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SpecExampleF_OneRowOutputs97To100(string accelerator)
    {
        // 7(f): v = ones(25), F = [1,2,3], stride 4 SAME; outputs 97..100 are all accepted.
        var acc = TestAccelerators.Get(accelerator);
        Assert.Equal((97, 100), Conv2dTranspose.AcceptedOutputSizes(25, 3, 4, 1, Padding.Same));
        var y97 = Row(acc, 97);
        Assert.Equal([2f, 3, 0, 1, 2, 3, 0], y97[..7]);
        Assert.Equal([1f, 2], y97[^2..]);
        foreach (var (o, tail) in new[] { (98, new float[] { 1, 2, 3, 0, 1, 2 }), (99, [2, 3, 0, 1, 2, 3]), (100, [3, 0, 1, 2, 3, 0]) })
        {
            var y = Row(acc, o);
            Assert.Equal(o, y.Length);
            Assert.Equal([1f, 2, 3, 0], y[..4]);
            Assert.Equal(tail, y[^6..]);
        }
    }

    [Fact]
    public void SpecExampleF_StrideThreeErrorSaysWhatIsAccepted()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Conv2dTranspose.CheckShapes(new(3, 25, 25, 20), new(3, 3, 3, 20), new(3, 97, 97, 3), new(3, Padding.Same)));
        Assert.Equal(
            "Conv2dTranspose: outputShape [3, 97, 97, 3] with kernel 3x3, stride 3, SAME implies a value of 33x33 (ceil(97/3) = 33), " +
            "but value is [3, 25, 25, 20]; for a 25x25 value this stride and padding accept output sizes 73..75 (height) and 73..75 (width). (Parameter 'outputShape')",
            error.Message);
    }

    [Fact]
    public void AcceptedOutputSizesAreExactlyTheSizesThatMapBack()
    {
        Assert.Equal((5, 6), Conv2dTranspose.AcceptedOutputSizes(3, 2, 2, 1, Padding.Same));
        Assert.Equal((6, 7), Conv2dTranspose.AcceptedOutputSizes(3, 2, 2, 1, Padding.Valid));
        Assert.Equal((7, 7), Conv2dTranspose.AcceptedOutputSizes(3, 3, 1, 2, Padding.Valid));   // dilated window 5
        foreach (var padding in new[] { Padding.Same, Padding.Valid })
        for (int n = 0; n <= 6; n++)
        for (int k = 1; k <= 4; k++)
        for (int s = 1; s <= 4; s++)
        {
            var (min, max) = Conv2dTranspose.AcceptedOutputSizes(n, k, s, 1, padding);
            for (int o = 0; o <= 40; o++)
            {
                int e = k;
                bool mapsBack = padding == Padding.Same ? (o + s - 1) / s == n : o - e + s >= 0 && (o - e + s) / s == n;
                Assert.True(mapsBack == (o >= min && o <= max), $"n {n} k {k} s {s} {padding} o {o}: accepted {min}..{max}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void AdjointOfConv2d(string accelerator)
    {
        // <conv2d(x), y> == <x, conv2d_transpose(y)> with the same filter and options, both computed on the accelerator.
        var acc = TestAccelerators.Get(accelerator);
        for (int i = 0; i < Cases.Length; i++)
        {
            var (xs, fs, o) = Cases[i];
            var ys = ValueShape(xs, fs, o);
            var x = Host.Random(60 + i, xs.Size);
            var y = Host.Random(70 + i, ys.Size);
            var f = Host.Random(80 + i, fs.Size);
            double left = Conv2dReference.Dot(ConvRunner.D(ConvRunner.Forward(acc, x, xs, f, fs, o)), ConvRunner.D(y));
            double right = Conv2dReference.Dot(ConvRunner.D(x), ConvRunner.D(Forward(acc, y, ys, f, fs, xs, o)));
            Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)) + 1e-6 * ys.Size, $"case {i}: <conv(x), y> = {left}, <x, convT(y)> = {right}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardsMatchFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        (Shape Out, Shape F, Conv2dOptions O)[] cases =
        [
            (new(1, 5, 4, 2), new(2, 3, 2, 3), new(2, Padding.Same)),
            (new(1, 7, 5, 1), new(3, 2, 1, 2), new(3, Padding.Valid)),
        ];
        foreach (var (os, fs, o) in cases)
        {
            var vs = ValueShape(os, fs, o);
            var v = Host.Random(91, vs.Size);
            var f = Host.Random(92, fs.Size);
            var up = Host.Random(93, os.Size);
            double[] vd = ConvRunner.D(v), fd = ConvRunner.D(f), upd = ConvRunner.D(up);
            var dv = FiniteDifference.Gradient(p => Conv2dReference.BackwardInput(p, vs, fd, fs, os, o), vd, upd);
            var df = FiniteDifference.Gradient(p => Conv2dReference.BackwardInput(vd, vs, p, fs, os, o), fd, upd);
            Check.Close(dv, ConvRunner.D(BackwardValue(acc, up, os, f, fs, vs, o)), 1e-5, 1e-4, $"dvalue vs finite differences, output {os} filter {fs} {o}");
            Check.Close(df, ConvRunner.D(BackwardFilter(acc, v, vs, up, os, fs, o)), 1e-5, 1e-4, $"dfilter vs finite differences, output {os} filter {fs} {o}");
        }
    }

    [Fact]
    public void ShapeErrorsNameTheOpShapesAndRule()
    {
        var o = new Conv2dOptions(2, Padding.Same);
        var valueChannels = Assert.Throws<ArgumentException>(() => Conv2dTranspose.CheckShapes(new(1, 3, 3, 4), new(2, 2, 3, 5), new(1, 6, 6, 3), o));
        Assert.Contains("Conv2dTranspose: value [1, 3, 3, 4] has 4 channels but filter [2, 2, 3, 5] has 5", valueChannels.Message);
        Assert.Contains("value[3] == filter[3]", valueChannels.Message);
        var outputChannels = Assert.Throws<ArgumentException>(() => Conv2dTranspose.CheckShapes(new(1, 3, 3, 5), new(2, 2, 3, 5), new(1, 6, 6, 2), o));
        Assert.Contains("outputShape [1, 6, 6, 2] has 2 channels but filter [2, 2, 3, 5] has 3", outputChannels.Message);
        Assert.Contains("outputShape[3] == filter[2]", outputChannels.Message);
        var batch = Assert.Throws<ArgumentException>(() => Conv2dTranspose.CheckShapes(new(2, 3, 3, 5), new(2, 2, 3, 5), new(1, 6, 6, 3), o));
        Assert.Contains("Conv2dTranspose", batch.Message);
        Assert.Contains("same batch size", batch.Message);
        var rank = Assert.Throws<ArgumentException>(() => Conv2dTranspose.CheckShapes(new(3, 3, 5), new(2, 2, 3, 5), new(1, 6, 6, 3), o));
        Assert.Contains("value must be rank 4", rank.Message);
        Assert.Contains("[3, 3, 5]", rank.Message);
        var valid = Assert.Throws<ArgumentException>(() => Conv2dTranspose.CheckShapes(new(1, 3, 3, 5), new(3, 3, 3, 5), new(1, 9, 6, 3), new(2, Padding.Valid)));
        Assert.Contains("implies a value of 4x2 ((9 - 3 + 2) div 2 = 4, (6 - 3 + 2) div 2 = 2)", valid.Message);
        Assert.Contains("output sizes 7..8 (height) and 7..8 (width)", valid.Message);

        // The launch API checks too, in its own argument names.
        var acc = TestAccelerators.Cpu;
        var launch = Assert.Throws<ArgumentException>(() =>
            ConvRunner.Run(acc, (s, v, f, y) => Conv2dTranspose.Forward(s, v, f, y, o), new float[9], new(1, 3, 3, 1), new float[4], new(2, 2, 1, 1), new(1, 7, 7, 1)));
        Assert.Contains("Conv2dTranspose: output [1, 7, 7, 1]", launch.Message);
        Assert.Contains("accept output sizes 5..6", launch.Message);
        var gradient = Assert.Throws<ArgumentException>(() =>
            ConvRunner.Run(acc, (s, v, dy, df) => Conv2dTranspose.BackwardFilter(s, v, dy, df, o), new float[9], new(1, 3, 3, 1), new float[36], new(1, 6, 6, 1), new(2, 2, 1, 2)));
        Assert.Contains("Conv2dTranspose.BackwardFilter", gradient.Message);
        Assert.Contains("filterGrad [2, 2, 1, 2]", gradient.Message);
    }
}
