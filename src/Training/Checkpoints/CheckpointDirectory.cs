using System.Globalization;

namespace GpuDeconv.Training;

/// <summary>One checkpoint file of a <see cref="CheckpointDirectory"/>: the step its name carries and its full path.</summary>
public sealed record CheckpointFile(long Step, string Path);

/// <summary>The checkpoints of a run, kept in one directory as <c>checkpoint-&lt;step&gt;.safetensors</c>, the step zero-padded to
/// eight digits so that names sort by step; the latest is the one with the highest step (what <c>--resume</c> loads).</summary>
/// <remarks>No "latest" pointer file is kept: every checkpoint is renamed into place whole, so the highest step on disk is
/// always a complete file, and there is no second file that could disagree with it.</remarks>
public sealed class CheckpointDirectory
{
    private const string Prefix = "checkpoint-";
    private const string Extension = ".safetensors";

    /// <summary>Names the directory <paramref name="path"/>; it need not exist yet.</summary>
    public CheckpointDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>The path of the checkpoint for training step <paramref name="step"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step is negative.</exception>
    public string FileFor(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return System.IO.Path.Combine(Path, Prefix + step.ToString("D8", CultureInfo.InvariantCulture) + Extension);
    }

    /// <summary>Saves <paramref name="checkpoint"/> atomically under the name for its step, creating the directory if needed.</summary>
    /// <exception cref="IOException">The file could not be written; the previous file, if any, is unchanged.</exception>
    public CheckpointFile Save(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string path = FileFor(checkpoint.Step);
        checkpoint.Save(path);
        return new CheckpointFile(checkpoint.Step, path);
    }

    /// <summary>The checkpoint files in the directory by increasing step (empty when the directory does not exist); other files,
    /// including the hidden temporary files of saves in progress, are ignored.</summary>
    public IReadOnlyList<CheckpointFile> List()
    {
        if (!Directory.Exists(Path))
            return [];
        var files = new List<CheckpointFile>();
        foreach (string path in Directory.EnumerateFiles(Path, Prefix + "*" + Extension))
        {
            if (TryParseStep(System.IO.Path.GetFileName(path), out long step))
                files.Add(new CheckpointFile(step, path));
        }
        // By number, not by name: a step past eight digits still sorts after the padded ones.
        files.Sort((a, b) => a.Step != b.Step ? a.Step.CompareTo(b.Step) : string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>The checkpoint with the highest step, or null when there is none.</summary>
    public CheckpointFile? Latest()
    {
        var files = List();
        return files.Count == 0 ? null : files[^1];
    }

    /// <summary>Loads the checkpoint with the highest step, or returns null when there is none.</summary>
    /// <exception cref="InvalidDataException">The latest checkpoint is damaged; the message names it (older ones are not tried
    /// silently, since resuming from an older step without saying so would hide lost training).</exception>
    public Checkpoint? LoadLatest() => Latest() is { } latest ? Checkpoint.Load(latest.Path) : null;

    private static bool TryParseStep(string fileName, out long step)
    {
        step = 0;
        if (!fileName.StartsWith(Prefix, StringComparison.Ordinal) || !fileName.EndsWith(Extension, StringComparison.Ordinal))
            return false;
        var digits = fileName.AsSpan(Prefix.Length, fileName.Length - Prefix.Length - Extension.Length);
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        return digits.Length > 0 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out step);
    }
}
