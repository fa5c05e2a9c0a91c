using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>
/// The test classes that drive OpenCL (the test's own builder and the real backend) share one collection,
/// so xunit never runs them concurrently: pocl crashed once when two contexts built programs at the same time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OpenCLUsers
{
    public const string Name = "OpenCL users";
}
