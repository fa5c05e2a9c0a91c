using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Transpose.cs: every permutation of rank-3 and rank-4 tensors, the tiled last-two-axes path on sizes that do not
// divide the 32x32 tile, rank 0/1/6, size-1 axes, the axis simplification, and the errors. A transpose moves
// floats without arithmetic, so every result must be bit-identical to the reference.
public sealed class TransposeTests
{
    public static TheoryData<string, int[]> Rank3And4
    {
        get
        {
            var data = new TheoryData<string, int[]>();
            foreach (string name in AcceleratorCatalog.Names)
            {
                data.Add(name, [2, 3, 5]);
                data.Add(name, [2, 3, 4, 5]);
                data.Add(name, [3, 1, 33, 2]); // a size-1 axis and a side longer than the tile
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(Rank3And4))]
    public void EveryPermutationMatchesTheReference(string accelerator, int[] shape)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        float[] x = Host.Random(51, new Shape(shape).Size);
        var xv = scope.Upload(x, shape);
        foreach (var perm in Permutations(shape.Length))
            Run(scope, x, xv, shape, perm);
    }

    public static TheoryData<string, int[], int[]> TiledCases
    {
        get
        {
            var data = new TheoryData<string, int[], int[]>();
            (int[] Shape, int[] Perm)[] cases =
            [
                ([1, 1], [1, 0]),
                ([1, 33], [1, 0]),
                ([33, 1], [1, 0]),
                ([31, 65], [1, 0]),
                ([100, 37], [1, 0]),
                ([64, 64], [1, 0]),
                ([3, 33, 47], [0, 2, 1]),
                ([2, 5, 7, 3], [0, 3, 1, 2]),   // NHWC -> NCHW with C = 3: [2, 35, 3] swapped, too thin to tile
                ([2, 9, 40, 17], [0, 3, 1, 2]), // NHWC -> NCHW tiled: [2, 360, 17] swapped
                ([2, 17, 5, 7], [0, 2, 3, 1]),  // NCHW -> NHWC tiled: [2, 17, 35] swapped
                ([128, 3, 4, 2], [0, 3, 1, 2]), // batch 128
                ([7000, 2, 3], [0, 2, 1]),      // many thin planes
                ([4, 9, 5], [2, 0, 1]),         // merges to a 2-D swap [36, 5] -> [5, 36]
                ([2, 3, 4, 5, 6, 7], [5, 3, 1, 4, 0, 2]), // rank 6, general path
                ([2, 3, 4, 5, 6, 1], [0, 1, 2, 3, 5, 4]), // only a size-1 axis moves: a copy
                ([], []),
                ([9], [0]),
            ];
            foreach (string name in AcceleratorCatalog.Names)
                foreach (var (shape, perm) in cases)
                    data.Add(name, shape, perm);
            return data;
        }
    }

    [Theory, MemberData(nameof(TiledCases))]
    public void AwkwardShapesMatchTheReference(string accelerator, int[] shape, int[] perm)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        float[] x = Host.Random(52, new Shape(shape).Size);
        Run(scope, x, scope.Upload(x, shape), shape, perm);
    }

    // The tile kernel loops over batches when there are more than grid rows (65535 in a real launch): here 2 rows for 5.
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TileKernelLoopsOverBatchesBeyondTheGrid(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        int[] shape = [5, 40, 33];
        float[] x = Host.Random(53, 5 * 40 * 33);
        var output = scope.Allocate<float>(5, 33, 40);
        int tilesX = 2, tilesY = 2;
        var config = new KernelConfig(new Index2D(tilesX * tilesY, 2), new Index2D(Transpose.Tile, Transpose.TileRows));
        acc.LoadKernel<ArrayView<float>, ArrayView<float>, int, int, int, int>(Transpose.TileKernel)(
            acc.DefaultStream, config, scope.Upload(x, shape).Data, output.Data, 5, 40, 33, tilesX);
        Check.Equal<float>(Reference(x, shape, [0, 2, 1]), Host.Download(output), "5 batches on 2 grid rows");
    }

    [Fact]
    public void SimplificationDropsUnitAxesAndMergesRuns()
    {
        Transpose.Simplify([2, 5, 7, 3], [0, 3, 1, 2], out int[] dims, out int[] perm);
        Assert.Equal([2, 35, 3], dims);
        Assert.Equal([0, 2, 1], perm);
        Transpose.Simplify([1, 5, 7, 3], [0, 3, 1, 2], out dims, out perm);
        Assert.Equal([35, 3], dims);
        Assert.Equal([1, 0], perm);
        Transpose.Simplify([4, 9, 5], [2, 0, 1], out dims, out perm);
        Assert.Equal([36, 5], dims);
        Assert.Equal([1, 0], perm);
        Transpose.Simplify([2, 1, 3], [1, 2, 0], out dims, out perm);
        Assert.Equal([2, 3], dims);
        Assert.Equal([1, 0], perm);
        Transpose.Simplify([2, 3, 4], [0, 1, 2], out dims, out perm);
        Assert.Equal([24], dims);
        Assert.Equal([0], perm);
        Transpose.Simplify([2, 3, 4, 5], [3, 1, 2, 0], out dims, out perm);
        Assert.Equal([2, 12, 5], dims);
        Assert.Equal([2, 1, 0], perm);
    }

    [Fact]
    public void ErrorsNameTheOpTheShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        var x = scope.Allocate<float>(2, 3, 4);
        var output = scope.Allocate<float>(4, 2, 3);
        var error = Assert.Throws<ArgumentException>(() => Transpose.Forward(stream, x, [0, 0, 1], output));
        Assert.Contains("Transpose.Forward: permutation [0, 0, 1] for x [2, 3, 4]: axis 0 appears twice", error.Message);
        error = Assert.Throws<ArgumentException>(() => Transpose.Forward(stream, x, [0, 3, 1], output));
        Assert.Contains("entry 1 is 3, outside 0..2", error.Message);
        error = Assert.Throws<ArgumentException>(() => Transpose.Forward(stream, x, [1, 0], output));
        Assert.Contains("permutation [1, 0] has 2 entries but x [2, 3, 4] has rank 3", error.Message);
        error = Assert.Throws<ArgumentException>(() => Transpose.Forward(stream, x, [1, 2, 0], output));
        Assert.Contains("Transpose.Forward: output must have shape [3, 4, 2] (x's shape [2, 3, 4] permuted by [1, 2, 0]), but it is [4, 2, 3]", error.Message);
        var big = scope.Allocate<float>(1, 1, 1, 1, 1, 1, 1);
        error = Assert.Throws<ArgumentException>(() => Transpose.Forward(stream, big, [0, 1, 2, 3, 4, 5, 6], big));
        Assert.Contains("rank 7; at most rank 6", error.Message);
    }

    private static void Run(TensorScope scope, float[] x, TensorView<float> xv, int[] shape, int[] perm)
    {
        var outShape = new int[shape.Length];
        for (int j = 0; j < shape.Length; j++) outShape[j] = shape[perm[j]];
        var output = scope.Allocate<float>(outShape);
        Transpose.Forward(scope.Stream, xv, perm, output);
        Check.Equal<float>(Reference(x, shape, perm), Host.Download(output), $"transpose {new Shape(shape)} by {Shape.Format(perm)}");
    }

    // output[c] = x[c'] where c'[perm[j]] = c[j]: walks output coordinates.
    private static float[] Reference(float[] x, int[] shape, int[] perm)
    {
        int rank = shape.Length;
        var result = new float[x.Length];
        var coord = new int[rank];
        for (int i = 0; i < result.Length; i++)
        {
            int rest = i;
            for (int j = rank - 1; j >= 0; j--)
            {
                coord[j] = rest % shape[perm[j]];
                rest /= shape[perm[j]];
            }
            var source = new int[rank];
            for (int j = 0; j < rank; j++) source[perm[j]] = coord[j];
            int flat = 0;
            for (int d = 0; d < rank; d++) flat = flat * shape[d] + source[d];
            result[i] = x[flat];
        }
        return result;
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0)
        {
            yield return [];
            yield break;
        }
        foreach (var rest in Permutations(n - 1))
            for (int at = 0; at <= rest.Length; at++)
            {
                var p = new List<int>(rest);
                p.Insert(at, n - 1);
                yield return p.ToArray();
            }
    }
}
