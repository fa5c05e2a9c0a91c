using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>Which barrier kernels get a CPU region-split body, which keep thread-per-lane, and that the split code compiles.</summary>
public class RegionSplitTests
{
    private const string Split = "CPU: region-split body";
    private const string Fallback = "CPU: one thread per lane, not region-split: ";

    private static GeneratorRun Run(string kernel)
    {
        var run = GeneratorHarness.RunKernels("private const int N = 64;\n" + kernel);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, string.Join("\n", run.GeneratorDiagnostics));
        Assert.True(run.CompilationDiagnostics.IsEmpty, string.Join("\n", run.CompilationDiagnostics));
        Assert.NotNull(run.GeneratedCSharp);
        return run;
    }

    private const string PrivateHelpers =
        """
        static float Twice(float x) => 2f * x;
        static void Store(ArrayView<float> data, int i, float value) { data[i] = value; }
        [Kernel] static void K(ArrayView<float> data)
        {
            var s = SharedMemory.Allocate<float>(N);
            s[Group.IdxX] = Twice(data[Grid.GlobalIndex.X]);
            Group.Barrier();
            Store(data, Grid.GlobalIndex.X, s[N - 1 - Group.IdxX]);
        }
        """;

    public static TheoryData<string, string> Splittable() => new()
    {
        {
            "reduction loop with private constant",
            """
            [Kernel] static void K(ArrayView<float> input, ArrayView<float> output)
            {
                var shared = SharedMemory.Allocate<float>(N);
                int global = Grid.GlobalIndex.X;
                shared[Group.IdxX] = global < input.Length ? input[global] : 0f;
                Group.Barrier();
                for (int stride = Group.DimX / 2; stride > 0; stride /= 2)
                {
                    if (Group.IdxX < stride) shared[Group.IdxX] += shared[Group.IdxX + stride];
                    Group.Barrier();
                }
                if (Group.IsFirstThread) output[Grid.IdxX] = shared[0];
            }
            """
        },
        {
            "popcount, and, or and a ref shared variable",
            """
            [Kernel] static void K(ArrayView<int> flags, ArrayView<int> results)
            {
                ref int counter = ref SharedMemory.Allocate<int>();
                bool flag = flags[Grid.GlobalIndex.X] != 0;
                int count = Group.BarrierPopCount(flag);
                bool all;
                all = Group.BarrierAnd(flag);
                Group.BarrierOr(flag);
                Atomic.Add(ref counter, count);
                Group.Barrier();
                results[Grid.GlobalIndex.X] = counter + (all ? 1 : 0);
            }
            """
        },
        {
            "while, do and nested blocks",
            """
            [Kernel] static void K(ArrayView<int> data)
            {
                var s = SharedMemory.Allocate<int>(N);
                int i = 0;
                while (i < 3)
                {
                    s[Group.IdxX] += i;
                    Group.Barrier();
                    i++;
                }
                do
                {
                    { int t = s[Group.IdxX]; Group.Barrier(); s[Group.IdxX] = t + 1; }
                    { int t = 2; Group.Barrier(); s[Group.IdxX] += t; }
                    i--;
                } while (i > 0);
                data[Grid.GlobalIndex.X] = s[Group.IdxX];
            }
            """
        },
        {
            "early return outside barrier loops",
            """
            [Kernel] static void K(ArrayView<int> data)
            {
                var s = SharedMemory.Allocate<int>(N);
                s[Group.IdxX] = Group.IdxX;
                Group.Barrier();
                if (Group.IdxX >= 10) return;
                for (int k = 0; k < 4; k++) { if (k == 2) break; data[Grid.GlobalIndex.X] += s[k]; }
            }
            """
        },
        { "private helpers, called through UnsafeAccessor", PrivateHelpers },
    };

    [Fact]
    public void Private_helpers_of_split_kernels_are_reached_through_unsafe_accessors()
    {
        var run = Run(PrivateHelpers);
        Assert.Contains("UnsafeAccessorKind.StaticMethod, Name = \"Twice\"", run.SplitCSharp, StringComparison.Ordinal);
        Assert.Contains("UnsafeAccessorKind.StaticMethod, Name = \"Store\"", run.SplitCSharp, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Splittable))]
    public void Splittable_kernels_get_a_region_split_body_that_compiles(string name, string kernel)
    {
        var run = Run(kernel);
        Assert.True(run.GeneratedCSharp!.Contains(Split, StringComparison.Ordinal), name + ":\n" + run.GeneratedCSharp);
        Assert.DoesNotContain(Fallback, run.GeneratedCSharp, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> NotSplittable() => new()
    {
        {
            "barrier inside an if",
            "[Kernel] static void K(ArrayView<int> d) { if (Group.IdxX < 4) { Group.Barrier(); } d[0] = 1; }",
            "a barrier is inside an if statement"
        },
        {
            "barrier in a helper",
            "static void Sync() => Group.Barrier();\n[Kernel] static void K(ArrayView<int> d) { d[Grid.GlobalIndex.X] = 1; Sync(); Group.Barrier(); }",
            "helper Sync"
        },
        {
            "break in a barrier loop",
            "[Kernel] static void K(ArrayView<int> d) { for (int i = 0; i < 4; i++) { Group.Barrier(); if (d[0] == i) break; } }",
            "break or continue"
        },
        {
            "return in a barrier loop",
            "[Kernel] static void K(ArrayView<int> d) { for (int i = 0; i < 4; i++) { Group.Barrier(); if (d[0] == i) return; } }",
            "return inside a loop"
        },
        {
            "shared allocation in a nested block",
            "[Kernel] static void K(ArrayView<int> d) { { var s = SharedMemory.Allocate<int>(N); s[0] = 1; } Group.Barrier(); }",
            "SharedMemory.Allocate"
        },
        {
            "popcount inside a larger expression",
            "[Kernel] static void K(ArrayView<int> d) { d[Grid.GlobalIndex.X] = 1 + Group.BarrierPopCount(true); }",
            "a barrier is inside"
        },
    };

    [Theory]
    [MemberData(nameof(NotSplittable))]
    public void Unsplittable_kernels_fall_back_to_thread_per_lane_and_say_why(string name, string kernel, string reason)
    {
        var run = Run(kernel);
        Assert.True(run.GeneratedCSharp!.Contains(Fallback, StringComparison.Ordinal), name + ":\n" + run.GeneratedCSharp);
        Assert.True(run.GeneratedCSharp.Contains(reason, StringComparison.Ordinal), name + ": expected reason containing '" + reason + "':\n" + run.GeneratedCSharp);
        Assert.DoesNotContain(Split, run.GeneratedCSharp, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernels_without_barriers_are_not_split()
    {
        var run = Run("[Kernel] static void K(ArrayView<int> d) { var s = SharedMemory.Allocate<int>(N); s[Group.IdxX] = 1; d[Grid.GlobalIndex.X] = s[Group.IdxX]; }");
        Assert.DoesNotContain(Split, run.GeneratedCSharp!, StringComparison.Ordinal);
        Assert.DoesNotContain(Fallback, run.GeneratedCSharp!, StringComparison.Ordinal);
    }
}
