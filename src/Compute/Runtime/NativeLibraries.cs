using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>Loads a native library from a list of candidate names or paths.</summary>
internal static class NativeLibraries
{
    /// <summary>Returns the first candidate that loads, and the names tried (for the "why missing" message).</summary>
    public static bool TryLoad(IEnumerable<string> candidates, out nint handle, out string tried)
    {
        var names = new List<string>();
        foreach (string candidate in candidates)
        {
            if (string.IsNullOrWhiteSpace(candidate)) continue;
            names.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out handle))
            {
                tried = string.Join(", ", names);
                return true;
            }
        }
        handle = 0;
        tried = string.Join(", ", names);
        return false;
    }
}
