namespace GpuDeconv.Compute.Conformance;

/// <summary>One named check that runs a kernel (or a runtime operation) on an accelerator and compares with .NET on the host.</summary>
/// <param name="Name">Unique name, <c>Category.What</c>.</param>
/// <param name="Category">Group for filtering: arithmetic, control, math, atomics, shared, memory, matmul, errors, leaks.</param>
/// <param name="Run">Throws <see cref="ConformanceFailure"/> on a mismatch, <see cref="ConformanceSkip"/> when the accelerator lacks a feature.</param>
public sealed record ConformanceCase(string Name, string Category, Action<Accelerator> Run)
{
    public override string ToString() => Name;
}

/// <summary>A conformance case found a result that differs from .NET.</summary>
public sealed class ConformanceFailure(string message) : Exception(message);

/// <summary>A conformance case cannot run on this accelerator; the message says why.</summary>
public sealed class ConformanceSkip(string reason) : Exception(reason);
