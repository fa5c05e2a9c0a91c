namespace GpuDeconv.Training;

/// <summary>Replaces a file atomically: the new contents go to a temporary file in the same directory, which is flushed to
/// disk and then renamed over the target, so readers and crashes see either the old file or the new one, never a mix.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; on any failure the temporary file is deleted and
    /// the previous file at <paramref name="path"/> is untouched. <paramref name="wrap"/> lets tests interpose on the stream
    /// (for instance to fail after some bytes, as a crash or a full disk would).</summary>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? wrap = null)
    {
        string target = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"AtomicFile: {path} names a root directory, not a file.", nameof(path));
        Directory.CreateDirectory(directory);
        // Hidden, unique and in the same directory: a rename within one file system is atomic, and a listing of
        // checkpoints never mistakes a half-written file for one.
        string temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                var stream = wrap?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                // Without this the rename can reach the disk before the data does, and a power loss leaves an empty file.
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string temporary)
    {
        try
        {
            File.Delete(temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original failure matters more; a leftover hidden .tmp file is ignored by every reader.
        }
    }
}
