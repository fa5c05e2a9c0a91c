using Google.Protobuf;
using GpuDeconv.Layers;
using GpuDeconv.Training.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Tensor = GpuDeconv.Layers.Tensor;

namespace GpuDeconv.Training.Tests.Onnx;

/// <summary>Small ONNX models written by the tests, every supported operator run by us and by ONNX Runtime on the same input.</summary>
public sealed class OnnxImportTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void EverySupportedOperatorMatchesOnnxRuntime(string name)
    {
        var acc = TestAccelerators.Get(name);
        // 2 x 3 x 11 x 9: odd sizes, asymmetric pads (CNTK's top/left), a residual join, a Flatten of a 2-D map into Gemm.
        var g = new GraphWriter(seed: 5);
        g.Input("x", [2, 3, 11, 9]);
        g.Node("Sub", ["x", g.Constant("mean", [1, 3, 1, 1])], ["centred"]);
        g.Node("Split", ["centred"], ["r", "gb"], Ints("split", 1, 2), Int("axis", 1));
        g.Node("Concat", ["gb", "r"], ["bgr"], Int("axis", 1));
        g.Node("Conv", ["bgr", g.Constant("w1", [6, 3, 3, 3]), g.Constant("b1", [6])], ["c1"],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("BatchNormalization", ["c1", g.Constant("gamma", [6], 0.5f, 1.5f), g.Constant("beta", [6]), g.Constant("mu", [6]), g.Constant("var", [6], 0.2f, 2f)], ["bn1"], Float("epsilon", 1e-3f));
        g.Node("Relu", ["bn1"], ["r1"]);
        g.Node("MaxPool", ["r1"], ["p1"], Ints("kernel_shape", 3, 3), Ints("strides", 1, 1), Ints("pads", 1, 1, 1, 1));
        g.Node("Conv", ["p1", g.Constant("w2", [6, 6, 3, 3])], ["c2"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        g.Node("BatchNormalization", ["c2", g.Constant("gamma2", [6], 0.5f, 1.5f), g.Constant("beta2", [6]), g.Constant("mu2", [6]), g.Constant("var2", [6], 0.2f, 2f)], ["bn2"]);
        g.Node("Add", ["bn2", "p1"], ["join"]);
        g.Node("Relu", ["join"], ["r2"]);
        g.Node("Pad", ["r2"], ["padded"], Ints("pads", 0, 0, 1, 0, 0, 0, 0, 2), Float("value", 0.25f));
        g.Node("AveragePool", ["padded"], ["a1"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        g.Node("Identity", ["a1"], ["a2"]);
        g.Node("Flatten", ["a2"], ["flat"], Int("axis", 1));
        g.Node("Gemm", ["flat", g.Constant("fc", [5, 6 * 3 * 3]), g.Constant("fcb", [5])], ["logits"], Int("transB", 1));
        g.Output("logits");
        var bytes = g.ToBytes();

        var input = Seeded.Uniform(9, 2 * 3 * 11 * 9).Select(v => v * 2f).ToArray();   // NCHW
        float[] expected = RunOnnxRuntime(bytes, "x", input, [2, 3, 11, 9]);
        using var model = OnnxModel.Load(acc, new MemoryStream(bytes), "every-operator.onnx");
        using var scope = new TensorScope();
        var output = model.Forward(Tensor.FromArray(acc, Nchw.ToNhwcBatch(input, 2, 3, 11, 9), [2, 11, 9, 3]));
        Assert.Equal(new Shape(2, 5), output.Shape);
        ResNet18Tests.AssertClose("every operator", expected, output.ToArray());
    }

    [Fact]
    public void GlobalAveragePoolAndTracedMaxPoolGiveOnnxRuntimesValues()
    {
        var acc = TestAccelerators.Cpu;
        var g = new GraphWriter(seed: 6);
        g.Input("x", [1, 2, 7, 6]);
        g.Node("MaxPool", ["x"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("GlobalAveragePool", ["p"], ["y"]);
        g.Output("y");
        var bytes = g.ToBytes();
        var input = Seeded.Uniform(3, 2 * 7 * 6);
        float[] expected = RunOnnxRuntime(bytes, "x", input, [1, 2, 7, 6]);
        using var model = OnnxModel.Load(acc, new MemoryStream(bytes), "pool.onnx");
        using var scope = new TensorScope();
        var trace = new ForwardTrace();
        var output = model.Forward(Tensor.FromArray(acc, Nchw.ToNhwcBatch(input, 1, 2, 7, 6), [1, 7, 6, 2]), trace);
        ResNet18Tests.AssertClose("traced pools", expected, output.ToArray());
        Assert.Equal([typeof(PadStep), typeof(PoolStep), typeof(AvgPoolStep)], trace.Steps.Select(s => s.GetType()));
    }

    [Fact]
    public void ScalarsCountedPadsAliasesAndARepeatedForwardMatchOnnxRuntime()
    {
        // A scalar constant, an average pool that counts its (SAME-sized) pads, a Flatten read through an Identity by a
        // Gemm without transB, an Identity as the graph output; run twice, each pass in its own scope.
        var g = new GraphWriter(seed: 12);
        g.Input("x", [2, 3, 5, 4]);
        g.Node("Sub", ["x", g.Constant("half", [1])], ["s"]);
        g.Node("AveragePool", ["s"], ["a"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1));
        g.Node("Flatten", ["a"], ["f"]);
        g.Node("Identity", ["f"], ["fi"]);
        g.Node("Gemm", ["fi", g.Constant("b", [3 * 5 * 4, 6]), g.Constant("c", [6])], ["z"]);
        g.Node("Identity", ["z"], ["y"]);
        g.Output("y");
        var bytes = g.ToBytes();
        var input = Seeded.Uniform(13, 2 * 3 * 5 * 4);
        float[] expected = RunOnnxRuntime(bytes, "x", input, [2, 3, 5, 4]);
        var acc = TestAccelerators.Cpu;
        using var model = OnnxModel.Load(acc, new MemoryStream(bytes), "edges.onnx");
        for (int pass = 0; pass < 2; pass++)
        {
            using var scope = new TensorScope();
            var output = model.Forward(Tensor.FromArray(acc, Nchw.ToNhwcBatch(input, 2, 3, 5, 4), [2, 5, 4, 3]));
            ResNet18Tests.AssertClose($"pass {pass}", expected, output.ToArray());
        }
    }

    [Fact]
    public void GradientsFlowThroughAnImportedModelWithoutATrace()
    {
        // The intermediates are kept for autograd when the input needs a gradient; the input gradient equals the
        // Gradient projection of a traced pass from the same seed.
        var acc = TestAccelerators.Cpu;
        var g = new GraphWriter(seed: 8);
        g.Input("x", [1, 2, 7, 6]);
        g.Node("Conv", ["x", g.Constant("w", [3, 2, 3, 3])], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 0, 0), Ints("strides", 2, 2));
        g.Node("Relu", ["c"], ["r"]);
        g.Node("MaxPool", ["r"], ["y"], Ints("kernel_shape", 2, 2), Ints("strides", 1, 1));
        g.Output("y");
        using var model = OnnxModel.Load(acc, new MemoryStream(g.ToBytes()), "grad.onnx");
        using var scope = new TensorScope();
        var data = Seeded.Uniform(4, 2 * 7 * 6);
        var x = Tensor.FromArray(acc, data, [1, 7, 6, 2], requiresGrad: true);
        var y = model.Forward(x);
        var seed = Tensor.Ones(acc, y.Shape);
        y.Backward(seed);
        var trace = new ForwardTrace();
        model.Forward(Tensor.FromArray(acc, data, [1, 7, 6, 2]), trace);
        var projected = Deconvnet.Project(trace, 0, DeconvnetVariant.Gradient, seed);
        Assert.Contains(x.Grad!.ToArray(), v => v != 0f);
        ResNet18Tests.AssertClose("input gradient", x.Grad!.ToArray(), projected.ToArray());
    }

    [Fact]
    public void AnUnsupportedOperatorNamesTheNodeAndTheOperator()
    {
        var g = new GraphWriter(seed: 1);
        g.Input("x", [1, 2, 4, 4]);
        g.Node("Softmax", ["x"], ["y"], Int("axis", 1));
        g.Output("y");
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(TestAccelerators.Cpu, new MemoryStream(g.ToBytes()), "softmax.onnx"));
        Assert.Contains("softmax.onnx", e.Message);
        Assert.Contains("node 'node0' (Softmax)", e.Message);
        Assert.Contains("operator Softmax is not supported", e.Message);
    }

    [Fact]
    public void AnUnsupportedAttributeNamesTheNodeOperatorAndAttribute()
    {
        var g = new GraphWriter(seed: 1);
        g.Input("x", [1, 4, 4, 4]);
        g.Node("Conv", ["x", g.Constant("w", [4, 2, 3, 3])], ["y"], Ints("kernel_shape", 3, 3), Int("group", 2));
        g.Output("y");
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(TestAccelerators.Cpu, new MemoryStream(g.ToBytes()), "grouped.onnx"));
        Assert.Contains("node 'node0' (Conv)", e.Message);
        Assert.Contains("'group' = 2", e.Message);

        var h = new GraphWriter(seed: 1);
        h.Input("x", [1, 4, 4, 4]);
        h.Node("Relu", ["x"], ["y"], Int("alpha", 2));
        h.Output("y");
        e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(TestAccelerators.Cpu, new MemoryStream(h.ToBytes()), "relu.onnx"));
        Assert.Contains("attribute 'alpha' is not supported for Relu", e.Message);
    }

    [Fact]
    public void DamagedAndMissingFilesAreClearErrors()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(TestAccelerators.Cpu, new MemoryStream([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]), "cut.onnx"));
        Assert.Contains("cut.onnx", e.Message);
        Assert.Contains("not a valid ONNX protobuf", e.Message);

        var g = new GraphWriter(seed: 1);
        g.Input("x", [1, 2, 4, 4]);
        g.Node("Conv", ["x", g.Constant("w", [2, 2, 3, 3])], ["y"], Ints("kernel_shape", 3, 3));
        g.Output("y");
        var model = g.Build();
        model.Graph.Initializer[0].FloatData.RemoveAt(0);
        e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(TestAccelerators.Cpu, new MemoryStream(model.ToByteArray()), "short.onnx"));
        Assert.Contains("initializer 'w' holds 35 floats; its dims [2, 2, 3, 3] need 36", e.Message);

        string missing = Path.Combine(Path.GetTempPath(), $"no-such-model-{Guid.NewGuid():N}.onnx");
        var notFound = Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(TestAccelerators.Cpu, missing));
        Assert.Contains(missing, notFound.Message);
    }

    [Fact]
    public void AnInputOfTheWrongSizeNamesBothShapes()
    {
        var g = new GraphWriter(seed: 1);
        g.Input("x", [1, 2, 4, 4]);
        g.Node("Relu", ["x"], ["y"]);
        g.Output("y");
        using var model = OnnxModel.Load(TestAccelerators.Cpu, new MemoryStream(g.ToBytes()), "relu.onnx");
        using var scope = new TensorScope();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(TestAccelerators.Cpu, [1, 4, 4, 3])));
        Assert.Contains("input is [1, 4, 4, 3]", e.Message);
        Assert.Contains("NHWC [1, 4, 4, 2]", e.Message);
    }

    [Fact]
    public void ATorchVisionVggFromSafetensorsMatchesTheSameNetworkInOnnxRuntime()
    {
        // A small VGG (conv 4, pool, conv 8, pool, then the three fully connected layers) on 12 x 12: torchvision's
        // names and PyTorch's layouts in the safetensors file; the same weights as an ONNX graph run by ONNX Runtime.
        int[] configuration = [4, 0, 8, 0];
        var weights = new Dictionary<string, (int[] Dims, float[] Data)>
        {
            ["features.0.weight"] = ([4, 3, 3, 3], Seeded.Uniform(1, 4 * 3 * 9)),
            ["features.0.bias"] = ([4], Seeded.Uniform(2, 4)),
            ["features.3.weight"] = ([8, 4, 3, 3], Seeded.Uniform(3, 8 * 4 * 9)),
            ["features.3.bias"] = ([8], Seeded.Uniform(4, 8)),
            ["classifier.0.weight"] = ([6, 8 * 3 * 3], Seeded.Uniform(5, 6 * 72)),
            ["classifier.0.bias"] = ([6], Seeded.Uniform(6, 6)),
            ["classifier.3.weight"] = ([5, 6], Seeded.Uniform(7, 30)),
            ["classifier.3.bias"] = ([5], Seeded.Uniform(8, 5)),
            ["classifier.6.weight"] = ([4, 5], Seeded.Uniform(9, 20)),
            ["classifier.6.bias"] = ([4], Seeded.Uniform(10, 4)),
        };
        using var temp = new TempDirectory();
        string file = Path.Combine(temp.Path, "vgg-small.safetensors");
        SafeTensors.Save(file, weights.ToDictionary(w => w.Key, w => (HostTensor)new HostTensor<float>(new Shape(w.Value.Dims), w.Value.Data)));

        var g = new GraphWriter(seed: 1);
        g.Input("x", [1, 3, 12, 12]);
        string C(string name) => g.Constant(name, weights[name].Dims, weights[name].Data);
        g.Node("Conv", ["x", C("features.0.weight"), C("features.0.bias")], ["c1"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        g.Node("Relu", ["c1"], ["r1"]);
        g.Node("MaxPool", ["r1"], ["p1"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        g.Node("Conv", ["p1", C("features.3.weight"), C("features.3.bias")], ["c2"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        g.Node("Relu", ["c2"], ["r2"]);
        g.Node("MaxPool", ["r2"], ["p2"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        g.Node("Flatten", ["p2"], ["flat"]);
        g.Node("Gemm", ["flat", C("classifier.0.weight"), C("classifier.0.bias")], ["f1"], Int("transB", 1));
        g.Node("Relu", ["f1"], ["h1"]);
        g.Node("Gemm", ["h1", C("classifier.3.weight"), C("classifier.3.bias")], ["f2"], Int("transB", 1));
        g.Node("Relu", ["f2"], ["h2"]);
        g.Node("Gemm", ["h2", C("classifier.6.weight"), C("classifier.6.bias")], ["y"], Int("transB", 1));
        g.Output("y");
        var input = Seeded.Uniform(11, 3 * 12 * 12);
        float[] expected = RunOnnxRuntime(g.ToBytes(), "x", input, [1, 3, 12, 12]);

        var acc = TestAccelerators.Cpu;
        using var vgg = TorchVision.LoadVgg(acc, file, configuration);
        Assert.Equal(new Shape(1, 12, 12, 3), vgg.InputShape);
        Assert.Equal(["features.0", "features.3"], vgg.Layers.Select(l => l.Node));
        using var scope = new TensorScope();
        var output = vgg.Forward(Tensor.FromArray(acc, Nchw.ToNhwcBatch(input, 1, 3, 12, 12), [1, 12, 12, 3]));
        ResNet18Tests.AssertClose("VGG from safetensors", expected, output.ToArray());

        weights.Remove("features.3.bias");
        SafeTensors.Save(file, weights.ToDictionary(w => w.Key, w => (HostTensor)new HostTensor<float>(new Shape(w.Value.Dims), w.Value.Data)));
        var e = Assert.Throws<InvalidDataException>(() => TorchVision.LoadVgg(acc, file, configuration));
        Assert.Contains("tensor 'features.3.bias' is missing", e.Message);
    }

    private static float[] RunOnnxRuntime(byte[] model, string input, float[] data, int[] dims)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, dims))]);
        var output = results.First().AsTensor<float>();
        var values = output.ToArray();
        var shape = output.Dimensions.ToArray();
        return shape.Length == 4 ? Nchw.ToNhwcBatch(values, shape[0], shape[1], shape[2], shape[3]) : values;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}

/// <summary>Writes small ONNX models (opset 10, IR 5) with seeded random weights.</summary>
internal sealed class GraphWriter(int seed)
{
    private readonly ModelProto _model = new() { IrVersion = 5, ProducerName = "GpuDeconv tests", Graph = new GraphProto { Name = "test" } };
    private int _nodes;
    private int _seed = seed;

    public void Input(string name, int[] dims) => _model.Graph.Input.Add(Value(name, dims));

    public void Output(string name) => _model.Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });

    public string Constant(string name, int[] dims, float low = -1f, float high = 1f)
    {
        int count = dims.Aggregate(1, (a, b) => a * b);
        return Constant(name, dims, [.. Seeded.Uniform(++_seed * 97, count).Select(v => low + (high - low) * (v + 1f) / 2f)]);
    }

    public string Constant(string name, int[] dims, float[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims.Select(d => (long)d));
        tensor.FloatData.AddRange(data);
        _model.Graph.Initializer.Add(tensor);
        return name;
    }

    public void Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"node{_nodes++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _model.Graph.Node.Add(node);
    }

    public ModelProto Build()
    {
        var model = _model.Clone();
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 10 });
        return model;
    }

    public byte[] ToBytes() => Build().ToByteArray();

    private static ValueInfoProto Value(string name, int[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (int d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }
}

internal static class Seeded
{
    /// <summary><paramref name="count"/> values uniform in [-1, 1).</summary>
    public static float[] Uniform(int seed, int count)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => 2f * random.NextSingle() - 1f)];
    }
}
