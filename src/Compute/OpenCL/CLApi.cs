using System.Runtime.InteropServices;
using System.Text;

namespace GpuDeconv.Compute;

/// <summary>Raw OpenCL 1.2 entry points of the ICD loader (plus clCreateCommandQueueWithProperties from 2.0).</summary>
/// <remarks>
/// Handles are <c>nint</c>, <c>size_t</c> is <c>nuint</c>, <c>cl_int</c> is <c>int</c>. Every status goes through
/// <see cref="CLException.Check"/>; callers must have run <see cref="TryLoad"/> first so that a missing
/// library is a probe reason rather than a <see cref="DllNotFoundException"/>.
/// </remarks>
internal static unsafe partial class CLApi
{
    public const string Library = "libOpenCL.so.1";

    // ---- constants (CL/cl.h) ----
    public const uint PlatformProfile = 0x0900, PlatformVersion = 0x0901, PlatformName = 0x0902, PlatformVendor = 0x0903, PlatformExtensions = 0x0904;

    public const ulong DeviceTypeCpu = 1 << 1, DeviceTypeGpu = 1 << 2, DeviceTypeAccelerator = 1 << 3, DeviceTypeAll = 0xFFFFFFFF;

    public const uint DeviceType = 0x1000, DeviceMaxComputeUnits = 0x1002, DeviceMaxWorkItemDimensions = 0x1003,
        DeviceMaxWorkGroupSize = 0x1004, DeviceMaxWorkItemSizes = 0x1005, DeviceMaxClockFrequency = 0x100C,
        DeviceMaxMemAllocSize = 0x1010, DeviceSingleFpConfig = 0x101B, DeviceGlobalMemSize = 0x101F,
        DeviceLocalMemSize = 0x1023, DeviceAvailable = 0x1027, DeviceCompilerAvailable = 0x1028,
        DeviceName = 0x102B, DeviceVendor = 0x102C, DriverVersion = 0x102D, DeviceVersion = 0x102F,
        DeviceExtensions = 0x1030, DevicePlatform = 0x1031, DeviceDoubleFpConfig = 0x1032,
        DeviceOpenCLCVersion = 0x103D, DeviceGlobalFreeMemoryAmd = 0x4039;

    /// <summary>CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT in CL_DEVICE_SINGLE_FP_CONFIG.</summary>
    public const ulong FpCorrectlyRoundedDivideSqrt = 1 << 7;

    public const nint ContextPlatform = 0x1084;

    public const ulong QueueProfilingEnable = 1 << 1;
    public const ulong QueueProperties = 0x1093;

    public const ulong MemReadWrite = 1 << 0;

    public const uint ProgramNumDevices = 0x1162, ProgramBinarySizes = 0x1165, ProgramBinaries = 0x1166;
    public const uint ProgramBuildStatus = 0x1181, ProgramBuildLog = 0x1183;

    public const uint KernelWorkGroupSize = 0x11B0, KernelPreferredWorkGroupSizeMultiple = 0x11B3;

    public const uint ProfilingCommandStart = 0x1282, ProfilingCommandEnd = 0x1283;

    // ---- loading ----
    private static readonly Lock LoadLock = new();
    private static bool _loadTried;
    private static string? _loadFailure;

    /// <summary>Checks that the ICD loader can be loaded; returns null, or why not.</summary>
    public static string? TryLoad()
    {
        lock (LoadLock)
        {
            if (_loadTried) return _loadFailure;
            _loadTried = true;
            // [LibraryImport] resolves "libOpenCL.so.1" through the same dlopen search, so a
            // successful probe here means the P/Invokes below bind.
            if (!NativeLibraries.TryLoad([Library], out _, out string tried))
                _loadFailure = $"{Library} not found (tried {tried}; install ocl-icd-libopencl1 and a driver such as pocl-opencl-icd)";
            return _loadFailure;
        }
    }

    // ---- platforms and devices ----
    [LibraryImport(Library)]
    public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);

    [LibraryImport(Library)]
    public static partial int clGetPlatformInfo(nint platform, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    public static partial int clGetDeviceIDs(nint platform, ulong deviceType, uint numEntries, nint* devices, uint* numDevices);

    [LibraryImport(Library)]
    public static partial int clGetDeviceInfo(nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    // ---- context and queues ----
    [LibraryImport(Library)]
    public static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* status);

    [LibraryImport(Library)]
    public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* status);

    [LibraryImport(Library)]
    public static partial nint clCreateCommandQueueWithProperties(nint context, nint device, ulong* properties, int* status);

    [LibraryImport(Library)]
    public static partial int clFinish(nint queue);

    [LibraryImport(Library)]
    public static partial int clFlush(nint queue);

    [LibraryImport(Library)]
    public static partial int clReleaseCommandQueue(nint queue);

    [LibraryImport(Library)]
    public static partial int clReleaseContext(nint context);

    // ---- programs and kernels ----
    [LibraryImport(Library)]
    public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* status);

    [LibraryImport(Library)]
    public static partial nint clCreateProgramWithBinary(nint context, uint numDevices, nint* devices, nuint* lengths, byte** binaries, int* binaryStatus, int* status);

    [LibraryImport(Library)]
    public static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);

    /// <summary>
    /// Serialises clBuildProgram across the process. A generator test process crashed (SIGSEGV) in
    /// pocl 3.1 while two contexts built programs on different threads; builds are CPU-bound and cached
    /// on disk, so running them one at a time costs little on any driver.
    /// </summary>
    public static readonly Lock BuildLock = new();

    public static int BuildProgram(nint program, nint device, byte[] options)
    {
        lock (BuildLock)
        {
            fixed (byte* o = options) return clBuildProgram(program, 1, &device, o, 0, 0);
        }
    }

    [LibraryImport(Library)]
    public static partial int clGetProgramBuildInfo(nint program, nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    public static partial int clGetProgramInfo(nint program, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    public static partial int clReleaseProgram(nint program);

    [LibraryImport(Library)]
    public static partial nint clCreateKernel(nint program, byte* name, int* status);

    [LibraryImport(Library)]
    public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);

    [LibraryImport(Library)]
    public static partial int clGetKernelWorkGroupInfo(nint kernel, nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    public static partial int clReleaseKernel(nint kernel);

    // ---- memory ----
    [LibraryImport(Library)]
    public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPtr, int* status);

    [LibraryImport(Library)]
    public static partial int clReleaseMemObject(nint memory);

    [LibraryImport(Library)]
    public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueCopyBuffer(nint queue, nint source, nint destination, nuint sourceOffset, nuint destinationOffset, nuint size, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size, uint numEvents, nint* waitList, nint* evt);

    // ---- launches and events ----
    [LibraryImport(Library)]
    public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* globalOffset, nuint* globalSize, nuint* localSize, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueMarkerWithWaitList(nint queue, uint numEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clWaitForEvents(uint numEvents, nint* events);

    [LibraryImport(Library)]
    public static partial int clGetEventProfilingInfo(nint evt, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    public static partial int clRetainEvent(nint evt);

    [LibraryImport(Library)]
    public static partial int clReleaseEvent(nint evt);

    // ---- typed info helpers ----
    public static string PlatformString(nint platform, uint param)
    {
        nuint size;
        CLException.Check(clGetPlatformInfo(platform, param, 0, null, &size), "clGetPlatformInfo");
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer) CLException.Check(clGetPlatformInfo(platform, param, size, p, null), "clGetPlatformInfo");
        return DecodeString(buffer);
    }

    public static string DeviceString(nint device, uint param)
    {
        nuint size;
        CLException.Check(clGetDeviceInfo(device, param, 0, null, &size), "clGetDeviceInfo");
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer) CLException.Check(clGetDeviceInfo(device, param, size, p, null), "clGetDeviceInfo");
        return DecodeString(buffer);
    }

    public static T DeviceValue<T>(nint device, uint param) where T : unmanaged
    {
        T value = default;
        CLException.Check(clGetDeviceInfo(device, param, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }

    public static T KernelGroupValue<T>(nint kernel, nint device, uint param) where T : unmanaged
    {
        T value = default;
        CLException.Check(clGetKernelWorkGroupInfo(kernel, device, param, (nuint)sizeof(T), &value, null), "clGetKernelWorkGroupInfo");
        return value;
    }

    public static string BuildLog(nint program, nint device)
    {
        nuint size;
        if (clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != 0 || size == 0) return string.Empty;
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer)
        {
            if (clGetProgramBuildInfo(program, device, ProgramBuildLog, size, p, null) != 0) return string.Empty;
        }
        return DecodeString(buffer).Trim();
    }

    /// <summary>Decodes a NUL-terminated info string.</summary>
    private static string DecodeString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]).Trim();
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/> for <c>const char*</c> parameters.</summary>
    public static byte[] Utf8Z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
