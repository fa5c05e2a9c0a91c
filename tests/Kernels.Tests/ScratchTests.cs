using Xunit;

namespace GpuDeconv.Kernels.Tests;

public sealed class ScratchTests
{
    [Fact]
    public async Task ThreadsSharingAStreamGetSeparateMemory()
    {
        var stream = TestAccelerators.Cpu.DefaultStream;
        var mine = Scratch.Get<float>(stream, Scratch.SplitK, 64);
        var theirs = await Task.Factory.StartNew(() => Scratch.Get<float>(stream, Scratch.SplitK, 64),
            TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.NotSame(mine.Memory, theirs.Memory);
    }

    [Fact]
    public void SlotsAreReusedAndGrow()
    {
        using var stream = TestAccelerators.Cpu.CreateStream();
        var first = Scratch.Get<float>(stream, Scratch.Counts, 100);
        var again = Scratch.Get<float>(stream, Scratch.Counts, 50);
        Assert.Same(first.Memory, again.Memory);
        Assert.Equal(50, again.Length);
        var other = Scratch.Get<float>(stream, Scratch.Owners, 10);
        Assert.NotSame(first.Memory, other.Memory);
        var grown = Scratch.Get<long>(stream, Scratch.Counts, 1000);
        Assert.Equal(1000, grown.Length);
        Assert.True(first.Memory!.IsDisposed, "the smaller buffer is freed when the slot grows");
        Scratch.Release(stream);
        Assert.True(grown.Memory!.IsDisposed);
    }
}
