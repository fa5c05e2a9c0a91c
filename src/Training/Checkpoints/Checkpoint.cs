// A checkpoint is one safetensors file, so the weights open in Python as they are:
//   tensors:   each model parameter under its own name ("conv1/weight"), each optimizer state tensor under
//              "optimizer/" + its name ("optimizer/adam/m/conv1/weight", "optimizer/adam/step")
//   metadata:  "gpudeconv.checkpoint_version" = "1", "gpudeconv.step" = "1500",
//              "gpudeconv.created" = ISO 8601 round-trip time, and "settings." + key for each run setting.
using System.Globalization;
using System.Text;

namespace GpuDeconv.Training;

/// <summary>A training checkpoint: the model's parameters, the optimizer's state, the training step reached, the run's
/// settings and when it was made; saved atomically as one safetensors file.</summary>
public sealed class Checkpoint
{
    /// <summary>The checkpoint layout this version writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    internal const string OptimizerPrefix = "optimizer/";
    internal const string VersionKey = "gpudeconv.checkpoint_version";
    internal const string StepKey = "gpudeconv.step";
    internal const string CreatedKey = "gpudeconv.created";
    internal const string SettingsPrefix = "settings.";

    // Enough lines to see a pattern (a whole layer renamed, every shape doubled) without burying the first one.
    private const int MaxProblemsListed = 20;

    private readonly string? _source;

    /// <summary>Creates a checkpoint at training step <paramref name="step"/> of the given tensors (not copied) and settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step is negative.</exception>
    /// <exception cref="ArgumentException">A tensor is null, a parameter name starts with <c>optimizer/</c>, or a setting has an
    /// empty key or a null value.</exception>
    public Checkpoint(long step, IReadOnlyDictionary<string, HostTensor> parameters, IReadOnlyDictionary<string, HostTensor>? optimizerState = null,
                      IReadOnlyDictionary<string, string>? settings = null, DateTimeOffset? createdAt = null)
        : this(step, parameters, optimizerState, settings, createdAt ?? DateTimeOffset.UtcNow, source: null)
    {
    }

    private Checkpoint(long step, IReadOnlyDictionary<string, HostTensor> parameters, IReadOnlyDictionary<string, HostTensor>? optimizerState,
                       IReadOnlyDictionary<string, string>? settings, DateTimeOffset createdAt, string? source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var (name, tensor) in parameters)
        {
            if (tensor is null)
                throw new ArgumentException($"Checkpoint: parameter \"{name}\" is null.", nameof(parameters));
            if (name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"Checkpoint: parameter \"{name}\" starts with \"{OptimizerPrefix}\", which the file keeps for the optimizer state.", nameof(parameters));
        }
        foreach (var (name, tensor) in optimizerState ?? Empty)
        {
            if (tensor is null)
                throw new ArgumentException($"Checkpoint: optimizer state \"{name}\" is null.", nameof(optimizerState));
        }
        foreach (var (key, value) in settings ?? EmptySettings)
        {
            if (key.Length == 0)
                throw new ArgumentException("Checkpoint: a setting has an empty name.", nameof(settings));
            if (value is null)
                throw new ArgumentException($"Checkpoint: setting \"{key}\" is null; settings are strings.", nameof(settings));
        }
        Step = step;
        Parameters = parameters;
        OptimizerState = optimizerState ?? Empty;
        Settings = settings ?? EmptySettings;
        CreatedAt = createdAt;
        _source = source;
    }

    /// <summary>The training step the checkpoint was taken at.</summary>
    public long Step { get; }

    /// <summary>The model's parameters by name.</summary>
    public IReadOnlyDictionary<string, HostTensor> Parameters { get; }

    /// <summary>The optimizer's state by name (moments, step counters); empty when none was saved.</summary>
    public IReadOnlyDictionary<string, HostTensor> OptimizerState { get; }

    /// <summary>The run's settings (learning rate, batch size, data set, ...) as strings.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>When the checkpoint was made.</summary>
    public DateTimeOffset CreatedAt { get; }

    private static IReadOnlyDictionary<string, HostTensor> Empty { get; } = new Dictionary<string, HostTensor>();

    private static IReadOnlyDictionary<string, string> EmptySettings { get; } = new Dictionary<string, string>();

    /// <summary>Saves the checkpoint at <paramref name="path"/> atomically: a crash or error during the save leaves the previous
    /// file there intact and no temporary file behind.</summary>
    /// <exception cref="IOException">The file could not be written; the previous file, if any, is unchanged.</exception>
    public void Save(string path) => Save(path, wrap: null);

    /// <summary>Saves with a hook on the file stream, so tests can make the write fail part-way.</summary>
    internal void Save(string path, Func<Stream, Stream>? wrap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var tensors = new Dictionary<string, HostTensor>(Parameters.Count + OptimizerState.Count, StringComparer.Ordinal);
        foreach (var (name, tensor) in Parameters)
            tensors.Add(name, tensor);
        foreach (var (name, tensor) in OptimizerState)
            tensors.Add(OptimizerPrefix + name, tensor);

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VersionKey] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            [StepKey] = Step.ToString(CultureInfo.InvariantCulture),
            [CreatedKey] = CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in Settings)
            metadata.Add(SettingsPrefix + key, value);

        AtomicFile.Write(path, stream => SafeTensors.Write(stream, tensors, metadata), wrap);
    }

    /// <summary>Reads and validates the checkpoint at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file, not a GpuDeconv checkpoint, or one written
    /// by a newer version; the message names the file and what was found.</exception>
    public static Checkpoint Load(string path)
    {
        var contents = SafeTensors.Read(path);
        var metadata = contents.Metadata;
        if (!metadata.TryGetValue(VersionKey, out string? versionText))
            throw new InvalidDataException($"{path}: not a GpuDeconv checkpoint: its metadata has no \"{VersionKey}\" (a plain safetensors file is read with SafeTensors.Read).");
        if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
            throw new InvalidDataException($"{path}: metadata \"{VersionKey}\" is \"{versionText}\"; expected a positive integer.");
        if (version > FormatVersion)
            throw new InvalidDataException($"{path}: written by a newer GpuDeconv (checkpoint version {version}); this version reads checkpoint versions up to {FormatVersion}.");
        if (!metadata.TryGetValue(StepKey, out string? stepText)
            || !long.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out long step))
            throw new InvalidDataException($"{path}: metadata \"{StepKey}\" is {Quoted(stepText)}; expected the training step, a non-negative integer.");
        if (!metadata.TryGetValue(CreatedKey, out string? createdText)
            || !DateTimeOffset.TryParseExact(createdText, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var created))
            throw new InvalidDataException($"{path}: metadata \"{CreatedKey}\" is {Quoted(createdText)}; expected an ISO 8601 time such as 2024-05-01T12:00:00.0000000+00:00.");

        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            // Other keys (say a "format" that Python tooling added) are left alone.
            if (key.StartsWith(SettingsPrefix, StringComparison.Ordinal))
                settings.Add(key[SettingsPrefix.Length..], value);
        }
        var parameters = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        var optimizerState = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in contents.Tensors)
        {
            if (name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                optimizerState.Add(name[OptimizerPrefix.Length..], tensor);
            else
                parameters.Add(name, tensor);
        }
        return new Checkpoint(step, parameters, optimizerState, settings, created, path);
    }

    /// <summary>Copies the saved parameters into the model's <paramref name="parameters"/> and, when given, the saved optimizer state
    /// into <paramref name="optimizerState"/>; nothing is copied unless every tensor matches by name, element type and shape.</summary>
    /// <exception cref="ArgumentException">A tensor is missing on either side or differs in element type or shape; the message
    /// lists each such tensor with both shapes, e.g. <c>conv2/weight: the checkpoint holds [5, 5, 64, 64] but the model expects [5, 5, 32, 64]</c>.</exception>
    public void CopyTo(IReadOnlyDictionary<string, HostTensor> parameters, IReadOnlyDictionary<string, HostTensor>? optimizerState = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var problems = new List<string>();
        Compare(Parameters, parameters, "", problems);
        int parameterProblems = problems.Count;
        if (optimizerState is not null)
            Compare(OptimizerState, optimizerState, OptimizerPrefix, problems);
        if (problems.Count > 0)
        {
            var message = new StringBuilder();
            message.Append(CultureInfo.InvariantCulture, $"Checkpoint {_source ?? $"of step {Step}"} does not fit the model ({problems.Count} {(problems.Count == 1 ? "tensor differs" : "tensors differ")}):");
            foreach (string problem in problems.Take(MaxProblemsListed))
                message.Append("\n  ").Append(problem);
            if (problems.Count > MaxProblemsListed)
                message.Append(CultureInfo.InvariantCulture, $"\n  ... and {problems.Count - MaxProblemsListed} more");
            throw new ArgumentException(message.ToString(), parameterProblems > 0 ? nameof(parameters) : nameof(optimizerState));
        }

        // All checked first, so a mismatch never leaves the model half overwritten.
        foreach (var (name, target) in parameters)
            target.CopyFrom(Parameters[name]);
        if (optimizerState is not null)
            foreach (var (name, target) in optimizerState)
                target.CopyFrom(OptimizerState[name]);
    }

    private static void Compare(IReadOnlyDictionary<string, HostTensor> saved, IReadOnlyDictionary<string, HostTensor> model, string prefix, List<string> problems)
    {
        var found = new List<(string Name, string Problem)>();
        foreach (var (name, target) in model)
        {
            if (target is null)
                found.Add((name, $"{prefix}{name}: the model's tensor is null"));
            else if (!saved.TryGetValue(name, out var source))
                found.Add((name, $"{prefix}{name}: the model expects {Describe(target)} but the checkpoint has no such tensor"));
            else if (source.DType != target.DType)
                found.Add((name, $"{prefix}{name}: the checkpoint holds {Describe(source)} but the model expects {Describe(target)}"));
            else if (source.Shape != target.Shape)
                found.Add((name, $"{prefix}{name}: the checkpoint holds {source.Shape} but the model expects {target.Shape}"));
        }
        foreach (var (name, source) in saved)
        {
            if (!model.ContainsKey(name))
                found.Add((name, $"{prefix}{name}: the checkpoint holds {Describe(source)} but the model has no such tensor"));
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        problems.AddRange(found.Select(f => f.Problem));
    }

    private static string Describe(HostTensor tensor) => $"{SafeTensors.DTypeName(tensor.DType)} {tensor.Shape}";

    private static string Quoted(string? text) => text is null ? "missing" : $"\"{text}\"";
}
