using Xunit;

namespace GpuDeconv.Compute.Tests;

// The host routes' fork-join pool: every part runs once, a part's exception reaches the caller as itself after every part
// has run, callers on several threads (one gets the pool, the others Parallel.For) and calls from inside a part all finish.
public sealed class CpuWorkersTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(1000)]
    public void EveryPartRunsOnce(int parts)
    {
        for (int call = 0; call < 50; call++)
        {
            var runs = new int[parts];
            CpuWorkers.For(parts, i => Interlocked.Increment(ref runs[i]));
            Assert.All(runs, count => Assert.Equal(1, count));
        }
    }

    [Fact]
    public void APartsExceptionReachesTheCallerAfterTheOtherParts()
    {
        int finished = 0;
        var error = Assert.Throws<InvalidOperationException>(() => CpuWorkers.For(16, i =>
        {
            if (i == 5) throw new InvalidOperationException("part 5");
            Thread.Sleep(1);
            Interlocked.Increment(ref finished);
        }));
        Assert.Equal("part 5", error.Message);
        Assert.Equal(15, finished);
        // The pool is free again.
        var runs = new int[8];
        CpuWorkers.For(8, i => runs[i]++);
        Assert.All(runs, count => Assert.Equal(1, count));
    }

    [Fact]
    public void CallersOnSeveralThreadsAndNestedCallsFinish()
    {
        long total = 0;
        Parallel.For(0, 8, caller =>
        {
            for (int call = 0; call < 100; call++)
                CpuWorkers.For(4, i => CpuWorkers.For(3, j => Interlocked.Increment(ref total)));
        });
        Assert.Equal(8L * 100 * 4 * 3, total);
    }
}
