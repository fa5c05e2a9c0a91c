namespace GpuDeconv.Training.Tests;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("gpudeconv-test-").FullName;
    }

    public string Path { get; }

    /// <summary>The full path of <paramref name="relative"/> inside the directory.</summary>
    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on Windows-like file systems; the OS cleans the temp folder.
        }
    }
}
