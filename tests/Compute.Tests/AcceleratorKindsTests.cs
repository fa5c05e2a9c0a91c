using Xunit;

namespace GpuDeconv.Compute.Tests;

/// <summary>
/// How <c>auto</c> routes a CUDA device, with no GPU: a stand-in CUDA device whose NVRTC is missing and a stand-in
/// ILGPU provider. auto takes ILGPU's CUDA route then; naming <c>cuda</c> explicitly fails with the reason and the hint.
/// </summary>
public sealed class AcceleratorKindsTests
{
    [Fact]
    public void AutoTakesIlgpusCudaRouteWhenNvrtcIsMissing()
    {
        using var providerContext = Context.Create(b => b.CPU());
        using var fallback = providerContext.GetPreferredDevice(preferCPU: true).CreateAccelerator(providerContext);
        var context = Context.Create(b => b.CPU()); // disposed by Open when it takes the other route
        var provider = new StandInProvider(fallback);
        using var accelerator = AcceleratorKinds.Open("auto", new CudaDeviceWithoutNvrtc(), context, provider, out string description);
        Assert.Same(fallback, accelerator);
        Assert.Equal(["ilgpu-cuda"], provider.Asked);
        Assert.Contains("stand-in ILGPU CUDA device", description);
        Assert.Contains("Stand-in GPU has no NVRTC route: libnvrtc.so not found", description);
        Assert.Contains("taking ILGPU's CUDA backend", description);
    }

    [Fact]
    public void AskingForCudaExplicitlyFailsWithTheReasonAndTheIlgpuHint()
    {
        using var context = Context.Create(b => b.CPU());
        var provider = new StandInProvider(null);
        var e = Assert.Throws<AcceleratorUnavailableException>(() => AcceleratorKinds.Open("cuda", new CudaDeviceWithoutNvrtc(), context, provider, out _));
        Assert.Empty(provider.Asked);
        Assert.Equal("cuda", e.Kind);
        Assert.Contains("the Cuda device 'Stand-in GPU' cannot be used: libnvrtc.so not found", e.Message);
        Assert.Contains("ilgpu-cuda runs the same kernels through ILGPU", e.Message);
    }

    [Fact]
    public void AutoFailsWithTheReasonWhenIlgpuHasNoCudaDeviceEither()
    {
        using var context = Context.Create(b => b.CPU());
        var provider = new StandInProvider(null);
        var e = Assert.Throws<AcceleratorUnavailableException>(() => AcceleratorKinds.Open("auto", new CudaDeviceWithoutNvrtc(), context, provider, out _));
        Assert.Equal(["ilgpu-cuda"], provider.Asked);
        Assert.Contains("libnvrtc.so not found", e.Message);
    }

    [Fact]
    public void WithoutTheIlgpuBackendTheReasonComesWithoutTheHint()
    {
        using var context = Context.Create(b => b.CPU());
        var e = Assert.Throws<AcceleratorUnavailableException>(() => AcceleratorKinds.Open("auto", new CudaDeviceWithoutNvrtc(), context, null, out _));
        Assert.Contains("libnvrtc.so not found", e.Message);
        Assert.DoesNotContain("ilgpu-cuda", e.Message);
    }

    [Fact]
    public void AUsableDeviceIsOpenedItselfAndTheProviderIsNotAsked()
    {
        var context = Context.Create(b => b.CPU());
        var provider = new StandInProvider(null);
        using var accelerator = AcceleratorKinds.Open("auto", context.GetPreferredDevice(preferCPU: true), context, provider, out string description);
        Assert.Empty(provider.Asked);
        Assert.Equal(AcceleratorType.CPU, accelerator.Device.AcceleratorType);
        Assert.StartsWith("CPU ", description);
    }

    private sealed class CudaDeviceWithoutNvrtc : Device
    {
        public override AcceleratorType AcceleratorType => AcceleratorType.Cuda;
        public override string Name => "Stand-in GPU";
        public override int MaxNumThreadsPerGroup => 1024;
        public override int WarpSize => 32;
        public override long MemorySize => 1L << 30;
        public override int MaxSharedMemoryPerGroup => 48 * 1024;
        public override int NumMultiprocessors => 1;
        public override string? UnusableReason => "libnvrtc.so not found";
        public override Accelerator CreateAccelerator(Context context) => throw new InvalidOperationException("the NVRTC route must not be tried");
    }

    private sealed class StandInProvider(Accelerator? accelerator) : IAcceleratorProvider
    {
        public List<string> Asked { get; } = [];

        public IReadOnlyList<string> Kinds { get; } = ["ilgpu-cuda"];

        public Accelerator? TryCreate(string kind, out string description)
        {
            Asked.Add(kind);
            description = accelerator is null ? "ILGPU found no CUDA device" : "stand-in ILGPU CUDA device";
            return accelerator;
        }
    }
}
