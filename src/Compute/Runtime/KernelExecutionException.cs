namespace GpuDeconv.Compute;

/// <summary>An exception thrown by kernel code on the CPU accelerator, rethrown from the launch with the kernel and index that failed.</summary>
public sealed class KernelExecutionException : Exception
{
    public KernelExecutionException(string kernelName, string location, Exception innerException)
        : base($"Kernel {kernelName} threw at {location}: {innerException.GetType().Name}: {innerException.Message}", innerException)
    {
        KernelName = kernelName;
        Location = location;
    }

    public KernelExecutionException(string message, Exception innerException) : base(message, innerException)
    {
        KernelName = string.Empty;
        Location = string.Empty;
    }

    public KernelExecutionException() : this("A kernel failed.", new InvalidOperationException())
    {
    }

    /// <summary>The kernel's display name, e.g. <c>Program.Saxpy</c>.</summary>
    public string KernelName { get; }

    /// <summary>Where it failed: the index of an implicit kernel, or the grid and group index of an explicit one.</summary>
    public string Location { get; }
}
