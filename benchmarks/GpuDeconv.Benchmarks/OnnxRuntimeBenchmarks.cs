using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using GpuDeconv.Training.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace GpuDeconv.Benchmarks;

// ONNX Runtime (in process, its CPU execution provider, as many intra-op threads as torch_ops.py gives PyTorch: every
// core) on the same forward work as ours: every convolution case as a one-node Conv model built here (NCHW, the
// padding TF's SAME gives ours), and the ResNet-18 file that ResNet18Benchmarks imports. compare.py puts its times
// beside ours and PyTorch's; it is a peer, not an accelerator, so these classes have a Runtime parameter instead.

/// <summary>An ONNX Runtime session with its input and output bound once, so a run measures the runtime and not marshalling.</summary>
internal sealed class OrtRunner : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtValue _input, _output;
    private readonly string[] _inputNames, _outputNames;

    public OrtRunner(byte[] model, long[] inputShape, long[] outputShape) : this(new SessionOptions(), o => new InferenceSession(model, o), inputShape, outputShape)
    {
    }

    public OrtRunner(string path, long[] inputShape, long[] outputShape) : this(new SessionOptions(), o => new InferenceSession(path, o), inputShape, outputShape)
    {
    }

    private OrtRunner(SessionOptions options, Func<SessionOptions, InferenceSession> open, long[] inputShape, long[] outputShape)
    {
        _options = options;
        _options.IntraOpNumThreads = Environment.ProcessorCount;
        _options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        _session = open(_options);
        var random = new Random(13);
        var input = new float[inputShape.Aggregate(1L, (a, b) => a * b)];
        for (long i = 0; i < input.Length; i++) input[i] = random.NextSingle() * 2 - 1;
        _input = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        _output = OrtValue.CreateTensorValueFromMemory(new float[outputShape.Aggregate(1L, (a, b) => a * b)], outputShape);
        _inputNames = [_session.InputMetadata.Keys.Single()];
        _outputNames = [_session.OutputMetadata.Keys.Single()];
    }

    public void Run() => _session.Run(_run, _inputNames, [_input], _outputNames, [_output]);

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _run.Dispose();
        _session.Dispose();
        _options.Dispose();
    }

    /// <summary>One Conv node, x [N, Cin, H, W] -> y [N, Cout, OH, OW], random weights, TF SAME's explicit pads.</summary>
    public static OrtRunner Conv(ConvCase c)
    {
        var random = new Random(17);
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        weight.Dims.Add([c.OutChannels, c.InChannels, c.Kernel, c.Kernel]);
        var values = new float[(long)c.OutChannels * c.InChannels * c.Kernel * c.Kernel];
        for (long i = 0; i < values.Length; i++) values[i] = random.NextSingle() * 2 - 1;
        weight.FloatData.Add(values);
        var (top, bottom) = SamePads(c.Height, c.OutHeight, c.Kernel, c.Stride);
        var (left, right) = SamePads(c.Width, c.OutWidth, c.Kernel, c.Stride);
        var node = new NodeProto { OpType = "Conv", Name = "conv" };
        node.Input.Add(["x", "w"]);
        node.Output.Add("y");
        node.Attribute.Add(Ints("kernel_shape", c.Kernel, c.Kernel));
        node.Attribute.Add(Ints("strides", c.Stride, c.Stride));
        node.Attribute.Add(Ints("pads", top, left, bottom, right));
        var graph = new GraphProto { Name = c.Name };
        graph.Node.Add(node);
        graph.Initializer.Add(weight);
        long[] inputShape = [c.Batch, c.InChannels, c.Height, c.Width], outputShape = [c.Batch, c.OutChannels, c.OutHeight, c.OutWidth];
        graph.Input.Add(Value("x", inputShape));
        graph.Output.Add(Value("y", outputShape));
        var model = new ModelProto { IrVersion = 8, ProducerName = "GpuDeconv.Benchmarks", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return new OrtRunner(model.ToByteArray(), inputShape, outputShape);
    }

    // TF's SAME: the total padding that makes ceil(size / stride) outputs, the odd pixel at the end.
    private static (int Begin, int End) SamePads(int size, int outSize, int kernel, int stride)
    {
        int total = Math.Max((outSize - 1) * stride + kernel - size, 0);
        return (total / 2, total - total / 2);
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static ValueInfoProto Value(string name, long[] shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        foreach (long dim in shape) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}

/// <summary>
/// An ONNX Runtime session opened once per case and run per operation; compare.py tells these rows from ours by the
/// Runtime parameter (there is no accelerator).
/// </summary>
public abstract class OnnxRuntimeBenchmark
{
    [Params("onnxruntime")]
    public string Runtime { get; set; } = "onnxruntime";

    private protected OrtRunner Runner { get; private set; } = null!;

    /// <summary>The session of the case the parameters name.</summary>
    private protected abstract OrtRunner Open();

    [GlobalSetup]
    public void Setup()
    {
        Runner = Open();
        Runner.Run();
    }

    [GlobalCleanup]
    public void Cleanup() => Runner.Dispose();
}

/// <summary>ONNX Runtime's forward convolution on every case of ours: the tutorial's, the larger shape, ResNet-18's layers.</summary>
public class OnnxRuntimeConvBenchmarks : OnnxRuntimeBenchmark
{
    [ParamsSource(nameof(Layers))]
    public ConvCase Layer { get; set; } = ConvCase.Tutorial().First();

    public static IEnumerable<ConvCase> Layers() => ConvCase.Tutorial().Concat(ConvCase.Large()).Concat(ConvCase.ResNet());

    private protected override OrtRunner Open() => OrtRunner.Conv(Layer);

    [Benchmark(Description = "conv2d forward")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = nameof(Layer))]
    public void Forward() => Runner.Run();
}

/// <summary>ONNX Runtime on the ResNet-18 file that <see cref="ResNet18Benchmarks"/> imports, same batch.</summary>
public class OnnxRuntimeResNet18Benchmarks : OnnxRuntimeBenchmark
{
    [ParamsSource(nameof(Models))]
    public ResNetModelCase Model { get; set; } = ResNetModelCase.All().First();

    public static IEnumerable<ResNetModelCase> Models() => ResNetModelCase.All();

    private protected override OrtRunner Open() =>
        new(ResNetModelCase.ResNet18Path, [Model.Batch, 3, 224, 224], [Model.Batch, 512, 1, 1]);

    [Benchmark(Description = "ResNet-18 forward")]
    [Throughput(0, "GFLOP/s", WorkloadParameter = nameof(Model))]
    public void Forward() => Runner.Run();
}
