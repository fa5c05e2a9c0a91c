using System.Runtime.InteropServices;
using System.Text;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>Just enough OpenCL to build a program from source and read the build log (pocl in CI).</summary>
internal static partial class OpenCLCompiler
{
    private const string Library = "libOpenCL.so.1";

    [LibraryImport(Library)]
    private static partial int clGetPlatformIDs(uint count, nint[]? platforms, out uint available);

    [LibraryImport(Library)]
    private static partial int clGetDeviceIDs(nint platform, ulong type, uint count, nint[]? devices, out uint available);

    [LibraryImport(Library)]
    private static partial nint clCreateContext(nint properties, uint count, nint[] devices, nint callback, nint userData, out int error);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint clCreateProgramWithSource(nint context, uint count, string[] sources, nint lengths, out int error);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int clBuildProgram(nint program, uint count, nint[] devices, string options, nint callback, nint userData);

    [LibraryImport(Library)]
    private static partial int clGetProgramBuildInfo(nint program, nint device, uint name, nuint size, byte[]? value, out nuint sizeReturned);

    [LibraryImport(Library)]
    private static partial int clReleaseProgram(nint program);

    private const ulong DeviceTypeAll = 0xFFFFFFFF;
    private const uint ProgramBuildLog = 0x1183;

    private static readonly Lazy<(nint Context, nint Device)?> Device = new(Create);

    /// <summary>Why OpenCL cannot be used here, or null when it can.</summary>
    public static string? Unavailable => Device.Value == null ? "no OpenCL platform with a device (install pocl-opencl-icd and ocl-icd-libopencl1)" : null;

    private static (nint, nint)? Create()
    {
        try
        {
            if (!NativeLibrary.TryLoad(Library, out _)) return null;
            if (Environment.GetEnvironmentVariable("POCL_CACHE_DIR") == null)
                Environment.SetEnvironmentVariable("POCL_CACHE_DIR", Path.Combine(Path.GetTempPath(), "gpudeconv-generator-tests-pocl"));
            if (clGetPlatformIDs(0, null, out uint platformCount) != 0 || platformCount == 0) return null;
            var platforms = new nint[platformCount];
            clGetPlatformIDs(platformCount, platforms, out _);
            foreach (var platform in platforms)
            {
                if (clGetDeviceIDs(platform, DeviceTypeAll, 0, null, out uint deviceCount) != 0 || deviceCount == 0) continue;
                var devices = new nint[1];
                clGetDeviceIDs(platform, DeviceTypeAll, 1, devices, out _);
                nint context = clCreateContext(0, 1, devices, 0, 0, out int error);
                if (error == 0) return (context, devices[0]);
            }
        }
        catch (DllNotFoundException)
        {
        }
        return null;
    }

    /// <summary>Builds <paramref name="source"/> as OpenCL C 1.2; returns null on success, else the status and build log.</summary>
    public static string? Build(string source)
    {
        var (context, device) = Device.Value ?? throw new InvalidOperationException(Unavailable);
        nint program = clCreateProgramWithSource(context, 1, new[] { source }, 0, out int error);
        if (error != 0) return "clCreateProgramWithSource failed with " + error;
        try
        {
            int status;
            // One build at a time in this process, like the backend (see CLApi.BuildLock).
            lock (Device) status = clBuildProgram(program, 1, new[] { device }, "-cl-std=CL1.2", 0, 0);
            clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, out nuint size);
            var log = new byte[(int)size];
            clGetProgramBuildInfo(program, device, ProgramBuildLog, size, log, out _);
            string text = Encoding.UTF8.GetString(log).TrimEnd('\0');
            return status == 0 ? null : "clBuildProgram failed with " + status + ":\n" + text;
        }
        finally
        {
            clReleaseProgram(program);
        }
    }
}
