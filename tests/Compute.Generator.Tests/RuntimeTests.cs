using System.Reflection;
using System.Runtime.Loader;
using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>
/// Compiles a generated assembly in memory and runs its kernels on every accelerator the runtime
/// finds: checks the launchers, the registration key and the C entry ABI end to end.
/// </summary>
[Collection(OpenCLUsers.Name)]
public class RuntimeTests
{
    private const string Source = GeneratorHarness.Usings + """
        namespace EndToEnd;

        public static class Kernels
        {
            public static void Saxpy(Index1D i, ArrayView<float> y, ArrayView<float> x, float a) => y[i] = a * x[i] + y[i];

            // Private: the launcher reaches it through [UnsafeAccessor].
            private static void Fill(ArrayView<int> v, int value, bool addLane)
            {
                var tile = SharedMemory.Allocate<int>(64);
                int g = Grid.GlobalIndex.X;
                tile[Group.IdxX] = value + (addLane ? Group.IdxX : 0);
                Group.Barrier();
                if (g < v.Length) Atomic.Add(ref v[g], tile[Group.IdxX]);
            }

            public static void Plane(Index2D i, ArrayView2D<int, Stride2D.DenseX> v) => v[i] = i.X + 10 * i.Y + Clamp(i.X - 1);

            static int Clamp(int x) => Math.Max(x, 0) << 8;

            public static float[] RunSaxpy(Accelerator accelerator)
            {
                using var y = accelerator.Allocate1D(new float[] { 1, 2, 3, 4, 5 });
                using var x = accelerator.Allocate1D(new float[] { 1, 1, 1, 1, 1 });
                var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(Saxpy);
                kernel(5, y.View, x.View, 2f);
                accelerator.Synchronize();
                return y.GetAsArray1D();
            }

            public static int[] RunFill(Accelerator accelerator)
            {
                using var v = accelerator.Allocate1D<int>(7);
                v.MemSetToZero();
                var kernel = accelerator.LoadStreamKernel<ArrayView<int>, int, bool>(Fill);
                kernel(new KernelConfig(new Index1D(2), new Index1D(4)), v.View, 100, true);
                accelerator.Synchronize();
                return v.GetAsArray1D();
            }

            public static int[] RunPlane(Accelerator accelerator)
            {
                using var v = accelerator.Allocate2DDenseX<int>(new LongIndex2D(3, 2));
                var kernel = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView2D<int, Stride2D.DenseX>>(Plane);
                kernel(new Index2D(3, 2), v.View);
                accelerator.Synchronize();
                return v.View.BaseView.GetAsArray1D();
            }
        }
        """;

    private static readonly Lazy<Type> Kernels = new(() =>
    {
        var run = GeneratorHarness.Run(Source);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, string.Join("\n", run.GeneratorDiagnostics));
        Assert.True(run.CompilationDiagnostics.IsEmpty, string.Join("\n", run.CompilationDiagnostics));
        using var stream = new MemoryStream();
        var emit = GeneratorHarness.LastCompilation!.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        stream.Position = 0;
        var assembly = AssemblyLoadContext.Default.LoadFromStream(stream);
        return assembly.GetType("EndToEnd.Kernels", throwOnError: true)!;
    });

    public static TheoryData<string> AcceleratorTypes() => new() { "CPU", "OpenCL", "Cuda" };

    private static void OnEach(string type, Action<Accelerator> test)
    {
        using var context = Context.CreateDefault();
        var device = context.Devices.FirstOrDefault(d => d.AcceleratorType.ToString() == type);
        if (device == null) Assert.Skip($"no {type} device here ({string.Join(", ", context.Devices.Select(d => d.AcceleratorType + " " + d.Name))})");
        using var accelerator = device.CreateAccelerator(context);
        test(accelerator);
    }

    private static T Call<T>(string name, Accelerator accelerator)
    {
        try
        {
            return (T)Kernels.Value.GetMethod(name)!.Invoke(null, new object[] { accelerator })!;
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            throw e.InnerException;
        }
    }

    [Theory]
    [MemberData(nameof(AcceleratorTypes))]
    public void Implicit_1D_kernel_runs(string type) =>
        OnEach(type, a => Assert.Equal(new float[] { 3, 4, 5, 6, 7 }, Call<float[]>("RunSaxpy", a)));

    [Theory]
    [MemberData(nameof(AcceleratorTypes))]
    public void Private_explicit_kernel_with_shared_memory_barrier_and_atomics_runs(string type) =>
        OnEach(type, a => Assert.Equal(new[] { 100, 101, 102, 103, 100, 101, 102 }, Call<int[]>("RunFill", a)));

    [Theory]
    [MemberData(nameof(AcceleratorTypes))]
    public void Implicit_2D_kernel_on_a_2D_view_runs(string type) =>
        OnEach(type, a => Assert.Equal(new[] { 0, 1, 2 + 256, 10, 11, 12 + 256 }, Call<int[]>("RunPlane", a)));
}
