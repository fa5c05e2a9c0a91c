using Xunit;

namespace GpuDeconv.Training.Tests;

public class AtomicFileTests
{
    private static byte[] Pattern(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed))];

    [Fact]
    public void WritesTheFileAndCreatesTheDirectory()
    {
        using var dir = new TempDirectory();
        string path = dir["a/b/file.bin"];

        AtomicFile.Write(path, s => s.Write(Pattern(1000, 1)));

        Assert.Equal(Pattern(1000, 1), File.ReadAllBytes(path));
        Assert.Equal(["file.bin"], Directory.GetFiles(dir["a/b"]).Select(Path.GetFileName));
    }

    [Fact]
    public void ReplacesAnExistingFileWhole()
    {
        using var dir = new TempDirectory();
        string path = dir["file.bin"];
        File.WriteAllBytes(path, Pattern(5000, 1));

        AtomicFile.Write(path, s => s.Write(Pattern(10, 2)));

        Assert.Equal(Pattern(10, 2), File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(70_000)]
    [InlineData(99_999)]
    public void AWriteThatFailsPartWayLeavesThePreviousFileAndNoTemporaryFile(int failAfter)
    {
        using var dir = new TempDirectory();
        string path = dir["file.bin"];
        File.WriteAllBytes(path, Pattern(3000, 7));
        string? temporary = null;

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s => s.Write(Pattern(100_000, 9)), file =>
        {
            temporary = ((FileStream)file).Name;
            return new FailingStream(file, failAfter);
        }));

        Assert.Contains($"after {failAfter} bytes", e.Message);
        Assert.Equal(Pattern(3000, 7), File.ReadAllBytes(path));
        Assert.NotNull(temporary);
        Assert.Equal(dir.Path, Path.GetDirectoryName(temporary));
        Assert.False(File.Exists(temporary));
        Assert.Equal(["file.bin"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AnExceptionFromTheWriterLeavesNoFileWhereThereWasNone()
    {
        using var dir = new TempDirectory();
        string path = dir["new.bin"];

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(Pattern(100, 3));
            throw new InvalidOperationException("the model could not be read back");
        }));

        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
