// Softmax cross entropy, fused and numerically stable:
//   tf.nn.sparse_softmax_cross_entropy_with_logits: logits [B, K], labels int [B] (0 <= label < K), losses [B]
//     loss_b = log S_b - (z[b, label_b] - m_b)
//   tf.nn.softmax_cross_entropy_with_logits: logits [B, K], labels float [B, K] (one-hot or soft), losses [B]
//     loss_b = sum_k p[b,k] (log S_b - (z[b,k] - m_b)) = log S_b * P_b - Q_b
//   with m_b = max_k z[b,k], S_b = sum_k exp(z[b,k] - m_b), P_b = sum_k p[b,k], Q_b = sum_k p[b,k] (z[b,k] - m_b)
//   (TF's xent_op: loss = sum(labels * (log(sum(exp(z - max))) - (z - max)))). Because z - m <= 0 and S >= 1,
//   logits of +-1000 give finite losses.
// Backward (TF's fused gradient, also for soft labels that do not sum to 1):
//   dlogits[b,k] = lossGrad[b] * (softmax(z_b)_k - p[b,k]), p = one_hot(label) for int labels.
// Row statistics come from Softmax.RowStats (thread per row for K <= 64, a group of 256 per row above); the loss and
// gradient passes are then one thread per row / per element.
//
// Out-of-range int labels: TF's CPU kernel raises InvalidArgument, its GPU kernel returns NaN. Labels here live on the
// device and are not read back, so a row whose label is outside [0, K) gets a NaN loss and a NaN gradient row (and
// never counts as correct in MeanLossAndCorrect).
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Fused, max-subtracted softmax cross entropy with int class labels or float (one-hot / soft) labels.</summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>Lanes of the single group of <see cref="MeanLossAndCorrect"/>.</summary>
    public const int GroupSize = 256;

    /// <summary>losses[b] = -log softmax(logits[b])[labels[b]] (sparse labels; a label outside [0, K) gives NaN).</summary>
    /// <exception cref="ArgumentException">logits is not [B, K] with K &gt;= 1, labels or losses is not [B], or a view is on another accelerator.</exception>
    public static void Forward(AcceleratorStream s, TensorView<float> logits, TensorView<int> labels, TensorView<float> losses)
    {
        const string op = "SoftmaxCrossEntropy.Forward";
        var (rows, classes) = Validate(op, s, logits, labels, losses, nameof(losses));
        if (rows == 0) return;
        var stats = Softmax.RowStats(s, logits.Data, rows, classes, logits.Data, dense: false);
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(SparseLossKernel)(
            s, rows, logits.Data, labels.Data, stats, losses.Data, classes);
    }

    /// <summary>losses[b] = -sum_k labels[b, k] log softmax(logits[b])[k] (one-hot or soft labels).</summary>
    /// <exception cref="ArgumentException">logits is not [B, K] with K &gt;= 1, labels is not logits' shape, losses is not [B], or a view is on another accelerator.</exception>
    public static void Forward(AcceleratorStream s, TensorView<float> logits, TensorView<float> labels, TensorView<float> losses)
    {
        const string op = "SoftmaxCrossEntropy.Forward";
        var (rows, classes) = Validate(op, s, logits, labels, losses, nameof(losses));
        if (rows == 0) return;
        var stats = Softmax.RowStats(s, logits.Data, rows, classes, labels.Data, dense: true);
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(DenseLossKernel)(
            s, rows, stats, losses.Data);
    }

    /// <summary>logitsGrad[b, k] = lossGrad[b] * (softmax(logits[b])[k] - (k == labels[b] ? 1 : 0)); a label outside [0, K) gives a NaN row.</summary>
    /// <exception cref="ArgumentException">logits is not [B, K] with K &gt;= 1, labels or lossGrad is not [B], logitsGrad is not logits' shape, or a view is on another accelerator.</exception>
    public static void Backward(AcceleratorStream s, TensorView<float> logits, TensorView<int> labels, TensorView<float> lossGrad, TensorView<float> logitsGrad)
    {
        const string op = "SoftmaxCrossEntropy.Backward";
        var (rows, classes) = Validate(op, s, logits, labels, lossGrad, nameof(lossGrad));
        ValidateGrad(op, s, logits, logitsGrad);
        if (rows == 0) return;
        var stats = Softmax.RowStats(s, logits.Data, rows, classes, logits.Data, dense: false);
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(SparseGradKernel)(
            s, rows * classes, logits.Data, labels.Data, stats, lossGrad.Data, logitsGrad.Data, classes);
    }

    /// <summary>logitsGrad[b, k] = lossGrad[b] * (softmax(logits[b])[k] - labels[b, k]) (TF's gradient, also for labels that do not sum to 1).</summary>
    /// <exception cref="ArgumentException">logits is not [B, K] with K &gt;= 1, labels or logitsGrad is not logits' shape, lossGrad is not [B], or a view is on another accelerator.</exception>
    public static void Backward(AcceleratorStream s, TensorView<float> logits, TensorView<float> labels, TensorView<float> lossGrad, TensorView<float> logitsGrad)
    {
        const string op = "SoftmaxCrossEntropy.Backward";
        var (rows, classes) = Validate(op, s, logits, labels, lossGrad, nameof(lossGrad));
        ValidateGrad(op, s, logits, logitsGrad);
        if (rows == 0) return;
        var stats = Softmax.RowStats(s, logits.Data, rows, classes, logits.Data, dense: false);
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(DenseGradKernel)(
            s, rows * classes, logits.Data, labels.Data, stats, lossGrad.Data, logitsGrad.Data, classes);
    }

    /// <summary>
    /// meanLoss[0] = the mean over the batch of the sparse cross entropy, and correct[0] = the number of rows whose
    /// argmax (first maximum) equals the label: a training step's loss and accuracy without reading rows back.
    /// An empty batch gives NaN and 0; a label outside [0, K) makes the mean NaN and never counts as correct.
    /// </summary>
    /// <exception cref="ArgumentException">logits is not [B, K] with K &gt;= 1, labels is not [B], meanLoss or correct is not [1], or a view is on another accelerator.</exception>
    public static void MeanLossAndCorrect(AcceleratorStream s, TensorView<float> logits, TensorView<int> labels, TensorView<float> meanLoss, TensorView<int> correct)
    {
        const string op = "SoftmaxCrossEntropy.MeanLossAndCorrect";
        var (rows, classes) = Validate(op, s, logits, labels, meanLoss, nameof(meanLoss), lossesAreRows: false);
        ShapeCheck.View(op, nameof(correct), correct);
        ShapeCheck.SameAccelerator(op, s, nameof(correct), correct);
        ShapeCheck.Equal(op, nameof(correct), correct.Shape, new Shape(1), "one count for the batch");
        // Scratch holds at least one element, so an empty batch still launches (and writes NaN and 0).
        var stats = rows > 0
            ? Softmax.RowStats(s, logits.Data, rows, classes, logits.Data, dense: false)
            : Scratch.Get<float>(s, Scratch.SplitK, Softmax.Stats);
        var logitsData = rows > 0 ? logits.Data : stats;
        var labelsData = rows > 0 ? labels.Data : correct.Data;
        s.Accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(MeanKernel)(
            s, new KernelConfig(1, GroupSize), logitsData, labelsData, stats, meanLoss.Data, correct.Data, rows, classes);
    }

    // ---- validation -------------------------------------------------------------------------------------------

    private static (int Rows, int Classes) Validate<TLabel>(string op, AcceleratorStream s, TensorView<float> logits, TensorView<TLabel> labels,
        TensorView<float> perRow, string perRowName, bool lossesAreRows = true) where TLabel : unmanaged
    {
        ArgumentNullException.ThrowIfNull(s);
        ShapeCheck.Tensor(op, nameof(logits), logits, 2, "[B, K]");
        ShapeCheck.View(op, nameof(labels), labels);
        ShapeCheck.View(op, perRowName, perRow);
        ShapeCheck.SameAccelerator(op, s, nameof(logits), logits);
        ShapeCheck.SameAccelerator(op, s, nameof(labels), labels);
        ShapeCheck.SameAccelerator(op, s, perRowName, perRow);
        Softmax.RequireIntSize(op, nameof(logits), logits.Shape);
        int rows = logits.Shape[0], classes = logits.Shape[1];
        if (typeof(TLabel) == typeof(int))
            ShapeCheck.Equal(op, nameof(labels), labels.Shape, new Shape(rows), $"one class index per row of logits {logits.Shape}");
        else
            ShapeCheck.Equal(op, nameof(labels), labels.Shape, logits.Shape, $"one probability per logit of logits {logits.Shape}");
        if (lossesAreRows)
            ShapeCheck.Equal(op, perRowName, perRow.Shape, new Shape(rows), $"one value per row of logits {logits.Shape}");
        else
            ShapeCheck.Equal(op, perRowName, perRow.Shape, new Shape(1), $"one value for the batch of logits {logits.Shape}");
        if (rows > 0 && classes == 0)
            throw new ArgumentException($"{op}: logits {logits.Shape} has no classes; cross entropy needs K >= 1.", nameof(logits));
        return (rows, classes);
    }

    private static void ValidateGrad(string op, AcceleratorStream s, TensorView<float> logits, TensorView<float> logitsGrad)
    {
        ShapeCheck.View(op, nameof(logitsGrad), logitsGrad);
        ShapeCheck.SameAccelerator(op, s, nameof(logitsGrad), logitsGrad);
        ShapeCheck.Equal(op, nameof(logitsGrad), logitsGrad.Shape, logits.Shape, "the shape of logits");
    }

    // ---- kernels ----------------------------------------------------------------------------------------------

    /// <summary>One thread per row: log S - (z[label] - m), NaN for a label outside [0, K).</summary>
    private static void SparseLossKernel(Index1D row, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> stats, ArrayView<float> losses, int classes)
    {
        int b = row;
        losses[b] = SparseLoss(logits, labels, stats, b, classes);
    }

    /// <summary>One thread per row: log S * P - Q.</summary>
    private static void DenseLossKernel(Index1D row, ArrayView<float> stats, ArrayView<float> losses)
    {
        int b = row;
        int at = b * Softmax.Stats;
        losses[b] = MathF.Log(stats[at + 1]) * stats[at + 2] - stats[at + 3];
    }

    /// <summary>One thread per element: g_b * (exp(z - m) / S - [k == label]), NaN for a label outside [0, K).</summary>
    private static void SparseGradKernel(Index1D index, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> stats,
        ArrayView<float> lossGrad, ArrayView<float> logitsGrad, int classes)
    {
        int i = index;
        int b = i / classes;
        int k = i - b * classes;
        int label = labels[b];
        int at = b * Softmax.Stats;
        float probability = MathF.Exp(logits[i] - stats[at]) / stats[at + 1];
        float target = k == label ? 1f : 0f;
        logitsGrad[i] = label < 0 || label >= classes ? float.NaN : lossGrad[b] * (probability - target);
    }

    /// <summary>One thread per element: g_b * (exp(z - m) / S - p).</summary>
    private static void DenseGradKernel(Index1D index, ArrayView<float> logits, ArrayView<float> labels, ArrayView<float> stats,
        ArrayView<float> lossGrad, ArrayView<float> logitsGrad, int classes)
    {
        int i = index;
        int b = i / classes;
        int at = b * Softmax.Stats;
        float probability = MathF.Exp(logits[i] - stats[at]) / stats[at + 1];
        logitsGrad[i] = lossGrad[b] * (probability - labels[i]);
    }

    /// <summary>
    /// One group: lane l takes rows l, l + 256, ... in order (loss and whether the first argmax equals the label),
    /// then shared-memory trees sum the losses and the counts; lane 0 writes the mean and the count.
    /// </summary>
    private static void MeanKernel(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> stats, ArrayView<float> meanLoss,
        ArrayView<int> correct, int rows, int classes)
    {
        var lossSums = SharedMemory.Allocate<float>(GroupSize);
        var counts = SharedMemory.Allocate<int>(GroupSize);
        int lane = Group.IdxX;
        float lossSum = 0f;
        int count = 0;
        for (int b = lane; b < rows; b += GroupSize)
        {
            lossSum += SparseLoss(logits, labels, stats, b, classes);
            if (FirstArgmax(logits, b * classes, classes) == labels[b]) count += 1;
        }
        lossSums[lane] = lossSum;
        counts[lane] = count;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (lane < half)
            {
                lossSums[lane] += lossSums[lane + half];
                counts[lane] += counts[lane + half];
            }
            Group.Barrier();
        }
        if (lane == 0)
        {
            meanLoss[0] = lossSums[0] / rows;
            correct[0] = counts[0];
        }
    }

    private static float SparseLoss(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> stats, int b, int classes)
    {
        int label = labels[b];
        if (label < 0 || label >= classes) return float.NaN;
        int at = b * Softmax.Stats;
        return MathF.Log(stats[at + 1]) - (logits[b * classes + label] - stats[at]);
    }

    // The first index of the row's maximum (NaN counts as largest, as Reductions.Argmax).
    private static int FirstArgmax(ArrayView<float> logits, int rowBase, int classes)
    {
        float best = logits[rowBase];
        int bestIndex = 0;
        for (int k = 1; k < classes; k++)
        {
            float v = logits[rowBase + k];
            if (v > best || (float.IsNaN(v) && !float.IsNaN(best)))
            {
                best = v;
                bestIndex = k;
            }
        }
        return bestIndex;
    }
}
