using System.Diagnostics;
using System.Runtime.CompilerServices;
using GpuDeconv.Compute;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// No GPU has run these kernels yet, so this is the check that their generated CUDA C is at least valid C++17:
// each kernel's CUDA source is parsed by g++ with a small header standing in for what NVRTC provides (the CUDA
// built-ins the prelude and the generator use). It catches translation mistakes (a missing cast, an OpenCL-only
// name, a bad declaration) before a GPU machine does; NVRTC itself still has the last word (docs/gpu-check.md).
public sealed class CudaSourceTests
{
    [Fact]
    public void EveryKernelsCudaSourceParsesAsCpp17()
    {
        string? compiler = FindCompiler();
        if (compiler is null) Assert.Skip("g++ not found on PATH: install g++ to check the generated CUDA C without a GPU");
        RuntimeHelpers.RunModuleConstructor(typeof(Conv2dKernels).Module.ModuleHandle);
        var kernels = KernelRegistry.All.Where(k => k.Key.StartsWith("GpuDeconv.Kernels.", StringComparison.Ordinal)).ToList();
        Assert.True(kernels.Count >= 50, $"expected the kernels of GpuDeconv.Kernels in the registry, found {kernels.Count}");
        string folder = Directory.CreateTempSubdirectory("gpudeconv-cuda-").FullName;
        try
        {
            string header = Path.Combine(folder, "nvrtc_mock.h");
            File.WriteAllText(header, MockHeader);
            var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
            Parallel.ForEach(kernels, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, kernel =>
            {
                string source = Path.Combine(folder, $"{kernel.EntryPoint}_{(uint)kernel.Key.GetHashCode():x8}.cu");
                File.WriteAllText(source, kernel.CudaSource);
                var (exit, errors) = Run(compiler, $"-std=c++17 -fsyntax-only -w -include \"{header}\" -x c++ \"{source}\"");
                if (exit != 0) failures.Add($"{kernel.Name} ({kernel.Location}):\n{string.Join('\n', errors.Split('\n').Take(8))}");
            });
            Assert.True(failures.IsEmpty, $"{failures.Count} of {kernels.Count} CUDA sources do not parse:\n{string.Join("\n\n", failures)}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string? FindCompiler() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, "g++")).FirstOrDefault(File.Exists);

    private static (int Exit, string Errors) Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, errors);
    }

    // What NVRTC predefines or declares for device code, as far as the generated sources use it; no libc headers
    // (NVRTC has none, and glibc's typedefs such as ulong would clash with the prelude's).
    private const string MockHeader = """
// Just enough of NVRTC's environment for g++ -fsyntax-only on generated CUDA C.
#define __CUDACC_RTC__ 1
#define __global__
#define __device__
#define __shared__
#define __forceinline__ inline
#define __align__(n) alignas(n)
float expf(float); double exp(double);
float logf(float); double log(double);
float sqrtf(float); double sqrt(double);
float fabsf(float); double fabs(double);
float tanhf(float); double tanh(double);
float sinf(float); double sin(double);
float cosf(float); double cos(double);
float tanf(float); double tan(double);
float floorf(float); double floor(double);
float ceilf(float); double ceil(double);
float truncf(float); double trunc(double);
float roundf(float); double round(double);
float rintf(float); double rint(double);
float powf(float, float); double pow(double, double);
float fminf(float, float); double fmin(double, double);
float fmaxf(float, float); double fmax(double, double);
float fmodf(float, float); double fmod(double, double);
float exp2f(float); double exp2(double);
float log2f(float); double log2(double);
float log10f(float); double log10(double);
float asinf(float); double asin(double);
float acosf(float); double acos(double);
float atanf(float); double atan(double);
float atan2f(float, float); double atan2(double, double);
float sinhf(float); double sinh(double);
float coshf(float); double cosh(double);
float cbrtf(float); double cbrt(double);
float expm1f(float); double expm1(double);
float log1pf(float); double log1p(double);
float fmaf(float, float, float); double fma(double, double, double);
float copysignf(float, float); double copysign(double, double);
float erff(float); double erf(double);
float erfcf(float); double erfc(double);
float hypotf(float, float); double hypot(double, double);
bool isnan(float); bool isnan(double);
bool isinf(float); bool isinf(double);
bool isfinite(float); bool isfinite(double);
bool signbit(float); bool signbit(double);
float remainderf(float, float); double remainder(double, double);
struct gd_mock_dim3 { unsigned x, y, z; };
extern gd_mock_dim3 threadIdx, blockIdx, blockDim, gridDim;
void __syncthreads(); void __threadfence(); void __threadfence_block(); void __threadfence_system();
int __syncthreads_count(int);
int __float_as_int(float); unsigned __float_as_uint(float); float __int_as_float(int); float __uint_as_float(unsigned);
long long __double_as_longlong(double); double __longlong_as_double(long long);
int __float2int_rz(float); unsigned __float2uint_rz(float); long long __float2ll_rz(float); unsigned long long __float2ull_rz(float);
int __double2int_rz(double); unsigned __double2uint_rz(double); long long __double2ll_rz(double); unsigned long long __double2ull_rz(double);
float rsqrtf(float); double rsqrt(double);
#define GD_MOCK_ATOMICS(T) T atomicAdd(T*, T); T atomicSub(T*, T); T atomicExch(T*, T); T atomicMin(T*, T); T atomicMax(T*, T); \
  T atomicAnd(T*, T); T atomicOr(T*, T); T atomicXor(T*, T); T atomicCAS(T*, T, T);
GD_MOCK_ATOMICS(int) GD_MOCK_ATOMICS(unsigned) GD_MOCK_ATOMICS(unsigned long long) GD_MOCK_ATOMICS(long long)
float atomicAdd(float*, float); double atomicAdd(double*, double); float atomicExch(float*, float);
""";
}
