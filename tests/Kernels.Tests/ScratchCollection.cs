using Xunit;

namespace GpuDeconv.Kernels.Tests;

/// <summary>
/// Test classes whose ops use <see cref="Scratch"/> on an accelerator's default stream. Scratch slots belong to a
/// stream and assume its work is queued from one thread at a time; xunit runs classes in parallel, and two classes
/// queueing on the same shared default stream would grow, free and overwrite each other's slots. Classes in this
/// collection therefore run alone.
/// </summary>
[CollectionDefinition(nameof(ScratchCollection), DisableParallelization = true)]
public sealed class ScratchCollection;
