using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;
using static GpuDeconv.Layers.Tests.GradientCheck;

namespace GpuDeconv.Layers.Tests;

// Conv2d, Conv2dTranspose, BiasAdd and BiasSubtract: forward against plain loops, backward against finite differences.
public sealed class FunctionalConvTests
{
    public static TheoryData<string, int, int, bool, bool> ConvCases()
    {
        var data = new TheoryData<string, int, int, bool, bool>();
        foreach (string name in AcceleratorCatalog.Names)
        {
            data.Add(name, 1, 1, true, false);    // stride 1 SAME
            data.Add(name, 2, 2, true, true);     // stride 2 SAME, odd input, + bias
            data.Add(name, 1, 2, false, true);    // (1, 2) stride VALID, + bias
            data.Add(name, 3, 1, false, false);   // stride 3 > kernel rows skipped
        }
        return data;
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void Conv2dMatchesLoopsAndFiniteDifferences(string name, int sh, int sw, bool same, bool withBias)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 5, 4, 2], ws = [3, 2, 2, 3];
        var inputs = new List<Input> { In(TestData.Uniform(1, 80), xs), In(TestData.Uniform(2, 36), ws) };
        if (withBias) inputs.Add(In(TestData.Uniform(3, 3), [3]));
        var padding = same ? Padding.Same : Padding.Valid;
        Run(acc, $"Conv2d stride ({sh},{sw}) {padding}",
            t => Functional.Conv2d(t[0], t[1], stride: (sh, sw), padding: padding, bias: withBias ? t[2] : null),
            x => Reference.Conv2d(x[0], xs, x[1], ws, sh, sw, same, withBias ? x[2] : null),
            [.. inputs]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void Conv2dWithAFilterCacheKeepsValuesAndGradients(string name)
    {
        // A cache changes nothing a caller sees: the same output (the CPU accelerator makes the same transform either way),
        // the input gradient still flows; and a filter that is being trained is refused one, naming why.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        using var cache = new Conv2dFilterCache();
        var filter = Tensor.FromArray(acc, TestData.Uniform(21, 3 * 3 * 16 * 8), [3, 3, 16, 8]);
        var x = Tensor.FromArray(acc, TestData.Uniform(22, 2 * 6 * 6 * 16), [2, 6, 6, 16], requiresGrad: true);
        var plain = Functional.Conv2d(x, filter).ToArray();
        for (int call = 0; call < 2; call++)
            Assert.Equal(plain, Functional.Conv2d(x, filter, filterCache: cache).ToArray());
        var y = Functional.Conv2d(x, filter, filterCache: cache);
        y.Backward(Tensor.FromArray(acc, TestData.Uniform(23, (int)y.Shape.Size), y.Shape));
        Assert.NotNull(x.Grad);

        var trained = Tensor.FromArray(acc, TestData.Uniform(24, 3 * 3 * 16 * 8), [3, 3, 16, 8], requiresGrad: true);
        var error = Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, trained, filterCache: cache));
        Assert.Contains("requires a gradient", error.Message);
        Assert.Equal("filterCache", error.ParamName);
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void Conv2dReluMatchesReluOfConv2dAndFiniteDifferences(string name, int sh, int sw, bool same, bool withBias)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 5, 4, 2], ws = [3, 2, 2, 3];
        var inputs = new List<Input> { In(TestData.Uniform(11, 80), xs), In(TestData.Uniform(12, 36), ws) };
        if (withBias) inputs.Add(In(TestData.Uniform(13, 3), [3]));
        var padding = same ? Padding.Same : Padding.Valid;
        Run(acc, $"Conv2dRelu stride ({sh},{sw}) {padding}",
            t => Functional.Conv2dRelu(t[0], t[1], stride: (sh, sw), padding: padding, bias: withBias ? t[2] : null),
            x => Reference.Conv2d(x[0], xs, x[1], ws, sh, sw, same, withBias ? x[2] : null).Select(v => Math.Max(v, 0)).ToArray(),
            [.. inputs]);

        // Bit for bit the unfused pair, forward and every gradient.
        using var scope = new TensorScope();
        Tensor[] Leaves() => [.. inputs.Select(i => Tensor.FromArray(acc, i.Data, i.Shape, requiresGrad: true))];
        var fused = Leaves();
        var pair = Leaves();
        var y = Functional.Conv2dRelu(fused[0], fused[1], (sh, sw), padding, bias: withBias ? fused[2] : null);
        var reference = Functional.Relu(Functional.Conv2d(pair[0], pair[1], (sh, sw), padding, bias: withBias ? pair[2] : null));
        Assert.Equal(reference.ToArray(), y.ToArray());
        var seed = Tensor.FromArray(acc, TestData.Uniform(14, (int)y.Shape.Size), y.Shape);
        y.Backward(seed);
        reference.Backward(seed);
        for (int i = 0; i < fused.Length; i++) Assert.Equal(pair[i].Grad!.ToArray(), fused[i].Grad!.ToArray());
    }

    public static TheoryData<string, int, int, bool, bool> ConvPoolCases()
    {
        var data = new TheoryData<string, int, int, bool, bool>();
        foreach (string name in AcceleratorCatalog.Names)
        {
            data.Add(name, 2, 2, true, true);     // the tutorial's block: 2x2 s2 SAME on an odd map, + bias
            data.Add(name, 3, 2, true, false);    // overlapping windows: a cell can be the switch of two
            data.Add(name, 2, 2, false, true);    // LeNet's 2x2 s2 VALID
        }
        return data;
    }

    [Theory, MemberData(nameof(ConvPoolCases))]
    public void Conv2dReluMaxPoolMatchesLoopsFiniteDifferencesAndTheUnfusedOpsBitForBit(string name, int size, int stride, bool same, bool withBias)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 7, 5, 2], ws = [3, 3, 2, 4];
        var pool = new PoolOptions(size, stride, same ? Padding.Same : Padding.Valid);
        var convolution = new Conv2dOptions(1, Padding.Same);
        var inputs = new List<Input> { In(TestData.Uniform(21, 140), xs), In(TestData.Uniform(22, 72), ws) };
        if (withBias) inputs.Add(In(TestData.Uniform(23, 4), [4]));
        Run(acc, $"Conv2dReluMaxPool {size}/{stride} {pool.Padding}",
            t => Functional.Conv2dReluMaxPool(t[0], t[1], withBias ? t[2] : null, convolution, pool).Values,
            x =>
            {
                var activations = Reference.Conv2d(x[0], xs, x[1], ws, 1, 1, true, withBias ? x[2] : null).Select(v => Math.Max(v, 0)).ToArray();
                return Reference.MaxPoolWithArgmax(activations, [2, 7, 5, 4], size, size, stride, stride, same, includeBatch: false).Values;
            },
            [.. inputs]);

        using var scope = new TensorScope();
        Tensor[] Leaves() => [.. inputs.Select(i => Tensor.FromArray(acc, i.Data, i.Shape, requiresGrad: true))];
        var fused = Leaves();
        var pair = Leaves();
        var (values, argmax) = Functional.Conv2dReluMaxPool(fused[0], fused[1], withBias ? fused[2] : null, convolution, pool);
        var activations = Functional.Conv2dRelu(pair[0], pair[1], 1, Padding.Same, bias: withBias ? pair[2] : null);
        var (refValues, refArgmax) = Functional.MaxPoolWithArgmax(activations, size, stride, pool.Padding);
        Assert.Equal(refValues.ToArray(), values.ToArray());
        Assert.Equal(refArgmax.ToArray<long>(), argmax.ToArray<long>());
        Assert.Contains(0f, values.ToArray());   // some windows are all ReLU zeros: the mask matters
        var seed = Tensor.FromArray(acc, TestData.Uniform(24, (int)values.Shape.Size), values.Shape);
        values.Backward(seed);
        refValues.Backward(seed);
        for (int i = 0; i < fused.Length; i++) Assert.Equal(pair[i].Grad!.ToArray(), fused[i].Grad!.ToArray());
    }

    public static TheoryData<string, int, bool, int> TransposeCases()
    {
        var data = new TheoryData<string, int, bool, int>();
        foreach (string name in AcceleratorCatalog.Names)
        {
            data.Add(name, 1, true, 4);    // the tutorial's: stride 1 SAME
            data.Add(name, 2, true, 5);    // stride 2 SAME, odd output (o = 5 from v = 3)
            data.Add(name, 2, true, 6);    // stride 2 SAME, even output
            data.Add(name, 2, false, 7);   // stride 2 VALID: (3-1)*2 + 3 = 7
        }
        return data;
    }

    [Theory, MemberData(nameof(TransposeCases))]
    public void Conv2dTransposeMatchesLoopsAndFiniteDifferences(string name, int stride, bool same, int outSize)
    {
        var acc = TestAccelerators.Get(name);
        int vSize = stride == 1 ? outSize : 3;
        int[] vs = [2, vSize, vSize, 3], ws = [3, 3, 2, 3], outShape = [2, outSize, outSize, 2];
        var padding = same ? Padding.Same : Padding.Valid;
        Run(acc, $"Conv2dTranspose stride {stride} {padding} -> {outSize}",
            t => Functional.Conv2dTranspose(t[0], t[1], outShape, stride: stride, padding: padding),
            x => Reference.Conv2dTranspose(x[0], vs, x[1], ws, outShape, stride, stride, same),
            [In(TestData.Uniform(4, 2 * vSize * vSize * 3), vs), In(TestData.Uniform(5, 54), ws)]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void Conv2dTransposeReproducesTheTutorialExample(string name)
    {
        // docs/reference/op-semantics.md 7(a): conv of ones with F = [1,0,-1,-2], stride 2, then its transpose back to 4x4.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var x = Tensor.Ones(acc, [1, 4, 4, 1]);
        var f = Tensor.FromArray(acc, [1f, 0f, -1f, -2f], [2, 2, 1, 1]);
        foreach (var padding in new[] { Padding.Valid, Padding.Same })
        {
            var conv = Functional.Conv2d(x, f, stride: 2, padding: padding);
            Assert.Equal([-2f, -2f, -2f, -2f], conv.ToArray());
            var back = Functional.Conv2dTranspose(conv, f, x.Shape, stride: 2, padding: padding);
            Assert.Equal([-2f, 0, -2, 0, 2, 4, 2, 4, -2, 0, -2, 0, 2, 4, 2, 4], back.ToArray());
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BiasAddAndBiasSubtractMatchLoopsAndFiniteDifferences(string name)
    {
        var acc = TestAccelerators.Get(name);
        int[] xs = [2, 3, 1, 4];
        foreach (float sign in new[] { 1f, -1f })
        {
            Run(acc, sign > 0 ? "BiasAdd" : "BiasSubtract",
                t => sign > 0 ? Functional.BiasAdd(t[0], t[1]) : Functional.BiasSubtract(t[0], t[1]),
                x => x[0].Select((v, i) => v + sign * x[1][i % 4]).ToArray(),
                [In(TestData.Uniform(6, 24), xs), In(TestData.Uniform(7, 4), [4])]);
        }
        // Rank 2 ([B, C], as after a Linear layer) works too.
        Run(acc, "BiasAdd rank 2",
            t => Functional.BiasAdd(t[0], t[1]),
            x => x[0].Select((v, i) => v + x[1][i % 3]).ToArray(),
            [In(TestData.Uniform(8, 6), [2, 3]), In(TestData.Uniform(9, 3), [3])]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BiasSubtractFillsZeroCellsWithMinusTheBias(string name)
    {
        // The tutorial subtracts the bias from every unpooled cell, zeros included (docs/reference/op-semantics.md section 4).
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var unpooled = Tensor.FromArray(acc, [0f, 0f, 5f, 7f], [1, 1, 2, 2]);
        var bias = Tensor.FromArray(acc, [1f, 2f], [2]);
        Check.Equal<float>([-1f, -2f, 4f, 5f], Functional.BiasSubtract(unpooled, bias).ToArray());
    }
}
