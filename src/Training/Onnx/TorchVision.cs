using Google.Protobuf;
using GpuDeconv.Compute;
using GpuDeconv.Layers;
using GpuDeconv.Training.Onnx.Proto;

namespace GpuDeconv.Training;

/// <summary>
/// Networks saved by PyTorch as safetensors with torchvision's parameter names, read through a name map into the same
/// ops as an ONNX model (docs/reference/onnx-import.md section 7).
/// </summary>
public static class TorchVision
{
    /// <summary>torchvision's VGG-16 layout ("D"): channel counts of the 3x3 convolutions, 0 for a 2x2/2 max pool.</summary>
    public static IReadOnlyList<int> Vgg16 { get; } = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    /// <summary>
    /// Reads a torchvision VGG (<c>torchvision.models.vgg16(weights=...)</c> saved with <c>safetensors.torch.save_file(model.state_dict(), path)</c>):
    /// <c>features.&lt;i&gt;.weight/bias</c> for the convolutions of <paramref name="configuration"/> (default <see cref="Vgg16"/>; 0 is a max
    /// pool), and, when present, <c>classifier.0/3/6.weight/bias</c> for the three fully connected layers. The input is RGB
    /// [N, H, W, 3] normalized as torchvision's models expect; with a classifier H = W = 224 (the 7 x 7 map its first layer reads).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors, or a tensor the layout needs is missing or has the wrong shape (named).</exception>
    public static OnnxModel LoadVgg(Accelerator accelerator, string path, IReadOnlyList<int>? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (!File.Exists(path)) throw new FileNotFoundException($"VGG safetensors {path}: the file does not exist.", path);
        var tensors = SafeTensors.Read(path).Tensors;
        configuration ??= Vgg16;
        var graph = new GraphProto { Name = "torchvision-vgg" };
        var model = new ModelProto { IrVersion = 7, ProducerName = "torchvision (safetensors)", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 11 });

        string current = "input";
        int index = 0, channels = 3, pools = 0;
        foreach (int width in configuration)
        {
            if (width == 0)
            {
                Node(graph, "MaxPool", [current], $"features.{index}", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
                current = $"features.{index}";
                index++;
                pools++;
                continue;
            }
            string weight = Take(graph, tensors, path, $"features.{index}.weight", [width, channels, 3, 3]);
            string bias = Take(graph, tensors, path, $"features.{index}.bias", [width]);
            Node(graph, "Conv", [current, weight, bias], $"features.{index}", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
            Node(graph, "Relu", [$"features.{index}"], $"features.{index + 1}");
            current = $"features.{index + 1}";
            channels = width;
            index += 2;
        }
        int side = 224;
        if (tensors.ContainsKey("classifier.0.weight"))
        {
            var first = tensors["classifier.0.weight"].Shape;
            int cells = first.Rank == 2 ? first[1] / Math.Max(channels, 1) : 0;
            int map = (int)Math.Round(Math.Sqrt(cells));
            if (first.Rank != 2 || map * map * channels != first[1])
                throw new InvalidDataException($"VGG safetensors {path}: classifier.0.weight is {first}; expected [out, {channels} x h x w] after the last convolution's {channels} maps.");
            side = map << pools;
            Node(graph, "Flatten", [current], "flat", Int("axis", 1));
            current = "flat";
            int inFeatures = first[1];
            foreach (int layer in new[] { 0, 3, 6 })
            {
                int outFeatures = tensors.TryGetValue($"classifier.{layer}.weight", out var w) && w.Shape.Rank == 2 ? w.Shape[0] : -1;
                string weight = Take(graph, tensors, path, $"classifier.{layer}.weight", [outFeatures, inFeatures]);
                string bias = Take(graph, tensors, path, $"classifier.{layer}.bias", [outFeatures]);
                Node(graph, "Gemm", [current, weight, bias], $"classifier.{layer}", Int("transB", 1));
                current = $"classifier.{layer}";
                if (layer < 6)
                {
                    Node(graph, "Relu", [current], $"classifier.{layer + 1}");
                    current = $"classifier.{layer + 1}";
                }
                inFeatures = outFeatures;
            }
        }
        graph.Input.Add(Value("input", [1, 3, side, side]));
        graph.Output.Add(Value(current, []));
        using var stream = new MemoryStream(model.ToByteArray());
        return OnnxModel.Load(accelerator, stream, path);
    }

    private static string Take(GraphProto graph, IReadOnlyDictionary<string, HostTensor> tensors, string path, string name, int[] dims)
    {
        if (!tensors.TryGetValue(name, out var tensor))
            throw new InvalidDataException($"VGG safetensors {path}: tensor '{name}' is missing; a torchvision VGG state_dict has it ({Shape.Format(dims)}).");
        if (tensor is not HostTensor<float> floats || dims.Any(d => d < 0) || tensor.Shape != new Shape(dims))
            throw new InvalidDataException($"VGG safetensors {path}: tensor '{name}' is {tensor.DType} {tensor.Shape}; expected F32 {Shape.Format(dims)}.");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims.Select(d => (long)d));
        proto.FloatData.AddRange(floats.Data);
        graph.Initializer.Add(proto);
        return name;
    }

    private static void Node(GraphProto graph, string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
    }

    private static ValueInfoProto Value(string name, int[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (int d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
