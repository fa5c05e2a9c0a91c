namespace GpuDeconv.Compute.Conformance;

/// <summary>All conformance cases, each written once and run on every accelerator.</summary>
public static class ConformanceSuite
{
    /// <summary>The cases in a stable order with unique names.</summary>
    public static IReadOnlyList<ConformanceCase> Cases { get; } =
    [
        .. ArithmeticCases.All(),
        .. ControlFlowCases.All(),
        .. MathCases.All(),
        .. AtomicCases.All(),
        .. GroupCases.All(),
        .. MemoryCases.All(),
        .. LoaderCases.All(),
        .. MatrixMultiplyCases.All(),
        .. Float8Cases.All(),
        .. SchedulingCases.All(),
        .. ErrorCases.All(),
        .. LeakCases.All(),
    ];

    /// <summary>Finds a case by its exact name.</summary>
    /// <exception cref="ArgumentException">No case has that name.</exception>
    public static ConformanceCase Find(string name) =>
        Cases.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"No conformance case named '{name}'.", nameof(name));
}
