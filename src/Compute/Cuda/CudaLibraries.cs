using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace GpuDeconv.Compute;

/// <summary>Finds and loads the CUDA driver and NVRTC, and binds <see cref="CudaApi"/>/<see cref="NvrtcApi"/> to them.</summary>
/// <remarks>
/// Binding goes through the ResolvingUnmanagedDll event rather than NativeLibrary.SetDllImportResolver
/// because the latter allows one resolver per assembly and the OpenCL backend lives in the same assembly.
/// </remarks>
internal static unsafe class CudaLibraries
{
    private static readonly object Gate = new();
    private static nint _driver;
    private static string? _driverFailure;
    private static nint _nvrtc;
    private static string? _nvrtcFailure;

    static CudaLibraries()
    {
        var context = AssemblyLoadContext.GetLoadContext(typeof(CudaLibraries).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += Resolve;
    }

    public static bool HasEventElapsedTimeV2 { get; private set; }

    /// <summary>The loaded NVRTC's version (major, minor), or (0, 0) before a successful <see cref="TryLoadNvrtc"/>.</summary>
    public static (int Major, int Minor) NvrtcVersion { get; private set; }

    /// <summary>Where NVRTC was loaded from (path or soname).</summary>
    public static string NvrtcLocation { get; private set; } = string.Empty;

    private static nint Resolve(Assembly assembly, string name)
    {
        if (assembly != typeof(CudaLibraries).Assembly) return 0;
        return name switch
        {
            CudaApi.Library => _driver,
            NvrtcApi.Library => _nvrtc,
            _ => 0,
        };
    }

    /// <summary>Loads libcuda once; on failure <paramref name="reason"/> lists every path tried.</summary>
    public static bool TryLoadDriver(out string reason)
    {
        lock (Gate)
        {
            if (_driver == 0 && _driverFailure is null)
            {
                string[] candidates = OperatingSystem.IsWindows()
                    ? ["nvcuda.dll"]
                    :
                    [
                        "libcuda.so.1",
                        "/usr/local/nvidia/lib64/libcuda.so.1",
                        "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                        "/usr/lib64/libcuda.so.1",
                        "/usr/lib/wsl/lib/libcuda.so.1",
                    ];
                if (NativeLibraries.TryLoad(candidates, out nint handle, out string tried))
                {
                    _driver = handle;
                    HasEventElapsedTimeV2 = NativeLibrary.TryGetExport(handle, "cuEventElapsedTime_v2", out _);
                }
                else
                {
                    _driverFailure = $"libcuda.so.1 not found (no NVIDIA driver); tried: {tried}";
                }
            }
            reason = _driverFailure ?? string.Empty;
            return _driver != 0;
        }
    }

    /// <summary>
    /// Loads NVRTC once, preferring a copy whose major version the driver supports
    /// (<paramref name="driverMajor"/>, 0 if unknown): CUBIN from a newer major does not load on an older driver.
    /// </summary>
    public static bool TryLoadNvrtc(int driverMajor, out string reason)
    {
        lock (Gate)
        {
            if (_nvrtc == 0 && _nvrtcFailure is null) LoadNvrtc(driverMajor);
            reason = _nvrtcFailure ?? string.Empty;
            return _nvrtc != 0;
        }
    }

    private static void LoadNvrtc(int driverMajor)
    {
        var tried = new List<string>();
        string? overridePath = Environment.GetEnvironmentVariable("GPUDECONV_NVRTC_PATH");
        if (string.IsNullOrWhiteSpace(overridePath)) overridePath = null;
        nint fallback = 0;
        string fallbackName = string.Empty;
        (int, int) fallbackVersion = default;
        foreach (string candidate in NvrtcCandidates(tried))
        {
            if (!NativeLibrary.TryLoad(candidate, out nint handle))
            {
                tried.Add(candidate);
                continue;
            }
            if (!TryGetVersion(handle, out int major, out int minor))
            {
                tried.Add($"{candidate} (no nvrtcVersion export)");
                NativeLibrary.Free(handle);
                continue;
            }
            tried.Add($"{candidate} (NVRTC {major}.{minor})");
            // A file named by GPUDECONV_NVRTC_PATH wins even over the driver-version preference.
            bool chosenByUser = candidate == overridePath;
            if (chosenByUser || driverMajor == 0 || major <= driverMajor)
            {
                if (fallback != 0 && fallback != handle) NativeLibrary.Free(fallback);
                Select(handle, candidate, (major, minor));
                return;
            }
            if (fallback == 0)
            {
                fallback = handle;
                fallbackName = candidate;
                fallbackVersion = (major, minor);
            }
            else if (handle != fallback)
            {
                NativeLibrary.Free(handle);
            }
        }
        if (fallback != 0)
        {
            // Only a newer NVRTC than the driver exists: CUBIN may not load, the PTX fallback may.
            Select(fallback, fallbackName, fallbackVersion);
            return;
        }
        _nvrtcFailure = $"NVRTC not found; tried: {string.Join(", ", tried)}; set GPUDECONV_NVRTC_PATH to libnvrtc.so.* or its directory";
    }

    private static void Select(nint handle, string location, (int Major, int Minor) version)
    {
        // NVRTC dlopens libnvrtc-builtins from the loader path; a copy outside it (pip wheel,
        // GPUDECONV_NVRTC_PATH) only finds its builtins if they are already loaded.
        string? directory = Path.GetDirectoryName(location);
        if (!string.IsNullOrEmpty(directory) && Directory.Exists(directory))
        {
            foreach (string builtins in SortedLibraries(directory, "libnvrtc-builtins.so"))
            {
                if (NativeLibrary.TryLoad(builtins, out _)) break;
            }
        }
        _nvrtc = handle;
        NvrtcLocation = location;
        NvrtcVersion = version;
    }

    private static bool TryGetVersion(nint handle, out int major, out int minor)
    {
        major = minor = 0;
        if (!NativeLibrary.TryGetExport(handle, "nvrtcVersion", out nint export)) return false;
        int a = 0, b = 0;
        int status = ((delegate* unmanaged<int*, int*, int>)export)(&a, &b);
        major = a;
        minor = b;
        return status == 0;
    }

    /// <summary>NVRTC candidates in the documented order; directories without a match are noted in <paramref name="tried"/>.</summary>
    private static IEnumerable<string> NvrtcCandidates(List<string> tried)
    {
        string? overridePath = Environment.GetEnvironmentVariable("GPUDECONV_NVRTC_PATH");
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            if (Directory.Exists(overridePath))
            {
                foreach (string file in InDirectory(overridePath, tried)) yield return file;
            }
            else
            {
                yield return overridePath;
            }
        }
        string? cudaPath = Environment.GetEnvironmentVariable("CUDA_PATH");
        if (!string.IsNullOrWhiteSpace(cudaPath))
        {
            foreach (string file in InDirectory(Path.Combine(cudaPath, "lib64"), tried)) yield return file;
        }
        foreach (string file in InDirectory("/usr/local/cuda/lib64", tried)) yield return file;
        foreach (string soname in (string[])["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"]) yield return soname;
        foreach (string directory in WheelDirectories())
        {
            foreach (string file in InDirectory(directory, tried)) yield return file;
        }
    }

    private static IEnumerable<string> InDirectory(string directory, List<string> tried)
    {
        var files = Directory.Exists(directory) ? SortedLibraries(directory, "libnvrtc.so") : [];
        if (files.Count == 0) tried.Add(Path.Combine(directory, "libnvrtc.so* (none)"));
        return files;
    }

    /// <summary>Files named <paramref name="stem"/> or <paramref name="stem"/>.N[.N...], highest version first.</summary>
    private static List<string> SortedLibraries(string directory, string stem)
    {
        var found = new List<(Version Version, string Path)>();
        try
        {
            foreach (string path in Directory.EnumerateFiles(directory, stem + "*"))
            {
                string name = Path.GetFileName(path);
                if (name == stem)
                {
                    found.Add((new Version(0, 0), path));
                }
                else if (name.StartsWith(stem + ".", StringComparison.Ordinal))
                {
                    string suffix = name[(stem.Length + 1)..];
                    string[] parts = suffix.Split('.');
                    if (parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                        found.Add((ParseVersion(parts), path));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return found.OrderByDescending(f => f.Version).Select(f => f.Path).ToList();
    }

    private static Version ParseVersion(string[] parts)
    {
        int Part(int i) => i < parts.Length ? int.Parse(parts[i], CultureInfo.InvariantCulture) : 0;
        return new Version(Part(0), Part(1), Part(2), Part(3));
    }

    /// <summary>pip wheel locations of NVRTC (nvidia-cuda-nvrtc-cu12 and the CUDA 13 wheels), e.g. beside PyTorch.</summary>
    private static IEnumerable<string> WheelDirectories()
    {
        var roots = new List<string>();
        void AddPythonRoots(string libDirectory)
        {
            if (!Directory.Exists(libDirectory)) return;
            try
            {
                foreach (string python in Directory.EnumerateDirectories(libDirectory, "python3*").Order(StringComparer.Ordinal))
                {
                    roots.Add(Path.Combine(python, "site-packages"));
                    roots.Add(Path.Combine(python, "dist-packages"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        foreach (string variable in (string[])["VIRTUAL_ENV", "CONDA_PREFIX"])
        {
            string? prefix = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(prefix)) AddPythonRoots(Path.Combine(prefix, "lib"));
        }
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home)) AddPythonRoots(Path.Combine(home, ".local", "lib"));
        // Environments that are not activated but whose bin directory is on PATH (e.g. /opt/venv/bin in containers).
        foreach (string entry in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (entry.EndsWith("/bin", StringComparison.Ordinal) && entry.Length > 4 && File.Exists(Path.Combine(entry, "python3")))
                AddPythonRoots(Path.Combine(entry[..^4], "lib"));
        }
        AddPythonRoots("/usr/local/lib");
        AddPythonRoots("/usr/lib");
        AddPythonRoots("/opt/conda/lib");
        foreach (string root in roots.Distinct(StringComparer.Ordinal))
        {
            string nvidia = Path.Combine(root, "nvidia");
            if (!Directory.Exists(nvidia)) continue;
            foreach (string sub in (string[])["cuda_nvrtc/lib", "cu13/lib", "cu12/lib"])
            {
                string directory = Path.Combine(nvidia, sub);
                if (Directory.Exists(directory)) yield return directory;
            }
        }
    }
}
