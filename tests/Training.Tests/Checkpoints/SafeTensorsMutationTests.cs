using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>
/// safetensors files as untrusted input (<see cref="FileMutator"/>): every variant of a small checkpoint, its header length,
/// JSON, offsets and shapes corrupted, is read or refused with an <see cref="InvalidDataException"/>, allocating no more than
/// the file holds.
/// </summary>
public class SafeTensorsMutationTests
{
    /// <summary>JSON's syntax and its string escapes, lone surrogates among them (valid JSON, but not valid UTF-16).</summary>
    private static readonly string[] JsonTokens =
        ["\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "-", "e9", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\\"", "__metadata__", "dtype", "shape", "data_offsets", "F32", "U8", "I64", "BF16"];

    [Fact]
    public void EveryMutantOfACheckpointIsReadOrRefused()
    {
        using var temp = new TempDirectory();
        var tensors = new Dictionary<string, HostTensor>
        {
            ["conv1/weight"] = new HostTensor<float>(new Shape(2, 3), [1, 2, 3, 4, 5, 6]),
            ["adam/step"] = new HostTensor<long>(new Shape(1), [7]),
            ["labels"] = new HostTensor<byte>(new Shape(5), [0, 1, 2, 3, 4]),
            ["empty"] = new HostTensor<int>(new Shape(0, 4), []),
        };
        string path = temp["checkpoint.safetensors"];
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["step"] = "7", ["model"] = "CifarGap" });
        byte[] valid = File.ReadAllBytes(path);

        var outcome = FileMutator.Check(valid, count: 2500, seed: 31, mutant =>
            {
                File.WriteAllBytes(path, mutant.Bytes);
                SafeTensors.Read(path);
            },
            e => e is InvalidDataException, maxAllocatedBytes: 1 << 20, maxCaseTime: TimeSpan.FromSeconds(5), fields: [new(0, 8, false)], tokens: JsonTokens);

        TestContext.Current.SendDiagnosticMessage($"safetensors: {outcome}");
    }
}
