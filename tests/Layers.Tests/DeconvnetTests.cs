using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

public sealed class DeconvnetTests
{
    // ---- the hand-worked network ------------------------------------------------------------------------------
    // x: 1x4x4x1                      W1 (2x2, 1->1) = [[1,0],[0,1]], b1 = -1     W2 (2x2, 1->1) = [[-1,1],[2,1]], b2 = 0.5
    //   1 0 2 0                       Both convs: stride 1, SAME (k=2, s=1: P=1, pad 0 before, 1 after: bottom/right zeros),
    //   0 3 0 1                       then ReLU, then a 2x2 stride-2 max pool with switches (y*W + x)*C + c.
    //   1 0 0 0
    //   0 2 1 0
    // f1 = conv1 = x[i,j] + x[i+1,j+1] - 1:      relu -> pool1 -> h_pool1 = [[3,2],[2,0]], switches [[0,2],[8,10]]
    //   3 -1  2 -1                               (window (1,1) is all <= 0 after ReLU: its switch is its first cell (2,2),
    //  -1  2 -1  0                                where f1 = -1, so Gradient and GuidedBackprop block it and ZeilerFergus does not)
    //   2  0 -1 -1
    //  -1  1  0 -1
    // f2 = conv2(h_pool1) = -p[i,j] + p[i,j+1] + 2p[i+1,j] + p[i+1,j+1] + 0.5 = [[3.5,-1.5],[-1.5,0.5]]
    //   -> relu -> pool2 -> h_pool2 = [[3.5]], switch 0.
    // conv2d_transpose with the diagonal W1 is out[i,j] = v[i,j] + v[i-1,j-1]; with W2 (2x2 output) it scatters
    // v[i,j] * W2[u,v] to out[i+u, j+v] and drops what falls outside.
    private static readonly float[] HandX = [1, 0, 2, 0, 0, 3, 0, 1, 1, 0, 0, 0, 0, 2, 1, 0];

    internal static (ForwardTrace Trace, Tensor X, Tensor Top) HandNetwork(Accelerator acc, bool inputRequiresGrad = false, ReluBackwardRule rule = ReluBackwardRule.Gradient)
    {
        var x = Tensor.FromArray(acc, HandX, [1, 4, 4, 1], requiresGrad: inputRequiresGrad);
        var w1 = Tensor.FromArray(acc, [1f, 0, 0, 1], [2, 2, 1, 1]);
        var b1 = Tensor.FromArray(acc, [-1f], [1]);
        var w2 = Tensor.FromArray(acc, [-1f, 1, 2, 1], [2, 2, 1, 1]);
        var b2 = Tensor.FromArray(acc, [0.5f], [1]);
        var trace = new ForwardTrace();
        var h = trace.Relu(trace.Conv2d(x, w1, stride: 1, padding: Padding.Same, bias: b1), rule);
        (h, _) = trace.MaxPoolWithArgmax(h, 2, 2, Padding.Same);
        h = trace.Relu(trace.Conv2d(h, w2, stride: 1, padding: Padding.Same, bias: b2), rule);
        (h, _) = trace.MaxPoolWithArgmax(h, 2, 2, Padding.Same);
        return (trace, x, h);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void FusedTracesProjectExactlyAsTheUnfusedOne(string name)
    {
        // ForwardTrace.Conv2dRelu records the ReLU with its output as input, and Conv2dReluMaxPool a whole layer from one
        // op; every variant's projection must not notice.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var x = Tensor.FromArray(acc, TestData.Uniform(61, 2 * 8 * 8 * 2), [2, 8, 8, 2]);
        var w1 = Tensor.FromArray(acc, TestData.Uniform(62, 3 * 3 * 2 * 3), [3, 3, 2, 3]);
        var b1 = Tensor.FromArray(acc, TestData.Uniform(63, 3), [3]);
        var w2 = Tensor.FromArray(acc, TestData.Uniform(64, 3 * 3 * 3 * 4), [3, 3, 3, 4]);
        var b2 = Tensor.FromArray(acc, TestData.Uniform(65, 4), [4]);
        var fused = new ForwardTrace();
        var h = fused.Conv2dRelu(x, w1, bias: b1);
        (h, _) = fused.MaxPoolWithArgmax(h, 2, 2, Padding.Same);
        (h, _) = fused.MaxPoolWithArgmax(fused.Conv2dRelu(h, w2, bias: b2), 2, 2, Padding.Same);
        var pair = new ForwardTrace();
        var g = pair.Relu(pair.Conv2d(x, w1, bias: b1));
        (g, _) = pair.MaxPoolWithArgmax(g, 2, 2, Padding.Same);
        (g, _) = pair.MaxPoolWithArgmax(pair.Relu(pair.Conv2d(g, w2, bias: b2)), 2, 2, Padding.Same);
        // ForwardTrace.Conv2dReluMaxPool records a whole layer from one op.
        var block = new ForwardTrace();
        var (b, _) = block.Conv2dReluMaxPool(x, w1, b1, new Conv2dOptions(1, Padding.Same), new PoolOptions(2, 2, Padding.Same));
        (b, _) = block.Conv2dReluMaxPool(b, w2, b2, new Conv2dOptions(1, Padding.Same), new PoolOptions(2, 2, Padding.Same));
        Assert.Equal(pair.Steps.Count, fused.Steps.Count);
        Assert.Equal(pair.Steps.Select(s => s.GetType()), block.Steps.Select(s => s.GetType()));
        Assert.Equal(g.ToArray(), h.ToArray());
        Assert.Equal(g.ToArray(), b.ToArray());
        foreach (var variant in new[] { DeconvnetVariant.Tutorial, DeconvnetVariant.ZeilerFergus, DeconvnetVariant.GuidedBackprop, DeconvnetVariant.Gradient })
            for (int layer = 0; layer < 2; layer++)
            {
                float[] expected = Deconvnet.Project(pair, layer, variant).ToArray();
                Assert.Equal(expected, Deconvnet.Project(fused, layer, variant).ToArray());
                Assert.Equal(expected, Deconvnet.Project(block, layer, variant).ToArray());
            }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void HandNetworkForwardIsTheWorkedExample(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var (trace, _, top) = HandNetwork(acc);
        Assert.Equal(2, trace.LayerCount);
        Assert.Equal(6, trace.Steps.Count);
        Assert.Equal(2, trace.LayerEnd(0));
        Assert.Equal(5, trace.LayerEnd(1));
        Assert.Same(top, trace.LayerOutput(1));
        Assert.Equal([3f, 2, 2, 0], trace.LayerOutput(0).ToArray());
        Assert.Equal([0L, 2, 8, 10], ((PoolStep)trace.Steps[2]).Argmax.ToArray<long>());
        Assert.Equal([3.5f, -1.5f, -1.5f, 0.5f], trace.Steps[3].Output.ToArray());
        Assert.Equal([3.5f], top.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TutorialVariantMatchesTheHandComputation(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var (trace, _, _) = HandNetwork(acc);

        // Layer 2: unpool(h_pool2) = [[3.5,0],[0,0]]; - b2 on every cell -> [[3,-0.5],[-0.5,-0.5]];
        // convT(W2) -> [[-3,3.5],[6.5,2]]  (e.g. out[0,0] = 3*W2[0,0] = -3; out[1,1] = 3*1 - 0.5*2 - 0.5*1 - 0.5*(-1) = 2);
        // unpool with switches [0,2,8,10] and - b1 (= +1 on every cell):
        //   -2 1 4.5 1 / 1 1 1 1 / 7.5 1 3 1 / 1 1 1 1;  convT(W1): out[i,j] = v[i,j] + v[i-1,j-1].
        AssertClose([-2, 1, 4.5, 1, 1, -1, 2, 5.5, 7.5, 2, 4, 2, 1, 8.5, 2, 4],
            Deconvnet.Project(trace, 1, DeconvnetVariant.Tutorial), "tutorial layer 2");

        // Layer 1: unpool(h_pool1) - b1 = 4 1 3 1 / 1 1 1 1 / 3 1 1 1 / 1 1 1 1  (h_pool1[1,1] = 0 lands on (2,2) -> 0 + 1);
        // convT(W1) -> 4 1 3 1 / 1 5 2 4 / 3 2 2 2 / 1 4 2 2.
        AssertClose([4, 1, 3, 1, 1, 5, 2, 4, 3, 2, 2, 2, 1, 4, 2, 2],
            Deconvnet.Project(trace, 0, DeconvnetVariant.Tutorial), "tutorial layer 1");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TutorialSubtractsTheBiasFromZeroFilledCells(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var (trace, _, _) = HandNetwork(acc);
        // A zero seed at layer 1's pooled output: every unpooled cell is a zero-filled one and becomes -b1 = 1; the
        // diagonal W1 then gives 1 on the first row and column and 1 + 1 = 2 elsewhere. Without the subtraction (and in
        // every other variant) the result is all zeros.
        var zeros = Tensor.Zeros(acc, [1, 2, 2, 1]);
        AssertClose([1, 1, 1, 1, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2],
            Deconvnet.Project(trace, 0, DeconvnetVariant.Tutorial, zeros), "tutorial, zero seed");
        foreach (var variant in new[] { DeconvnetVariant.ZeilerFergus, DeconvnetVariant.GuidedBackprop, DeconvnetVariant.Gradient })
            AssertClose(new double[16], Deconvnet.Project(trace, 0, variant, zeros), $"{variant}, zero seed");

        // In the layer-1 projection above, cell (0,1) is not a switch: 0 - b1 = 1 reaches the output unchanged.
        Assert.Equal(1f, Deconvnet.Project(trace, 0, DeconvnetVariant.Tutorial).ToArray()[1]);
        Assert.Equal(0f, Deconvnet.Project(trace, 0, DeconvnetVariant.ZeilerFergus).ToArray()[1]);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ReluVariantsMatchTheHandComputation(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var (trace, _, _) = HandNetwork(acc);
        // Layer 2, all variants: unpool(h_pool2) = [[3.5,0],[0,0]]; its ReLU crossing keeps 3.5 (R > 0 and f2 = 3.5 > 0);
        // convT(W2) -> [[-3.5,3.5],[7,3.5]]; unpool with switches [0,2,8,10]: (0,0) = -3.5, (0,2) = 3.5, (2,0) = 7, (2,2) = 3.5.
        // Crossing ReLU 1, where f1 = 3, 2, 2, -1 at those cells:
        //   ZeilerFergus R*[R>0]:           0, 3.5, 7, 3.5
        //   GuidedBackprop R*[R>0]*[f>0]:   0, 3.5, 7, 0
        //   Gradient R*[f>0]:            -3.5, 3.5, 7, 0
        // then convT(W1): out[i,j] = v[i,j] + v[i-1,j-1].
        AssertClose([0, 0, 3.5, 0, 0, 0, 0, 3.5, 7, 0, 3.5, 0, 0, 7, 0, 3.5],
            Deconvnet.Project(trace, 1, DeconvnetVariant.ZeilerFergus), "Zeiler-Fergus layer 2");
        AssertClose([0, 0, 3.5, 0, 0, 0, 0, 3.5, 7, 0, 0, 0, 0, 7, 0, 0],
            Deconvnet.Project(trace, 1, DeconvnetVariant.GuidedBackprop), "guided layer 2");
        AssertClose([-3.5, 0, 3.5, 0, 0, -3.5, 0, 3.5, 7, 0, 0, 0, 0, 7, 0, 0],
            Deconvnet.Project(trace, 1, DeconvnetVariant.Gradient), "gradient layer 2");

        // Layer 1: unpool(h_pool1): 3 at (0,0), 2 at (0,2), 2 at (2,0), 0 at (2,2); no bias; all crossings keep them.
        double[] layer1 = [3, 0, 2, 0, 0, 3, 0, 2, 2, 0, 0, 0, 0, 2, 0, 0];
        foreach (var variant in new[] { DeconvnetVariant.ZeilerFergus, DeconvnetVariant.GuidedBackprop, DeconvnetVariant.Gradient })
            AssertClose(layer1, Deconvnet.Project(trace, 0, variant), $"{variant} layer 1");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SelectionsKeepOneMapOrItsStrongestActivation(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        // Two images, 2x2, two maps; map 1 of image 1 has a tie (5 at (0,1) and (1,1)): the first in row-major order wins.
        float[] a =
        [
            1, 4,   2, 9,
            3, -1,  0, 7,
            6, 0,   8, 5,
            2, 1,   3, 5,
        ];
        var t = Tensor.FromArray(acc, a, [2, 2, 2, 2]);
        Assert.Equal(a, Deconvnet.Select(t, ProjectionSelection.AllMaps).ToArray());
        Assert.Equal([0f, 4, 0, 9, 0, -1, 0, 7, 0, 0, 0, 5, 0, 1, 0, 5], Deconvnet.Select(t, ProjectionSelection.FeatureMap(1)).ToArray());
        Assert.Equal([0f, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0], Deconvnet.Select(t, ProjectionSelection.StrongestActivation(1)).ToArray());
        Assert.Equal([0f, 0, 0, 0, 3, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0], Deconvnet.Select(t, ProjectionSelection.StrongestActivation(0)).ToArray());
    }

    // ---- random networks against the plain-loop double reference ----------------------------------------------

    // Two layers, two and three maps, odd sizes: 2x7x7x1 -> conv 3x3 SAME (2 maps) -> ReLU -> pool 2 s2 SAME (7 -> 4)
    // -> conv 2x2 VALID (3 maps, 4 -> 3) -> ReLU -> pool 2 s2 SAME (3 -> 2). Layer 1 ends at step 5.
    private static NetOp[] TwoLayers(Random random) =>
    [
        new ConvOp(Values(random, 3 * 3 * 1 * 2), [3, 3, 1, 2], Values(random, 2, 0.3f), 1, Padding.Same),
        new ReluOp(),
        new PoolOp(2, 2, Padding.Same),
        new ConvOp(Values(random, 2 * 2 * 2 * 3), [2, 2, 2, 3], Values(random, 3, 0.3f), 1, Padding.Valid),
        new ReluOp(),
        new PoolOp(2, 2, Padding.Same),
    ];

    // Three conv layers, any depth: a stride-2 conv, an overlapping 3x3 s2 pool (duplicate switches sum), a layer
    // with no pool, a bias-free 1x1 conv. 2x9x9x2 -> conv 3x3 s2 SAME (3) -> ReLU -> pool 3 s2 VALID
    // (5 -> 2) -> conv 2x2 SAME (4) -> ReLU -> conv 1x1 (2) -> ReLU -> pool 2 s1 VALID (2 -> 1). Layers end at 2, 4, 7.
    private static NetOp[] ThreeLayers(Random random) =>
    [
        new ConvOp(Values(random, 3 * 3 * 2 * 3), [3, 3, 2, 3], Values(random, 3, 0.3f), 2, Padding.Same),
        new ReluOp(),
        new PoolOp(3, 2, Padding.Valid),
        new ConvOp(Values(random, 2 * 2 * 3 * 4), [2, 2, 3, 4], Values(random, 4, 0.3f), 1, Padding.Same),
        new ReluOp(),
        new ConvOp(Values(random, 4 * 2), [1, 1, 4, 2], null, 1, Padding.Same),
        new ReluOp(),
        new PoolOp(2, 1, Padding.Valid),
    ];

    public static TheoryData<string, DeconvnetVariant> AcceleratorsAndVariants
    {
        get
        {
            var data = new TheoryData<string, DeconvnetVariant>();
            foreach (string name in AcceleratorCatalog.Names)
                foreach (var variant in Enum.GetValues<DeconvnetVariant>()) data.Add(name, variant);
            return data;
        }
    }

    public static TheoryData<string, DeconvnetVariant> AcceleratorsAndReluVariants
    {
        get
        {
            var data = new TheoryData<string, DeconvnetVariant>();
            foreach (string name in AcceleratorCatalog.Names)
                foreach (var variant in new[] { DeconvnetVariant.ZeilerFergus, DeconvnetVariant.GuidedBackprop, DeconvnetVariant.Gradient }) data.Add(name, variant);
            return data;
        }
    }

    [Theory, MemberData(nameof(AcceleratorsAndVariants))]
    public void TwoLayerProjectionsMatchTheReference(string name, DeconvnetVariant variant)
    {
        var acc = TestAccelerators.Get(name);
        var random = new Random(11);
        var ops = TwoLayers(random);
        float[] x = Values(random, 2 * 7 * 7 * 1);
        CompareWithReference(acc, ops, x, [2, 7, 7, 1], [2, 5], variant,
            [ProjectionSelection.AllMaps, ProjectionSelection.FeatureMap(1), ProjectionSelection.StrongestActivation(0), ProjectionSelection.StrongestActivation(1)]);
    }

    [Theory, MemberData(nameof(AcceleratorsAndVariants))]
    public void ThreeLayerProjectionsMatchTheReference(string name, DeconvnetVariant variant)
    {
        var acc = TestAccelerators.Get(name);
        var random = new Random(23);
        var ops = ThreeLayers(random);
        float[] x = Values(random, 2 * 9 * 9 * 2);
        CompareWithReference(acc, ops, x, [2, 9, 9, 2], [2, 4, 7], variant,
            [ProjectionSelection.AllMaps, ProjectionSelection.FeatureMap(0), ProjectionSelection.StrongestActivation(0)]);
    }

    private static void CompareWithReference(Accelerator acc, NetOp[] ops, float[] x, int[] shape, int[] layerEnds,
        DeconvnetVariant variant, ProjectionSelection[] selections)
    {
        using var scope = new TensorScope();
        var reference = new DeconvnetReference(ops, x, shape);
        ForwardTrace trace;
        using (Autograd.NoGrad()) trace = Record(acc, ops, Tensor.FromArray(acc, x, shape)).Trace;
        Assert.Equal(layerEnds.Length, trace.LayerCount);
        for (int layer = 0; layer < layerEnds.Length; layer++)
        {
            Assert.Equal(layerEnds[layer], trace.LayerEnd(layer));
            int end = layerEnds[layer];
            AssertClose(reference.Output(end), trace.LayerOutput(layer), $"layer {layer} forward");
            foreach (var selection in selections)
            {
                var seed = DeconvnetReference.Select(reference.Output(end), reference.OutputShape(end), selection.Kind, selection.Channel);
                var expected = reference.Project(end, variant, seed);
                var actual = Deconvnet.Project(trace, layer, variant, selection);
                Assert.Equal(new Shape(shape), actual.Shape);
                Assert.True(expected.Any(v => Math.Abs(v) > 1e-3), $"{variant}, layer {layer}, {selection}: the reference is all zeros; pick another seed");
                AssertClose(expected, actual, $"{variant}, layer {layer}, {selection}");
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void RandomNetworkSeparatesTheVariants(string name)
    {
        // The reference comparisons would not notice a variant that behaves like another: on this network all four differ.
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var random = new Random(23);
        var ops = ThreeLayers(random);
        var trace = Record(acc, ops, Tensor.FromArray(acc, Values(random, 2 * 9 * 9 * 2), [2, 9, 9, 2])).Trace;
        var results = Enum.GetValues<DeconvnetVariant>().Select(v => Deconvnet.Project(trace, 2, v).ToArray()).ToArray();
        for (int i = 0; i < results.Length; i++)
            for (int j = i + 1; j < results.Length; j++)
                Assert.True(MaxDifference(results[i], results[j]) > 1e-3, $"variants {i} and {j} agree");
    }

    // ---- against autograd ---------------------------------------------------------------------------------------

    // Gradient is autograd's input gradient of sum(seed * activations); GuidedBackprop and ZeilerFergus are the same
    // backward with the ReLU's guided or deconvnet rule (Functional.Relu's backwardRule). The tutorial's bias
    // subtraction has no such equal.
    [Theory, MemberData(nameof(AcceleratorsAndReluVariants))]
    public void ReluVariantsEqualAutogradWithTheMatchingReluRule(string name, DeconvnetVariant variant)
    {
        var acc = TestAccelerators.Get(name);
        var rule = variant switch
        {
            DeconvnetVariant.Gradient => ReluBackwardRule.Gradient,
            DeconvnetVariant.GuidedBackprop => ReluBackwardRule.Guided,
            _ => ReluBackwardRule.Deconvnet,
        };
        foreach (var selection in new[] { ProjectionSelection.AllMaps, ProjectionSelection.FeatureMap(0), ProjectionSelection.StrongestActivation(0) })
        {
            for (int layer = 0; layer < 3; layer++)
            {
                using var scope = new TensorScope();
                var random = new Random(23);
                var ops = ThreeLayers(random);
                var x = Tensor.FromArray(acc, Values(random, 2 * 9 * 9 * 2), [2, 9, 9, 2], requiresGrad: true);
                var trace = Record(acc, ops, x, rule).Trace;
                var activations = trace.LayerOutput(layer);
                var seed = Deconvnet.Select(activations, selection);
                activations.Backward(seed);
                var projection = Deconvnet.Project(trace, layer, variant, selection);
                double[] gradient = Array.ConvertAll(x.Grad!.ToArray(), v => (double)v);
                Assert.True(gradient.Any(v => Math.Abs(v) > 1e-3), $"{variant}, layer {layer}, {selection}: the gradient is all zeros; pick another seed");
                AssertClose(gradient, projection, $"{variant} vs autograd, layer {layer}, {selection}");
            }
        }
    }

    // ---- saliency, stitching, memory and errors -------------------------------------------------------------------

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SaliencyIsTheLargestMagnitudeOverChannels(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var p = Tensor.FromArray(acc, [1f, -3, 2, 0.5f, -0.25f, 0, 0, 0, 0, -7, 7, 1], [1, 2, 2, 3]);
        var saliency = Deconvnet.Saliency(p);
        Assert.Equal(new Shape(1, 2, 2, 1), saliency.Shape);
        Assert.Equal([3f, 0.5f, 0, 7], saliency.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void StitchPlacesImagesSideBySide(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var input = Tensor.FromArray(acc, [1f, 2], [1, 2, 1, 1]);
        var layer1 = Tensor.FromArray(acc, [3f, 4, 5, 6], [1, 2, 2, 1]);
        var stitched = Deconvnet.Stitch(input, layer1, input);
        Assert.Equal(new Shape(1, 2, 4, 1), stitched.Shape);
        Assert.Equal([1f, 3, 4, 1, 2, 5, 6, 2], stitched.ToArray());
        var error = Assert.Throws<ArgumentException>(() => Deconvnet.Stitch(input, Tensor.Zeros(acc, [1, 3, 1, 1])));
        Assert.Contains("[1, 2, 1, 1]", error.Message);
        Assert.Contains("[1, 3, 1, 1]", error.Message);
    }

    [Fact]
    public void ErrorsNameTheOpTheShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var (trace, _, _) = HandNetwork(acc);

        var broken = Assert.Throws<ArgumentException>(() => trace.Relu(Tensor.Zeros(acc, [1, 1, 1, 1])));
        Assert.Contains("ForwardTrace.Relu", broken.Message);
        Assert.Contains("MaxPoolWithArgmax -> [1, 1, 1, 1]", broken.Message);

        var layer = Assert.Throws<ArgumentOutOfRangeException>(() => Deconvnet.Project(trace, 2, DeconvnetVariant.Tutorial));
        Assert.Contains("2 layer(s)", layer.Message);

        var channel = Assert.Throws<ArgumentOutOfRangeException>(() => Deconvnet.Project(trace, 1, DeconvnetVariant.Tutorial, ProjectionSelection.FeatureMap(1)));
        Assert.Contains("[1, 1, 1, 1]", channel.Message);
        Assert.Contains("1 maps", channel.Message);

        var seed = Assert.Throws<ArgumentException>(() => Deconvnet.Project(trace, 1, DeconvnetVariant.Tutorial, Tensor.Zeros(acc, [1, 2, 2, 1])));
        Assert.Contains("Deconvnet.Project", seed.Message);
        Assert.Contains("[1, 2, 2, 1]", seed.Message);
        Assert.Contains("[1, 1, 1, 1]", seed.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => ProjectionSelection.FeatureMap(-1));

        ((ReluStep)trace.Steps[4]).Input.Dispose();
        var disposed = Assert.Throws<ObjectDisposedException>(() => Deconvnet.Project(trace, 1, DeconvnetVariant.Gradient));
        Assert.Contains("pre-ReLU input of step 4", disposed.Message);
        Assert.Equal(16, Deconvnet.Project(trace, 1, DeconvnetVariant.Tutorial).Size);   // the tutorial never reads it
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static (ForwardTrace Trace, Tensor Output) Record(Accelerator acc, NetOp[] ops, Tensor x, ReluBackwardRule rule = ReluBackwardRule.Gradient)
    {
        var trace = new ForwardTrace();
        var h = x;
        foreach (var op in ops)
        {
            h = op switch
            {
                ConvOp c => trace.Conv2d(h, Tensor.FromArray(acc, c.Filter, c.FilterShape), c.Stride, c.Padding,
                    bias: c.Bias is null ? null : Tensor.FromArray(acc, c.Bias, [c.Bias.Length])),
                ReluOp => trace.Relu(h, rule),
                PoolOp p => trace.MaxPoolWithArgmax(h, p.Size, p.Stride, p.Padding).Values,
                _ => throw new InvalidOperationException(),
            };
        }
        return (trace, h);
    }

    private static float[] Values(Random random, int count, float scale = 1f) =>
        Enumerable.Range(0, count).Select(_ => (random.NextSingle() * 2 - 1) * scale).ToArray();

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    private static void AssertClose(double[] expected, Tensor actual, string what, double atol = 1e-4, double rtol = 1e-4)
    {
        float[] values = actual.ToArray();
        Assert.Equal(expected.Length, values.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < values.Length; i++)
        {
            double difference = Math.Abs(values[i] - expected[i]);
            if (difference > atol + rtol * Math.Abs(expected[i]) && difference > worst)
            {
                worst = difference;
                worstAt = i;
            }
        }
        Assert.True(worstAt < 0, worstAt < 0 ? "" : $"{what}: at {worstAt} got {values[worstAt]}, expected {expected[worstAt]} (max difference {worst})");
    }
}

// Counts the shared CPU allocator's bytes in use, so it runs with no other test beside it.
[Collection(nameof(AllocatorStatistics))]
public sealed class DeconvnetMemoryTests
{
    [Fact]
    public void AProjectionKeepsOnlyItsResult()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var (trace, _, _) = DeconvnetTests.HandNetwork(acc);
        using (Deconvnet.Project(trace, 1, DeconvnetVariant.Tutorial, ProjectionSelection.StrongestActivation(0))) { }   // warm the cache
        var allocator = DeviceAllocator.For(acc);
        long before = allocator.Statistics.BytesInUse;
        var result = Deconvnet.Project(trace, 1, DeconvnetVariant.Gradient, ProjectionSelection.StrongestActivation(0));
        Assert.Equal(before + 512, allocator.Statistics.BytesInUse);   // the 16-float result: one block of the smallest size class
        result.Dispose();
        Assert.Equal(before, allocator.Statistics.BytesInUse);
    }
}
