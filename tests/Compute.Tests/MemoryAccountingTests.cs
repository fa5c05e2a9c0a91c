using Xunit;

namespace GpuDeconv.Compute.Tests;

// Accelerator.BytesAllocated / PeakBytesAllocated count every live device buffer, as torch.cuda.memory_allocated and
// max_memory_allocated do; the benchmarks compare a training step's peak with PyTorch's through them. Each test makes
// its own accelerator so that no other test's buffers move the counters.
public sealed class MemoryAccountingTests
{
    public static TheoryData<AcceleratorType> Types => new(AcceleratorType.CPU, AcceleratorType.OpenCL, AcceleratorType.Cuda);

    private static Accelerator Create(Context context, AcceleratorType type)
    {
        var device = context.FirstOrDefault(d => d.AcceleratorType == type);
        if (device is null) Assert.Skip($"no {type} device here");
        return device.CreateAccelerator(context);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void BuffersAreCountedUntilDisposedAndThePeakRemainsUntilReset(AcceleratorType type)
    {
        using var context = Context.CreateDefault();
        using var accelerator = Create(context, type);
        long baseline = accelerator.BytesAllocated;

        var first = accelerator.Allocate1D<float>(1000);
        var second = accelerator.Allocate1D<long>(10);
        Assert.Equal(baseline + 4000 + 80, accelerator.BytesAllocated);
        first.Dispose();
        first.Dispose();   // a second Dispose must not count twice
        Assert.Equal(baseline + 80, accelerator.BytesAllocated);
        Assert.Equal(baseline + 4080, accelerator.PeakBytesAllocated);

        accelerator.ResetPeakBytesAllocated();
        Assert.Equal(baseline + 80, accelerator.PeakBytesAllocated);
        using (accelerator.Allocate1D<byte>(16)) Assert.Equal(baseline + 96, accelerator.PeakBytesAllocated);
        second.Dispose();
        Assert.Equal(baseline, accelerator.BytesAllocated);
        Assert.Equal(baseline + 96, accelerator.PeakBytesAllocated);
    }

    [Fact]
    public void AcceleratorsCountSeparately()
    {
        using var context = Context.CreateDefault();
        using var one = Create(context, AcceleratorType.CPU);
        using var two = Create(context, AcceleratorType.CPU);
        long before = two.BytesAllocated;
        using var buffer = one.Allocate1D<float>(256);
        Assert.Equal(before, two.BytesAllocated);
        Assert.True(one.BytesAllocated >= 1024, $"BytesAllocated {one.BytesAllocated} should include the 1024-byte buffer");
    }
}
