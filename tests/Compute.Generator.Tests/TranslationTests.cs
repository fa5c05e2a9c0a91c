using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>Supported kernels translate cleanly, and the generated C# and OpenCL C compile.</summary>
[Collection(OpenCLUsers.Name)]
public class TranslationTests
{
    public static TheoryData<string, string> Samples() => new()
    {
        { "Saxpy", SampleKernels.Saxpy },
        { "Arithmetic", SampleKernels.Arithmetic },
        { "StructsAndViews", SampleKernels.StructsAndViews },
        { "Grouped", SampleKernels.Grouped },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_translates_without_diagnostics_and_generated_CSharp_compiles(string name, string source)
    {
        var run = GeneratorHarness.Run(source);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, name + ": " + string.Join("\n", run.GeneratorDiagnostics));
        Assert.True(run.CompilationDiagnostics.IsEmpty, name + ": " + string.Join("\n", run.CompilationDiagnostics));
        Assert.NotEmpty(run.OpenCLSources);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_OpenCL_source_builds(string name, string source)
    {
        if (OpenCLCompiler.Unavailable is { } reason) Assert.Skip(reason);
        var run = GeneratorHarness.Run(source);
        foreach (var (entry, text) in run.OpenCLSources)
        {
            string? error = OpenCLCompiler.Build(text);
            Assert.True(error == null, name + "." + entry + ": " + error + "\n" + Numbered(text));
        }
    }

    [Fact]
    public void Signed_arithmetic_wraps_shifts_are_masked_and_float_to_int_saturates()
    {
        var run = GeneratorHarness.Run(SampleKernels.Arithmetic);
        foreach (string c in new[] { run.OpenCL(), run.Cuda() })
        {
            Assert.Contains("(x = gd_wadd_i32(((int)x), ((int)7)));", c, StringComparison.Ordinal);
            Assert.Contains("(x = gd_wneg_i32(x));", c, StringComparison.Ordinal);
            Assert.Contains("int s = gd_shl_i32(x, a[0]);", c, StringComparison.Ordinal);
            Assert.Contains("uint v = (u >> (33 & 31));", c, StringComparison.Ordinal);
            Assert.Contains("(v = (((uint)v) >> (1 & 31)));", c, StringComparison.Ordinal);
            Assert.Contains("(x = ((int)((uint)x >> (2 & 31))));", c, StringComparison.Ordinal);
            Assert.Contains("gd_f32_to_i32(f[i])", c, StringComparison.Ordinal);
            Assert.Contains("((int)gd_f32_to_u32(f[i]))", c, StringComparison.Ordinal);
            Assert.Contains("gd_max_f64(d[i], (-0.0))", c, StringComparison.Ordinal);
            Assert.Contains("rint(d[i])", c, StringComparison.Ordinal);
            Assert.Contains("GD_NAN_F", c, StringComparison.Ordinal);
            Assert.Contains("(mode == ((uchar)2))", c, StringComparison.Ordinal);
            Assert.Contains("gd_table_Kernels_Table[(i % 5)]", c, StringComparison.Ordinal);
        }
        string cl = run.OpenCL(), cu = run.Cuda();
        Assert.Contains("(f[i] = ((fmod(f[i], 3.0f)", cl, StringComparison.Ordinal);
        Assert.Contains("(f[i] = ((fmodf(f[i], 3.0f)", cu, StringComparison.Ordinal);
        Assert.Contains("(-9223372036854775807L - 1L)", cl, StringComparison.Ordinal);
        Assert.Contains("(-9223372036854775807LL - 1LL)", cu, StringComparison.Ordinal);
        Assert.Contains("__constant int gd_table_Kernels_Table[5] = { 1, 2, 3, 5, 8 };", cl, StringComparison.Ordinal);
        Assert.Contains("__constant__ int gd_table_Kernels_Table[5] = { 1, 2, 3, 5, 8 };", cu, StringComparison.Ordinal);
        Assert.Contains("sqrt(f[i])", cl, StringComparison.Ordinal);
        Assert.Contains("sqrtf(f[i])", cu, StringComparison.Ordinal);
        Assert.Contains("#pragma OPENCL FP_CONTRACT OFF", cl, StringComparison.Ordinal);
        Assert.Contains("// Kernels.cs:14", cl, StringComparison.Ordinal);
    }

    [Fact]
    public void Entry_points_follow_the_abi()
    {
        var run = GeneratorHarness.Run(SampleKernels.Saxpy);
        Assert.Contains("__kernel void Saxpy(__global float* y, long y_off, long y_len, __global float* x, long x_off, long x_len, float a, long gd_nx, long gd_ny, long gd_nz)", run.OpenCL(), StringComparison.Ordinal);
        Assert.Contains("y += y_off;", run.OpenCL(), StringComparison.Ordinal);
        Assert.Contains("extern \"C\" __global__ void Saxpy(float* y, long long y_len, float* x, long long x_len, float a, long long gd_nx, long long gd_ny, long long gd_nz)", run.Cuda(), StringComparison.Ordinal);
        Assert.Contains("Program_Saxpy_body((int)gd_i, y, y_len, x, x_len, a);", run.Cuda(), StringComparison.Ordinal);
        Assert.Contains("(y[i] = ((a * x[i]) + y[i]));", run.Cuda(), StringComparison.Ordinal);
        Assert.Contains("key: \"Demo.Program::Saxpy(GpuDeconv.Compute.Index1D,GpuDeconv.Compute.ArrayView`1[System.Single],GpuDeconv.Compute.ArrayView`1[System.Single],System.Single)\"", run.GeneratedCSharp, StringComparison.Ordinal);

        var views = GeneratorHarness.Run(SampleKernels.StructsAndViews);
        string image = views.OpenCL("Image");
        Assert.Contains("__global float* image, long image_off, long image_len, long image_ex, long image_ey", image, StringComparison.Ordinal);
        Assert.Contains("image[gd_offset_densex(index.X, index.Y, image_ex, image_ey)]", image, StringComparison.Ordinal);
        Assert.Contains("output[gd_offset_densey(index.X, index.Y, output_ex, output_ey)]", image, StringComparison.Ordinal);
        Assert.Contains("gd_make_index2((int)(gd_i % gd_nx), (int)((gd_i / gd_nx) % gd_ny))", image, StringComparison.Ordinal);
        Assert.Contains("uchar Valid;", image, StringComparison.Ordinal);
        Assert.Contains("gd_make_lindex3((gd_i % gd_nx), ((gd_i / gd_nx) % gd_ny), (gd_i / (gd_nx * gd_ny)))", views.OpenCL("Volume"), StringComparison.Ordinal);
        Assert.Contains("b[gd_offset_densezy(index.X, index.Y, index.Z, b_ex, b_ey, b_ez)]", views.OpenCL("Volume"), StringComparison.Ordinal);
        Assert.Contains("(flag_u8 != 0)", GeneratorHarness.Run(SampleKernels.Arithmetic).OpenCL(), StringComparison.Ordinal);
    }

    [Fact]
    public void Shared_memory_is_hoisted_and_helpers_are_specialised_per_address_space()
    {
        var run = GeneratorHarness.Run(SampleKernels.Grouped);
        string cl = run.OpenCL(), cu = run.Cuda();
        Assert.Contains("    __local float gd_shared0[128]; // Kernels.cs:16", cl, StringComparison.Ordinal);
        Assert.Contains("    __shared__ float gd_shared0[128]; // Kernels.cs:16", cu, StringComparison.Ordinal);
        Assert.Contains("__local int* hits = &gd_shared1;", cl, StringComparison.Ordinal);
        Assert.Contains("__local uchar* gd_dynamic_shared, long gd_dynamic_bytes)", cl, StringComparison.Ordinal);
        Assert.Contains("long long gd_dynamic_bytes)", cu, StringComparison.Ordinal);
        Assert.Contains("extern __shared__ __align__(16) unsigned char gd_dynamic_shared[];", cu, StringComparison.Ordinal);
        Assert.Contains("GD_FUNC float Kernels_Total_l(__local float* values, long values_len)", cl, StringComparison.Ordinal);
        Assert.Contains("GD_FUNC float Kernels_Total_g(__global float* values, long values_len)", cl, StringComparison.Ordinal);
        Assert.Contains("GD_FUNC float Kernels_Total_p(__private float* values, long values_len)", cl, StringComparison.Ordinal);
        Assert.Contains("GD_FUNC float Kernels_Total(float* values, long long values_len)", cu, StringComparison.Ordinal);
        Assert.Contains("gd_atomic_add_i32_l(hits, 1);", cl, StringComparison.Ordinal);
        Assert.Contains("gd_atomic_add_f32_g(&output[0], tile[0]);", cl, StringComparison.Ordinal);
        Assert.Contains("gd_barrier_popcount(&gd_barrier_slot, (tile[0] > 0.0f))", cl, StringComparison.Ordinal);
        Assert.Contains("__syncthreads_count((tile[0] > 0.0f))", cu, StringComparison.Ordinal);
        Assert.Contains("KernelFeatures.Barrier | global::GpuDeconv.Compute.KernelFeatures.SharedMemory | global::GpuDeconv.Compute.KernelFeatures.DynamicSharedMemory | global::GpuDeconv.Compute.KernelFeatures.Atomics | global::GpuDeconv.Compute.KernelFeatures.FloatAtomics | global::GpuDeconv.Compute.KernelFeatures.Int64Atomics | global::GpuDeconv.Compute.KernelFeatures.Double | global::GpuDeconv.Compute.KernelFeatures.LocalMemory | global::GpuDeconv.Compute.KernelFeatures.GroupIntrinsics", run.GeneratedCSharp, StringComparison.Ordinal);
    }

    private static string Numbered(string text)
    {
        var lines = text.Split('\n');
        int start = Array.FindIndex(lines, l => l.Contains("end of prelude", StringComparison.Ordinal));
        return string.Join("\n", lines.Select((l, i) => (i + 1) + ": " + l).Skip(Math.Max(0, start)));
    }
}
