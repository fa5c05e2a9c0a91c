using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>
/// CIFAR-10 batch files as untrusted input (<see cref="FileMutator"/>): every variant of a 3-record file is read or refused
/// with an <see cref="InvalidDataException"/>; the label bytes are the format's only numbers.
/// </summary>
public class Cifar10MutationTests
{
    [Fact]
    public void EveryMutantOfABatchFileIsReadOrRefused()
    {
        using var temp = new TempDirectory();
        byte[] valid = DataFiles.CifarRecords(3, r => r * 3);
        string path = temp["data_batch_1.bin"];
        NumericField[] labels = [new(0, 1, false), new(Cifar10.RecordSize, 1, false), new(2 * Cifar10.RecordSize, 1, false)];

        var outcome = FileMutator.Check(valid, count: 2000, seed: 21, mutant =>
            {
                File.WriteAllBytes(path, mutant.Bytes);
                var data = Cifar10.ReadBatchFile(path);
                Assert.Equal(mutant.Bytes.Length / Cifar10.RecordSize, data.Count);
            },
            e => e is InvalidDataException, maxAllocatedBytes: 4 << 20, maxCaseTime: TimeSpan.FromSeconds(5), fields: labels);

        TestContext.Current.SendDiagnosticMessage($"CIFAR-10 batch: {outcome}");
    }
}
