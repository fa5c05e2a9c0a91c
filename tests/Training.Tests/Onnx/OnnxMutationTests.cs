using Google.Protobuf;
using Xunit;

namespace GpuDeconv.Training.Tests.Onnx;

/// <summary>
/// ONNX files as untrusted input (<see cref="FileMutator"/>): every variant of a small model, its protobuf lengths, tags,
/// dims, operator names and weights corrupted, loads or is refused with the importer's documented exceptions
/// (<see cref="InvalidDataException"/> for a damaged file, <see cref="NotSupportedException"/> for what it does not
/// run), allocating no more than a bound.
/// </summary>
public sealed class OnnxMutationTests
{
    private static readonly string[] Tokens = ["Conv", "Relu", "MaxPool", "Add", "Gemm", "pads", "group", "kernel_shape", "x", "y", "w", "\u00ff\u00ff\u00ff\u00ff\u000f"];

    [Fact]
    public void EveryMutantOfAModelLoadsOrIsRefused()
    {
        var g = new GraphWriter(seed: 2);
        g.Input("x", [1, 2, 6, 6]);
        g.Node("Conv", ["x", g.Constant("w", [3, 2, 3, 3]), g.Constant("b", [3])], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 0, 0), Ints("strides", 2, 2));
        g.Node("Relu", ["c"], ["r"]);
        g.Node("MaxPool", ["r"], ["y"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        g.Output("y");
        byte[] valid = g.ToBytes();
        var cpu = TestAccelerators.Cpu;

        var outcome = FileMutator.Check(valid, count: 2500, seed: 17, mutant =>
            {
                using var model = OnnxModel.Load(cpu, new MemoryStream(mutant.Bytes), "mutant.onnx");
            },
            e => e is InvalidDataException or NotSupportedException, maxAllocatedBytes: 4 << 20, maxCaseTime: TimeSpan.FromSeconds(5), tokens: Tokens);

        TestContext.Current.SendDiagnosticMessage($"onnx: {outcome}");
    }

    private static Training.Onnx.Proto.AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new Training.Onnx.Proto.AttributeProto { Name = name, Type = Training.Onnx.Proto.AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
