using System.Buffers.Binary;
using Google.Protobuf;
using GpuDeconv.Layers;
using GpuDeconv.Training.Onnx.Proto;

namespace GpuDeconv.Training;

/// <summary>
/// Reads an ONNX file into a checked node list: the protobuf is parsed, every initializer's data is checked against its
/// dims and converted to float, and every node's operator and attributes are checked against what the importer runs
/// (docs/reference/onnx-import.md). Nothing here touches an accelerator.
/// </summary>
internal sealed class OnnxGraph
{
    // Anything larger is not a model this importer can run, and a corrupted length must not make it allocate.
    internal const long MaxFileBytes = 2L * 1024 * 1024 * 1024 - 1;
    internal const long MaxTensorElements = 1L << 28;

    private readonly Dictionary<string, float[]> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]> _constantDims = new(StringComparer.Ordinal);

    private OnnxGraph(string source, ModelProto model)
    {
        Source = source;
        Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim();
        var graph = model.Graph ?? throw Invalid(source, "it holds no graph (ModelProto field 7)");
        foreach (var opset in model.OpsetImport)
            if (opset.Domain is "" or "ai.onnx" && opset.Version > 0)
                Opset = (int)Math.Min(opset.Version, int.MaxValue);
        foreach (var tensor in graph.Initializer)
        {
            if (string.IsNullOrEmpty(tensor.Name)) throw Invalid(source, "an initializer has no name");
            var (dims, data) = ReadTensor(source, tensor);
            _constants[tensor.Name] = data;
            _constantDims[tensor.Name] = dims;
        }
        Nodes = [.. graph.Node];
        var inputs = graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new NotSupportedException(
                $"ONNX model {source}: it has {inputs.Count} graph inputs besides its initializers ({string.Join(", ", inputs.Select(i => i.Name))}); the importer runs image models with exactly one input.");
        InputName = inputs[0].Name;
        InputDims = DimsOf(source, inputs[0]);
        if (graph.Output.Count == 0) throw Invalid(source, "the graph declares no output");
        OutputNames = [.. graph.Output.Select(o => o.Name)];
        Check();
    }

    /// <summary>Where the model came from (a path, or a caller's name for a stream), for messages.</summary>
    public string Source { get; }

    public string Producer { get; }

    public int Opset { get; } = 1;

    public IReadOnlyList<NodeProto> Nodes { get; }

    public string InputName { get; }

    /// <summary>The declared input dims, NCHW; 0 where the model leaves a dimension symbolic (the batch, usually).</summary>
    public int[] InputDims { get; }

    public IReadOnlyList<string> OutputNames { get; }

    public bool IsConstant(string name) => _constants.ContainsKey(name);

    public (int[] Dims, float[] Data) Constant(NodeProto node, int input)
    {
        string name = node.Input.Count > input ? node.Input[input] : "";
        if (!_constants.TryGetValue(name, out var data))
            throw new NotSupportedException($"ONNX model {Source}: node '{node.Name}' ({node.OpType}) input {input} ('{name}') must be an initializer (a constant); the importer does not compute {node.OpType} parameters at run time.");
        return (_constantDims[name], data);
    }

    public static OnnxGraph Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"ONNX model {path}: the file does not exist.", path);
        if (info.Length > MaxFileBytes)
            throw Invalid(path, $"it is {info.Length} bytes; ONNX files without external data are at most 2 GiB (protobuf's limit)");
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static OnnxGraph Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ModelProto model;
        try
        {
            using var input = new CodedInputStream(stream, leaveOpen: true);
            model = ModelProto.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Invalid(source, $"it is not a valid ONNX protobuf ({e.Message})", e);
        }
        return new OnnxGraph(source, model);
    }

    private static int[] DimsOf(string source, ValueInfoProto value)
    {
        var shape = value.Type?.TensorType?.Shape;
        if (value.Type?.TensorType is { ElemType: not (int)TensorProto.Types.DataType.Float and not 0 } type)
            throw new NotSupportedException($"ONNX model {source}: input '{value.Name}' has element type {(TensorProto.Types.DataType)type.ElemType}; the importer runs float models.");
        if (shape is null || shape.Dim.Count != 4)
            throw new NotSupportedException($"ONNX model {source}: input '{value.Name}' has {(shape is null ? "no" : shape.Dim.Count.ToString())} dims; the importer runs image models whose input is [N, C, H, W].");
        return [.. shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue is > 0 and <= int.MaxValue ? (int)d.DimValue : 0)];
    }

    private static (int[] Dims, float[] Data) ReadTensor(string source, TensorProto tensor)
    {
        string what = $"initializer '{tensor.Name}'";
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
            throw new NotSupportedException($"ONNX model {source}: {what} keeps its data in an external file; save the model with its weights inside (onnx.save_model(..., save_as_external_data=False)).");
        long count = 1;
        var dims = new int[tensor.Dims.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long d = tensor.Dims[i];
            if (d < 0 || d > MaxTensorElements) throw Invalid(source, $"{what} has dimension {i} = {d}; expected 0..{MaxTensorElements}");
            dims[i] = (int)d;
            count *= d;
            if (count > MaxTensorElements) throw Invalid(source, $"{what} has {Shape.Format(dims)} dims, more than {MaxTensorElements} elements");
        }
        // The data must all be there before anything is allocated for it: damaged dims cannot make the reader allocate.
        var type = (TensorProto.Types.DataType)tensor.DataType;
        int size = type switch
        {
            TensorProto.Types.DataType.Float => 4,
            TensorProto.Types.DataType.Int64 => 8,
            _ => throw new NotSupportedException($"ONNX model {source}: {what} has data type {type}; the importer reads FLOAT weights (and INT64 shape constants)."),
        };
        string values = size == 4 ? "floats" : "int64 values";
        bool raw = tensor.RawData.Length > 0;
        long held = raw ? tensor.RawData.Length : size == 4 ? tensor.FloatData.Count : tensor.Int64Data.Count;
        if (held != (raw ? count * size : count))
            throw Invalid(source, raw
                ? $"{what} holds {held} bytes of raw data; {Shape.Format(dims)} {values} need {count * size}"
                : $"{what} holds {held} {values}; its dims {Shape.Format(dims)} need {count}");
        var data = new float[count];
        var bytes = tensor.RawData.Span;
        for (int i = 0; i < data.Length; i++)
            data[i] = (raw, size) switch
            {
                (true, 4) => BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]),
                // Shape constants (Pad's pads in opset 11+) arrive as int64: kept as float, exact below 2^24.
                (true, _) => BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]),
                (false, 4) => tensor.FloatData[i],
                _ => tensor.Int64Data[i],
            };
        return (dims, data);
    }

    // Every operator and attribute the executor will meet, checked once at load so that a model fails before it runs.
    private void Check()
    {
        var produced = new HashSet<string>(StringComparer.Ordinal) { InputName };
        produced.UnionWith(_constants.Keys);
        foreach (var node in Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx"))
                throw Unsupported(node, $"its domain is '{node.Domain}'; the importer runs the default ONNX domain");
            if (!OnnxOps.Attributes.TryGetValue(node.OpType, out var known))
                throw Unsupported(node, $"operator {node.OpType} is not supported; supported: {string.Join(", ", OnnxOps.Attributes.Keys.Order(StringComparer.Ordinal))}");
            foreach (var attribute in node.Attribute)
                if (!known.Contains(attribute.Name))
                    throw Unsupported(node, $"attribute '{attribute.Name}' is not supported for {node.OpType}; supported: {(known.Length == 0 ? "none" : string.Join(", ", known))}");
            foreach (var input in node.Input)
                if (input.Length > 0 && !produced.Contains(input))
                    throw Invalid(Source, $"node '{node.Name}' ({node.OpType}) reads '{input}', which no earlier node, initializer or graph input produces (ONNX graphs list nodes in topological order)");
            produced.UnionWith(node.Output);
        }
        foreach (var output in OutputNames)
            if (!produced.Contains(output)) throw Invalid(Source, $"graph output '{output}' is produced by no node");
    }

    internal NotSupportedException Unsupported(NodeProto node, string what) =>
        new($"ONNX model {Source}: node '{node.Name}' ({node.OpType}): {what}.");

    internal static InvalidDataException Invalid(string source, string what, Exception? inner = null) =>
        new($"ONNX model {source}: {what}.", inner);
}
