// tf.transpose with an explicit permutation, rank <= 6.
//   x: [d0, ..., d(r-1)]; permutation: each of 0..r-1 once; output: [d(p0), ..., d(p(r-1))] (tf.transpose's shape
//   rule: output axis j is input axis p[j]), so output[i0, ..., i(r-1)] = x at index i_j on axis p[j].
// The permutation is first simplified: axes of size 1 are dropped and runs of output axes that are consecutive
// input axes are merged (NHWC -> NCHW, perm [0,3,1,2], becomes [N, H*W, C] with perm [0,2,1]). Then:
//   - nothing left to move: a plain device copy;
//   - a (batched) swap of the last two axes, [B, R, C] -> [B, C, R], with R and C at least 8: the shared-memory
//     tile kernel. Groups of Tile x TileRows = 32x8 threads own a 32x32 tile; each thread loads 4 rows of it
//     (reads coalesced along C), the tile is read back transposed (writes coalesced along R); the tile is 32x33 so
//     that the column reads hit 32 different shared-memory banks. Grid: (tiles of the [R, C] plane,
//     min(B, 65535)), each group looping over the batches;
//   - anything else (thin planes such as NHWC -> NCHW with C = 3 included): one thread per output element (writes
//     coalesced) that decodes its output coordinates and gathers from the input through the permuted strides.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>
/// The simplified permutation handed to the general kernel, padded at the front to six axes of size 1:
/// output axis j has size <c>DimJ</c> and moves through the input with stride <c>StrideJ</c>.
/// </summary>
internal struct TransposeGeometry
{
    /// <summary>Output axis sizes, outermost first.</summary>
    public int Dim0, Dim1, Dim2, Dim3, Dim4, Dim5;

    /// <summary>The input stride (in elements) of the input axis that feeds each output axis.</summary>
    public int Stride0, Stride1, Stride2, Stride3, Stride4, Stride5;
}

/// <summary>tf.transpose: permutes the axes of a tensor of rank at most 6.</summary>
public static class Transpose
{
    /// <summary>The largest rank supported.</summary>
    public const int MaxRank = 6;

    /// <summary>The side of the square tiles of the last-two-axes kernel.</summary>
    public const int Tile = 32;

    /// <summary>Rows of a tile each group covers per step: groups are Tile x TileRows = 256 threads, each moving Tile / TileRows elements.</summary>
    public const int TileRows = 8;

    /// <summary>The smallest rows and columns for which the tile kernel is used; thinner planes would leave most of each 32x32 tile idle, and their gather stays within a few cache lines anyway.</summary>
    public const int MinTiledSide = 8;

    private const int MaxGridY = 65535;

    /// <summary>output = x with its axes permuted: output axis j is input axis permutation[j].</summary>
    /// <exception cref="ArgumentException">The rank exceeds 6, the permutation does not list every axis exactly once, output's shape is not the permuted shape, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> x, ReadOnlySpan<int> permutation, TensorView<float> output)
    {
        const string op = "Transpose.Forward";
        ArgumentNullException.ThrowIfNull(stream);
        ShapeCheck.View(op, "x", x);
        int rank = x.Shape.Rank;
        if (rank > MaxRank)
            throw new ArgumentException($"{op}: x has shape {x.Shape} of rank {rank}; at most rank {MaxRank} is supported.", nameof(x));
        CheckPermutation(op, x.Shape, permutation);
        var dims = new int[rank];
        for (int j = 0; j < rank; j++) dims[j] = x.Shape[permutation[j]];
        ShapeCheck.View(op, "output", output);
        ShapeCheck.Equal(op, "output", output.Shape, new Shape(dims), $"x's shape {x.Shape} permuted by {Shape.Format(permutation)}");
        ShapeCheck.SameAccelerator(op, stream, "x", x);
        ShapeCheck.SameAccelerator(op, stream, "output", output);
        int n = Elementwise.CheckedSize(op, "x", x.Shape);
        if (n == 0) return;

        Simplify(x.Shape.AsSpan(), permutation, out int[] inDims, out int[] perm);
        int m = inDims.Length;
        if (IsIdentity(perm))
        {
            x.Data.CopyTo(stream, output.Data);
            return;
        }
        bool swapsLastTwo = (m == 2 && perm[0] == 1) || (m == 3 && perm[0] == 0 && perm[1] == 2);
        if (swapsLastTwo && Math.Min(inDims[m - 2], inDims[m - 1]) >= MinTiledSide)
        {
            int batch = m == 3 ? inDims[0] : 1, rows = inDims[m - 2], cols = inDims[m - 1];
            int tilesX = (cols + Tile - 1) / Tile, tilesY = (rows + Tile - 1) / Tile;
            var config = new KernelConfig(new Index2D(tilesX * tilesY, Math.Min(batch, MaxGridY)), new Index2D(Tile, TileRows));
            stream.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int, int, int, int>(TileKernel)(
                stream, config, x.Data, output.Data, batch, rows, cols, tilesX);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, TransposeGeometry>(GeneralKernel)(
            stream, n, x.Data, output.Data, Geometry(inDims, perm));
    }

    /// <summary>
    /// Drops axes of size 1 and merges runs of output axes that are consecutive input axes; the result describes the same
    /// data movement with the fewest axes (<paramref name="perm"/> over <paramref name="inDims"/>, possibly empty).
    /// </summary>
    public static void Simplify(ReadOnlySpan<int> shape, ReadOnlySpan<int> permutation, out int[] inDims, out int[] perm)
    {
        int rank = shape.Length;
        // New numbers for the input axes that are kept (size > 1), in input order.
        var renumber = new int[rank];
        int kept = 0;
        for (int d = 0; d < rank; d++) renumber[d] = shape[d] == 1 ? -1 : kept++;
        var keptPerm = new List<int>(kept);
        var keptDims = new int[kept];
        for (int d = 0; d < rank; d++)
            if (renumber[d] >= 0) keptDims[renumber[d]] = shape[d];
        foreach (int p in permutation)
            if (renumber[p] >= 0) keptPerm.Add(renumber[p]);

        // Output runs p, p+1, ... become one axis. Group the input axes by the run that starts them.
        var runStart = new bool[kept];
        for (int j = 0; j < keptPerm.Count; j++)
            if (j == 0 || keptPerm[j] != keptPerm[j - 1] + 1) runStart[keptPerm[j]] = true;
        var merged = new int[kept];
        var mergedDims = new List<int>();
        for (int d = 0; d < kept; d++)
        {
            if (runStart[d]) mergedDims.Add(keptDims[d]);
            else mergedDims[^1] *= keptDims[d];
            merged[d] = mergedDims.Count - 1;
        }
        inDims = mergedDims.ToArray();
        var mergedPerm = new List<int>();
        for (int j = 0; j < keptPerm.Count; j++)
            if (runStart[keptPerm[j]]) mergedPerm.Add(merged[keptPerm[j]]);
        perm = mergedPerm.ToArray();
    }

    /// <summary>Last-two-axes swap of [batch, rows, cols] into [batch, cols, rows] through a 32x33 shared-memory tile (groups of Tile x TileRows).</summary>
    public static void TileKernel(ArrayView<float> x, ArrayView<float> output, int batch, int rows, int cols, int tilesX)
    {
        var tile = SharedMemory.Allocate<float>(Tile * (Tile + 1));
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int col0 = (Grid.IdxX % tilesX) * Tile;
        int row0 = (Grid.IdxX / tilesX) * Tile;
        int plane = rows * cols;
        for (int b = Grid.IdxY; b < batch; b += Grid.DimY)
        {
            int start = b * plane;
            // Load rows row0..row0+31 of the tile: consecutive tx read consecutive columns.
            for (int k = 0; k < Tile; k += TileRows)
            {
                int row = row0 + ty + k;
                int col = col0 + tx;
                if (row < rows && col < cols) tile[(ty + k) * (Tile + 1) + tx] = x[start + row * cols + col];
            }
            Group.Barrier();
            // Store column col0+ty+k of the input as row col0+ty+k of the output: consecutive tx write consecutive rows.
            for (int k = 0; k < Tile; k += TileRows)
            {
                int col = col0 + ty + k;
                int row = row0 + tx;
                if (row < rows && col < cols) output[start + col * rows + row] = tile[tx * (Tile + 1) + ty + k];
            }
            Group.Barrier();
        }
    }

    /// <summary>General permutation: output element i decodes its coordinates (axis 5 fastest) and reads x through the permuted strides.</summary>
    internal static void GeneralKernel(Index1D i, ArrayView<float> x, ArrayView<float> output, TransposeGeometry g)
    {
        int rest = i;
        int source = 0;
        int c = rest % g.Dim5;
        rest /= g.Dim5;
        source += c * g.Stride5;
        c = rest % g.Dim4;
        rest /= g.Dim4;
        source += c * g.Stride4;
        c = rest % g.Dim3;
        rest /= g.Dim3;
        source += c * g.Stride3;
        c = rest % g.Dim2;
        rest /= g.Dim2;
        source += c * g.Stride2;
        c = rest % g.Dim1;
        rest /= g.Dim1;
        source += c * g.Stride1 + rest * g.Stride0;
        output[i] = x[source];
    }

    private static TransposeGeometry Geometry(int[] inDims, int[] perm)
    {
        int m = inDims.Length;
        var strides = new int[m];
        int stride = 1;
        for (int d = m - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= inDims[d];
        }
        // Output axis j of the simplified problem lands at slot 6 - m + j; the slots before it are size-1 axes.
        var dims = new int[MaxRank];
        var steps = new int[MaxRank];
        for (int s = 0; s < MaxRank; s++) dims[s] = 1;
        for (int j = 0; j < m; j++)
        {
            dims[MaxRank - m + j] = inDims[perm[j]];
            steps[MaxRank - m + j] = strides[perm[j]];
        }
        var g = new TransposeGeometry
        {
            Dim0 = dims[0], Dim1 = dims[1], Dim2 = dims[2], Dim3 = dims[3], Dim4 = dims[4], Dim5 = dims[5],
            Stride0 = steps[0], Stride1 = steps[1], Stride2 = steps[2], Stride3 = steps[3], Stride4 = steps[4], Stride5 = steps[5],
        };
        return g;
    }

    private static bool IsIdentity(int[] perm)
    {
        for (int j = 0; j < perm.Length; j++)
            if (perm[j] != j) return false;
        return true;
    }

    private static void CheckPermutation(string op, Shape shape, ReadOnlySpan<int> permutation)
    {
        int rank = shape.Rank;
        string listed = Shape.Format(permutation);
        if (permutation.Length != rank)
            throw new ArgumentException($"{op}: permutation {listed} has {permutation.Length} entries but x {shape} has rank {rank}; it must list each axis 0..{rank - 1} exactly once.", nameof(permutation));
        var seen = new bool[rank];
        for (int j = 0; j < rank; j++)
        {
            int p = permutation[j];
            if (p < 0 || p >= rank)
                throw new ArgumentException($"{op}: permutation {listed} for x {shape}: entry {j} is {p}, outside 0..{rank - 1}; it must list each axis exactly once.", nameof(permutation));
            if (seen[p])
                throw new ArgumentException($"{op}: permutation {listed} for x {shape}: axis {p} appears twice; it must list each axis 0..{rank - 1} exactly once.", nameof(permutation));
            seen[p] = true;
        }
    }
}
