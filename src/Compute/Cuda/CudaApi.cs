using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>CUDA driver API entry points (cuda.h). Every call goes through <see cref="CudaException.Check"/>.</summary>
/// <remarks>
/// The library name is a placeholder that default probing never finds, so every import binds to the
/// handle <see cref="CudaLibraries"/> chose. Types: CUresult = int, CUdevice = int, CUdeviceptr = ulong,
/// size_t = nuint, handles (CUcontext, CUmodule, CUfunction, CUstream, CUevent) = nint.
/// The `_v2` exports are bound wherever they exist: the unsuffixed names are the legacy 32-bit ABI.
/// </remarks>
internal static unsafe partial class CudaApi
{
    internal const string Library = "gpudeconv-cuda-driver";

    internal const int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    internal const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
    internal const int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    internal const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    internal const int CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13;
    internal const int CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36;
    internal const int CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37;
    internal const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    internal const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    internal const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

    internal const int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
    internal const int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
    internal const int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    internal const uint CU_STREAM_NON_BLOCKING = 1;
    internal const uint CU_EVENT_DEFAULT = 0;

    // ---- initialisation, devices ----

    [LibraryImport(Library)]
    internal static partial int cuInit(uint flags);

    [LibraryImport(Library)]
    internal static partial int cuDriverGetVersion(int* driverVersion);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetCount(int* count);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGet(int* device, int ordinal);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetName(byte* name, int len, int dev);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetAttribute(int* pi, int attrib, int dev);

    [LibraryImport(Library)]
    internal static partial int cuDeviceTotalMem_v2(nuint* bytes, int dev);

    // ---- contexts ----

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRetain(nint* pctx, int dev);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRelease_v2(int dev);

    [LibraryImport(Library)]
    internal static partial int cuCtxSetCurrent(nint ctx);

    [LibraryImport(Library)]
    internal static partial int cuCtxSynchronize();

    // ---- modules, functions, launch ----

    [LibraryImport(Library)]
    internal static partial int cuModuleLoadData(nint* module, void* image);

    [LibraryImport(Library)]
    internal static partial int cuModuleUnload(nint hmod);

    [LibraryImport(Library)]
    internal static partial int cuModuleGetFunction(nint* hfunc, nint hmod, byte* name);

    [LibraryImport(Library)]
    internal static partial int cuFuncGetAttribute(int* pi, int attrib, nint hfunc);

    [LibraryImport(Library)]
    internal static partial int cuFuncSetAttribute(nint hfunc, int attrib, int value);

    [LibraryImport(Library)]
    internal static partial int cuLaunchKernel(
        nint f,
        uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ,
        uint sharedMemBytes, nint hStream, void** kernelParams, void** extra);

    // ---- memory ----

    [LibraryImport(Library)]
    internal static partial int cuMemAlloc_v2(ulong* dptr, nuint bytesize);

    [LibraryImport(Library)]
    internal static partial int cuMemFree_v2(ulong dptr);

    [LibraryImport(Library)]
    internal static partial int cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyHtoD_v2(ulong dstDevice, void* srcHost, nuint byteCount);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoH_v2(void* dstHost, ulong srcDevice, nuint byteCount);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoD_v2(ulong dstDevice, ulong srcDevice, nuint byteCount);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyHtoDAsync_v2(ulong dstDevice, void* srcHost, nuint byteCount, nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoHAsync_v2(void* dstHost, ulong srcDevice, nuint byteCount, nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoDAsync_v2(ulong dstDevice, ulong srcDevice, nuint byteCount, nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuMemsetD8_v2(ulong dstDevice, byte uc, nuint n);

    [LibraryImport(Library)]
    internal static partial int cuMemsetD32_v2(ulong dstDevice, uint ui, nuint n);

    // The asynchronous memsets were introduced after the 64-bit CUdeviceptr switch, so they have no _v2.
    [LibraryImport(Library)]
    internal static partial int cuMemsetD8Async(ulong dstDevice, byte uc, nuint n, nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuMemsetD32Async(ulong dstDevice, uint ui, nuint n, nint hStream);

    // ---- streams and events ----

    [LibraryImport(Library)]
    internal static partial int cuStreamCreate(nint* phStream, uint flags);

    [LibraryImport(Library)]
    internal static partial int cuStreamSynchronize(nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuStreamDestroy_v2(nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuEventCreate(nint* phEvent, uint flags);

    [LibraryImport(Library)]
    internal static partial int cuEventRecord(nint hEvent, nint hStream);

    [LibraryImport(Library)]
    internal static partial int cuEventSynchronize(nint hEvent);

    // CUDA 12.8 added cuEventElapsedTime_v2 (the CUDA 13 headers map the name to it); older drivers
    // only export the original. Same signature; CudaLibraries.HasEventElapsedTimeV2 picks one.
    [LibraryImport(Library)]
    internal static partial int cuEventElapsedTime(float* pMilliseconds, nint hStart, nint hEnd);

    [LibraryImport(Library)]
    internal static partial int cuEventElapsedTime_v2(float* pMilliseconds, nint hStart, nint hEnd);

    [LibraryImport(Library)]
    internal static partial int cuEventDestroy_v2(nint hEvent);

    // ---- errors ----

    [LibraryImport(Library)]
    internal static partial int cuGetErrorName(int error, byte** pStr);

    [LibraryImport(Library)]
    internal static partial int cuGetErrorString(int error, byte** pStr);

    internal static int EventElapsedTime(float* milliseconds, nint start, nint end) =>
        CudaLibraries.HasEventElapsedTimeV2
            ? cuEventElapsedTime_v2(milliseconds, start, end)
            : cuEventElapsedTime(milliseconds, start, end);
}

/// <summary>NVRTC entry points (nvrtc.h). nvrtcResult = int, nvrtcProgram = nint, size_t = nuint.</summary>
internal static unsafe partial class NvrtcApi
{
    internal const string Library = "gpudeconv-nvrtc";

    [LibraryImport(Library)]
    internal static partial int nvrtcVersion(int* major, int* minor);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetNumSupportedArchs(int* numArchs);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetSupportedArchs(int* supportedArchs);

    [LibraryImport(Library)]
    internal static partial int nvrtcCreateProgram(
        nint* prog, byte* src, byte* name, int numHeaders, byte** headers, byte** includeNames);

    [LibraryImport(Library)]
    internal static partial int nvrtcCompileProgram(nint prog, int numOptions, byte** options);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetProgramLogSize(nint prog, nuint* logSizeRet);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetProgramLog(nint prog, byte* log);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetCUBINSize(nint prog, nuint* cubinSizeRet);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetCUBIN(nint prog, byte* cubin);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetPTXSize(nint prog, nuint* ptxSizeRet);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetPTX(nint prog, byte* ptx);

    [LibraryImport(Library)]
    internal static partial int nvrtcDestroyProgram(nint* prog);

    [LibraryImport(Library)]
    internal static partial byte* nvrtcGetErrorString(int result);
}
