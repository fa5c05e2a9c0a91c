using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class CheckpointDirectoryTests
{
    private static Checkpoint At(long step) =>
        new(step, new Dictionary<string, HostTensor> { ["w"] = new HostTensor<float>(new Shape(2), [step, -step]) });

    [Fact]
    public void FileNamesCarryTheZeroPaddedStep()
    {
        using var dir = new TempDirectory();
        var checkpoints = new CheckpointDirectory(dir["run"]);
        Assert.Equal(Path.Combine(dir.Path, "run", "checkpoint-00000042.safetensors"), checkpoints.FileFor(42));
        Assert.Equal(Path.Combine(dir.Path, "run", "checkpoint-1234567890.safetensors"), checkpoints.FileFor(1234567890));
    }

    [Fact]
    public void AnEmptyOrMissingDirectoryHasNoLatest()
    {
        using var dir = new TempDirectory();
        var checkpoints = new CheckpointDirectory(dir["not-yet"]);
        Assert.Empty(checkpoints.List());
        Assert.Null(checkpoints.Latest());
        Assert.Null(checkpoints.LoadLatest());
        Assert.False(Directory.Exists(dir["not-yet"]));
    }

    [Fact]
    public void LatestIsTheHighestStepByNumberIgnoringOtherFiles()
    {
        using var dir = new TempDirectory();
        var checkpoints = new CheckpointDirectory(dir.Path);
        foreach (long step in new long[] { 100, 5, 20 })
            checkpoints.Save(At(step));
        // Past the padding width: sorts last by number though "checkpoint-1..." sorts before "checkpoint-2..." by name.
        File.WriteAllBytes(dir["checkpoint-123456789.safetensors"], []);
        foreach (string other in new[] { "checkpoint-abc.safetensors", "checkpoint-.safetensors", ".checkpoint-00000900.safetensors.5f3a.tmp",
                                          "checkpoint-00000700.safetensors.tmp", "checkpoint-00000800.json", "notes.txt" })
            File.WriteAllBytes(dir[other], []);

        var files = checkpoints.List();

        Assert.Equal([5L, 20, 100, 123456789], files.Select(f => f.Step));
        Assert.Equal(dir["checkpoint-00000020.safetensors"], files[1].Path);
        Assert.Equal(new CheckpointFile(123456789, dir["checkpoint-123456789.safetensors"]), checkpoints.Latest());
    }

    [Fact]
    public void LoadLatestResumesFromTheHighestStep()
    {
        using var dir = new TempDirectory();
        var checkpoints = new CheckpointDirectory(dir["run/checkpoints"]);
        checkpoints.Save(At(99));
        var saved = checkpoints.Save(At(1000));
        checkpoints.Save(At(998));

        var latest = checkpoints.LoadLatest();

        Assert.Equal(new CheckpointFile(1000, dir["run/checkpoints/checkpoint-00001000.safetensors"]), saved);
        Assert.NotNull(latest);
        Assert.Equal(1000, latest.Step);
        Assert.Equal([1000f, -1000f], ((HostTensor<float>)latest.Parameters["w"]).Data);
    }

    [Fact]
    public void ADamagedLatestCheckpointIsReportedNotSkipped()
    {
        using var dir = new TempDirectory();
        var checkpoints = new CheckpointDirectory(dir.Path);
        checkpoints.Save(At(1));
        File.WriteAllBytes(checkpoints.FileFor(2), [1, 2, 3]);

        var e = Assert.Throws<InvalidDataException>(() => checkpoints.LoadLatest());
        Assert.Contains("checkpoint-00000002.safetensors", e.Message);
    }
}
