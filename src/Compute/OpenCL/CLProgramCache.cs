using System.Security.Cryptography;
using System.Text;

namespace GpuDeconv.Compute;

/// <summary>
/// Best-effort disk cache of OpenCL program binaries, keyed by SHA-256 of the source, device, driver, platform and
/// options. Unreadable, corrupt or rejected entries fall back to building from source; write failures are ignored.
/// </summary>
/// <remarks>
/// Directory: <c>$GPUDECONV_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/gpudeconv</c>, else <c>~/.cache/gpudeconv</c>,
/// with an <c>opencl</c> subfolder. <c>GPUDECONV_CACHE_DIR=off</c> disables it. Files are a magic, the SHA-256 of
/// the payload (so truncated writes are detected before the driver sees them) and the driver's binary.
/// </remarks>
internal sealed class CLProgramCache
{
    private static ReadOnlySpan<byte> Magic => "GDCLBIN1"u8;
    private const int HashLength = 32;

    private readonly CLDevice _device;
    private readonly string _options;
    private readonly string? _directory;

    public CLProgramCache(CLDevice device, string options)
    {
        _device = device;
        _options = options;
        _directory = ChooseDirectory();
    }

    public static string? ChooseDirectory()
    {
        string? root = Environment.GetEnvironmentVariable("GPUDECONV_CACHE_DIR");
        if (string.Equals(root, "off", StringComparison.OrdinalIgnoreCase)) return null;
        if (string.IsNullOrEmpty(root))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string? home = Environment.GetEnvironmentVariable("HOME");
            root = !string.IsNullOrEmpty(xdg) ? Path.Combine(xdg, "gpudeconv")
                : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache", "gpudeconv")
                : null;
        }
        return root is null ? null : Path.Combine(root, "opencl");
    }

    /// <summary>Builds a program from a cached binary, or returns 0; <paramref name="key"/> names the entry either way.</summary>
    public unsafe nint TryLoad(nint context, string source, out string key)
    {
        key = Key(source);
        if (_directory is null) return 0;
        byte[] file;
        try
        {
            string path = PathOf(key);
            if (!File.Exists(path)) return 0;
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        if (file.Length <= Magic.Length + HashLength || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return 0;
        var payload = file.AsSpan(Magic.Length + HashLength);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(file.AsSpan(Magic.Length, HashLength))) return 0;

        nint device = _device.DeviceHandle;
        int status, binaryStatus;
        nint program;
        fixed (byte* p = payload)
        {
            byte* binary = p;
            nuint length = (nuint)payload.Length;
            program = CLApi.clCreateProgramWithBinary(context, 1, &device, &length, &binary, &binaryStatus, &status);
        }
        if (status != 0 || binaryStatus != 0)
        {
            if (program != 0) CLApi.clReleaseProgram(program);
            return 0;
        }
        byte[] options = CLApi.Utf8Z(_options);
        status = CLApi.BuildProgram(program, device, options);
        if (status != 0)
        {
            CLApi.clReleaseProgram(program);
            return 0;
        }
        return program;
    }

    /// <summary>Writes the built program's binary under <paramref name="key"/>; failures only cost a rebuild next time.</summary>
    public unsafe void Store(nint program, string key)
    {
        if (_directory is null) return;
        nuint size;
        if (CLApi.clGetProgramInfo(program, CLApi.ProgramBinarySizes, (nuint)sizeof(nuint), &size, null) != 0 || size == 0) return;
        var file = new byte[Magic.Length + HashLength + (int)size];
        fixed (byte* p = file)
        {
            byte* binary = p + Magic.Length + HashLength;
            if (CLApi.clGetProgramInfo(program, CLApi.ProgramBinaries, (nuint)sizeof(nint), &binary, null) != 0) return;
        }
        Magic.CopyTo(file);
        SHA256.HashData(file.AsSpan(Magic.Length + HashLength), file.AsSpan(Magic.Length, HashLength));
        string path = PathOf(key);
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(_directory);
            File.WriteAllBytes(temporary, file);
            // Rename is atomic within a directory, so concurrent processes never read half a file.
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that can't be written only costs a rebuild next time.
        }
    }

    private string Key(string source)
    {
        var text = new StringBuilder()
            .Append(source).Append('\0')
            .Append(_device.Name).Append('\0')
            .Append(_device.DeviceVersion).Append('\0')
            .Append(_device.DriverVersion).Append('\0')
            .Append(_device.PlatformVersion).Append('\0')
            .Append(_options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private string PathOf(string key) => Path.Combine(_directory!, key + ".clbin");

    /// <summary>Whether a file can be created in <paramref name="directory"/>.</summary>
    public static bool IsWritable(string directory)
    {
        try
        {
            string probe = Path.Combine(directory, $".gpudeconv-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
