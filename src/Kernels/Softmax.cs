// Softmax over the last axis, numerically stable: y[b,k] = exp(z[b,k] - m_b) / S_b with m_b = max_k z[b,k] and
// S_b = sum_k exp(z[b,k] - m_b) (tf.nn.softmax; subtracting the row max keeps exp from overflowing).
//
//   logits: [B, K], output: [B, K].
//
// Two passes: per-row statistics (m, S and, for soft-label cross entropy, P = sum_k p[b,k] and
// Q = sum_k p[b,k] (z[b,k] - m)) into scratch [B, 4], then an elementwise pass. The statistics take one thread per
// row when K <= ThreadPerRowMaxClasses (K = 10 for CIFAR/MNIST: a group per row would idle), otherwise one group of
// 256 lanes per row with shared-memory trees (max, then the three sums), so a K = 1000 row is read coalesced.
// SoftmaxCrossEntropy reuses the statistics. A row of all -inf, or one holding +inf or NaN, gives NaN.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Row-wise softmax of [B, K] logits (max-subtracted).</summary>
public static class Softmax
{
    /// <summary>Lanes per group of the group-per-row statistics kernel.</summary>
    public const int GroupSize = 256;

    /// <summary>Rows with at most this many classes are handled by one thread each.</summary>
    public const int ThreadPerRowMaxClasses = 64;

    // Row statistics layout: [B, Stats] = (max, sum of exp(z - max), sum of p, sum of p (z - max)).
    internal const int Stats = 4;

    /// <summary>output[b, k] = exp(logits[b, k] - max_k logits[b, :]) / sum_j exp(logits[b, j] - max_k logits[b, :]).</summary>
    /// <exception cref="ArgumentException">logits is not rank 2, output is not logits' shape, or a view is on another accelerator.</exception>
    public static void Forward(AcceleratorStream s, TensorView<float> logits, TensorView<float> output)
    {
        const string op = "Softmax.Forward";
        ArgumentNullException.ThrowIfNull(s);
        ShapeCheck.Tensor(op, nameof(logits), logits, 2, "[B, K]");
        ShapeCheck.View(op, nameof(output), output);
        ShapeCheck.SameAccelerator(op, s, nameof(logits), logits);
        ShapeCheck.SameAccelerator(op, s, nameof(output), output);
        ShapeCheck.Equal(op, nameof(output), output.Shape, logits.Shape, "the shape of logits");
        RequireIntSize(op, nameof(logits), logits.Shape);
        if (logits.Shape.Size == 0) return;
        int rows = logits.Shape[0], classes = logits.Shape[1];
        var stats = RowStats(s, logits.Data, rows, classes, logits.Data, dense: false);
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(NormalizeKernel)(
            s, rows * classes, logits.Data, stats, output.Data, classes);
    }

    /// <summary>
    /// Queues the per-row statistics of [rows, classes] logits into scratch (slot SplitK) and returns them as
    /// [rows, Stats]; with <paramref name="dense"/> the label sums P and Q are filled from <paramref name="labels"/>.
    /// </summary>
    internal static ArrayView<float> RowStats(AcceleratorStream s, ArrayView<float> logits, int rows, int classes, ArrayView<float> labels, bool dense)
    {
        var stats = Scratch.Get<float>(s, Scratch.SplitK, (long)rows * Stats);
        int hasLabels = dense ? 1 : 0;
        if (classes <= ThreadPerRowMaxClasses)
        {
            s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(StatsPerRowKernel)(
                s, rows, logits, labels, stats, classes, hasLabels);
        }
        else
        {
            s.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(StatsPerGroupKernel)(
                s, new KernelConfig(rows, GroupSize), logits, labels, stats, classes, hasLabels);
        }
        return stats;
    }

    internal static void RequireIntSize(string op, string name, Shape shape)
    {
        // The row statistics hold Stats values per row in the same 32-bit index space.
        if (shape.Size > int.MaxValue || (shape.Rank > 0 && (long)shape[0] * Stats > int.MaxValue))
            throw new ArgumentException($"{op}: {name} {shape} has {shape.Size} elements; at most {int.MaxValue} elements and {int.MaxValue / Stats} rows are supported (32-bit indexing).", name);
    }

    /// <summary>One thread per row: two passes over the row (max, then the exp and label sums in increasing k).</summary>
    private static void StatsPerRowKernel(Index1D row, ArrayView<float> logits, ArrayView<float> labels, ArrayView<float> stats, int classes, int hasLabels)
    {
        int b = row;
        int rowBase = b * classes;
        float max = float.NegativeInfinity;
        for (int k = 0; k < classes; k++)
            max = Math.Max(max, logits[rowBase + k]);
        float sumExp = 0f, sumP = 0f, sumPz = 0f;
        for (int k = 0; k < classes; k++)
        {
            float shifted = logits[rowBase + k] - max;
            sumExp += MathF.Exp(shifted);
            if (hasLabels != 0)
            {
                float p = labels[rowBase + k];
                sumP += p;
                sumPz += p * shifted;
            }
        }
        stats[b * Stats] = max;
        stats[b * Stats + 1] = sumExp;
        stats[b * Stats + 2] = sumP;
        stats[b * Stats + 3] = sumPz;
    }

    /// <summary>One group per row: lanes stride through the row (coalesced), shared-memory trees combine the lanes.</summary>
    private static void StatsPerGroupKernel(ArrayView<float> logits, ArrayView<float> labels, ArrayView<float> stats, int classes, int hasLabels)
    {
        var shared = SharedMemory.Allocate<float>(GroupSize * 3);
        int lane = Group.IdxX;
        int b = Grid.IdxX;
        int rowBase = b * classes;

        float laneMax = float.NegativeInfinity;
        for (int k = lane; k < classes; k += GroupSize)
            laneMax = Math.Max(laneMax, logits[rowBase + k]);
        shared[lane] = laneMax;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (lane < half)
                shared[lane] = Math.Max(shared[lane], shared[lane + half]);
            Group.Barrier();
        }
        float max = shared[0];
        // Every lane has read the max before the slots are reused.
        Group.Barrier();

        float sumExp = 0f, sumP = 0f, sumPz = 0f;
        for (int k = lane; k < classes; k += GroupSize)
        {
            float shifted = logits[rowBase + k] - max;
            sumExp += MathF.Exp(shifted);
            if (hasLabels != 0)
            {
                float p = labels[rowBase + k];
                sumP += p;
                sumPz += p * shifted;
            }
        }
        shared[lane] = sumExp;
        shared[GroupSize + lane] = sumP;
        shared[2 * GroupSize + lane] = sumPz;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (lane < half)
            {
                shared[lane] += shared[lane + half];
                shared[GroupSize + lane] += shared[GroupSize + lane + half];
                shared[2 * GroupSize + lane] += shared[2 * GroupSize + lane + half];
            }
            Group.Barrier();
        }
        if (lane == 0)
        {
            stats[b * Stats] = max;
            stats[b * Stats + 1] = shared[0];
            stats[b * Stats + 2] = shared[GroupSize];
            stats[b * Stats + 3] = shared[2 * GroupSize];
        }
    }

    /// <summary>One thread per element: exp(z - m_b) / S_b.</summary>
    private static void NormalizeKernel(Index1D index, ArrayView<float> logits, ArrayView<float> stats, ArrayView<float> output, int classes)
    {
        int i = index;
        int b = i / classes;
        output[i] = MathF.Exp(logits[i] - stats[b * Stats]) / stats[b * Stats + 1];
    }
}
