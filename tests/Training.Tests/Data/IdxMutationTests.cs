using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>
/// IDX files as untrusted input (<see cref="FileMutator"/>): every truncated, bit-flipped or count-corrupted variant of a valid
/// file, plain or gzip, is read or refused with an <see cref="InvalidDataException"/>, allocating no more than the file holds.
/// </summary>
public class IdxMutationTests
{
    // magic, count, rows, columns: big-endian int32 at 0, 4, 8, 12.
    private static readonly NumericField[] ImageFields = [new(0, 4, true), new(4, 4, true), new(8, 4, true), new(12, 4, true)];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryMutantOfAnImagesFileIsReadOrRefused(bool gzip)
    {
        using var temp = new TempDirectory();
        byte[] valid = DataFiles.IdxImages(5, 7, 6, (i, p) => (byte)(i * 40 + p));
        if (gzip) valid = DataFiles.Gzip(valid);
        string path = temp["images"];

        var outcome = FileMutator.Check(valid, count: 2000, seed: gzip ? 12 : 11, mutant =>
            {
                File.WriteAllBytes(path, mutant.Bytes);
                Idx.ReadImages(path);
            },
            e => e is InvalidDataException, maxAllocatedBytes: 1 << 20, maxCaseTime: TimeSpan.FromSeconds(5), fields: gzip ? null : ImageFields);

        TestContext.Current.SendDiagnosticMessage($"IDX images{(gzip ? " (gzip)" : "")}: {outcome}");
    }

    [Fact]
    public void EveryMutantOfALabelsFileIsReadOrRefused()
    {
        using var temp = new TempDirectory();
        byte[] valid = DataFiles.IdxLabels([.. Enumerable.Range(0, 40).Select(i => (byte)(i % 10))]);
        string path = temp["labels"];

        FileMutator.Check(valid, count: 1000, seed: 13, mutant =>
            {
                File.WriteAllBytes(path, mutant.Bytes);
                Idx.ReadLabels(path);
            },
            e => e is InvalidDataException, maxAllocatedBytes: 1 << 20, maxCaseTime: TimeSpan.FromSeconds(5), fields: [new(0, 4, true), new(4, 4, true)]);
    }
}
