namespace GpuDeconv.Compute.Conformance;

/// <summary>The accelerators the conformance cases run on, created once per process on first use (thread-safe).</summary>
public static class AcceleratorCatalog
{
    private static readonly string[] BuiltIn = ["cpu", "opencl", "cuda"];
    private static readonly List<string> Registered = [];
    private static readonly Lock RegistrationLock = new();

    /// <summary>
    /// The environment variable that restricts the accelerators theories enumerate to a comma-separated list, for example
    /// <c>cuda,ilgpu-cuda</c> on a GPU machine lent for minutes (tools/gpu-check.sh); unset or empty: all of them.
    /// </summary>
    public const string FilterVariable = "GPUDECONV_TEST_ACCELERATORS";

    /// <summary>
    /// The accelerator names the cases run on, in order: ours, then any added by <see cref="Register"/>, restricted by
    /// <see cref="FilterVariable"/>. <see cref="TryGet"/> still finds every name (cpu stays the reference).
    /// </summary>
    public static IReadOnlyList<string> Names => Selected(All);

    /// <summary>Why a theory over <paramref name="names"/> has no rows: the filter lets none of them through.</summary>
    public static string NothingSelected(IEnumerable<string> names) =>
        $"{FilterVariable}={Environment.GetEnvironmentVariable(FilterVariable)} selects none of {string.Join(", ", names)}";

    /// <summary>Every name in the catalog, whatever the filter.</summary>
    public static IReadOnlyList<string> All
    {
        get
        {
            lock (RegistrationLock) return [.. BuiltIn, .. Registered];
        }
    }

    /// <summary>The names of <paramref name="names"/> that <see cref="FilterVariable"/> lets through, in their order.</summary>
    public static IReadOnlyList<string> Selected(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        string? filter = Environment.GetEnvironmentVariable(FilterVariable);
        if (string.IsNullOrWhiteSpace(filter)) return [.. names];
        var wanted = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. names.Where(wanted.Contains)];
    }

    private static readonly Lazy<Context> SharedContext = new(Context.CreateDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<(Accelerator? Accelerator, string? Reason)>> Entries = new(StringComparer.Ordinal)
    {
        ["cpu"] = new(() => Create(AcceleratorType.CPU), LazyThreadSafetyMode.ExecutionAndPublication),
        ["opencl"] = new(() => Create(AcceleratorType.OpenCL), LazyThreadSafetyMode.ExecutionAndPublication),
        ["cuda"] = new(() => Create(AcceleratorType.Cuda), LazyThreadSafetyMode.ExecutionAndPublication),
    };

    /// <summary>
    /// Adds an accelerator kind from another backend assembly (the ILGPU ones: tests/Compute.Conformance.Ilgpu), created
    /// on first use by <paramref name="create"/>, which returns the accelerator or the reason there is none. Call it
    /// before the names are enumerated (a test assembly's module initializer); the catalog owns what it creates.
    /// </summary>
    /// <exception cref="ArgumentException">The name is already in the catalog.</exception>
    public static void Register(string name, Func<(Accelerator? Accelerator, string? Reason)> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        lock (RegistrationLock)
        {
            if (!Entries.TryAdd(name, new(create, LazyThreadSafetyMode.ExecutionAndPublication)))
                throw new ArgumentException($"Accelerator '{name}' is already in the catalog ({string.Join(", ", Entries.Keys)}).", nameof(name));
            Registered.Add(name);
        }
    }

    /// <summary>The context all catalog accelerators share.</summary>
    public static Context Context => SharedContext.Value;

    /// <summary>Gets the accelerator called <paramref name="name"/>, or the reason it is missing.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static bool TryGet(string name, out Accelerator? accelerator, out string reason)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new ArgumentException($"Unknown accelerator '{name}'; expected one of {string.Join(", ", Entries.Keys)}.", nameof(name));
        (accelerator, string? missing) = entry.Value;
        reason = missing ?? string.Empty;
        return accelerator is not null;
    }

    /// <summary>Creates a separate CPU accelerator (the caller disposes it), e.g. as the foreign owner of a view.</summary>
    public static Accelerator CreateSecondCpuAccelerator()
    {
        var probe = Context.Backends.FirstOrDefault(b => b.Type == AcceleratorType.CPU);
        if (probe is null || !probe.IsAvailable)
            throw new InvalidOperationException($"No CPU device in the context: {probe?.Reason ?? "CPU backend not enumerated"}.");
        return probe.Devices[0].CreateAccelerator(Context);
    }

    /// <summary>Runs <paramref name="conformanceCase"/> on the accelerator <paramref name="name"/>; a missing accelerator is a <see cref="ConformanceSkip"/>.</summary>
    /// <exception cref="ConformanceSkip">The accelerator or a feature the case needs is missing.</exception>
    /// <exception cref="ConformanceFailure">The case found a wrong result.</exception>
    public static void Run(string name, ConformanceCase conformanceCase)
    {
        ArgumentNullException.ThrowIfNull(conformanceCase);
        if (!TryGet(name, out var accelerator, out string reason))
            throw new ConformanceSkip($"{name} accelerator unavailable: {reason}");
        conformanceCase.Run(accelerator!);
    }

    private static (Accelerator?, string?) Create(AcceleratorType type)
    {
        try
        {
            var probe = Context.Backends.FirstOrDefault(b => b.Type == type);
            if (probe is null) return (null, $"the context has no {type} backend");
            if (!probe.IsAvailable) return (null, probe.Reason ?? "no device");
            return (probe.Devices[0].CreateAccelerator(Context), null);
        }
        catch (Exception e)
        {
            return (null, $"creating the {type} accelerator failed: {e.GetType().Name}: {e.Message}");
        }
    }
}
