using Xunit;

namespace GpuDeconv.Layers.Tests;

/// <summary>
/// Tests that compare a <see cref="DeviceAllocator"/>'s counters before and after: the allocators are shared by every
/// test of the process, so these run in a collection that xunit runs with nothing else in parallel.
/// </summary>
[CollectionDefinition(nameof(AllocatorStatistics), DisableParallelization = true)]
public sealed class AllocatorStatistics;
