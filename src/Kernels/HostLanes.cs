using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>The launch shape of the kernels written for host-CPU devices (Conv2dVector, PoolVector, Gemm's vector path).</summary>
internal static class HostLanes
{
    /// <summary>
    /// Launches <paramref name="lanes"/> lanes (each a block of work that checks lane &lt; lanes) in small groups, so that
    /// even a few hundred lanes spread over every core; nothing when there are none.
    /// </summary>
    public static void Launch(int lanes, Action<KernelConfig, int> launch)
    {
        if (lanes == 0) return;
        int groupSize = Math.Clamp(lanes / 64, 1, 16);
        launch(new KernelConfig(new Index3D((lanes + groupSize - 1) / groupSize, 1, 1), new Index3D(groupSize, 1, 1)), lanes);
    }
}
