using System.Globalization;
using GpuDeconv.Training.Proto;

namespace GpuDeconv.Training;

/// <summary>Builds TensorBoard histograms with TensorFlow's default bucket edges, as <c>add_histogram(bins="tensorflow")</c> does.</summary>
public static class Histogram
{
    /// <summary>
    /// The 1549 edges: the positive ones are v = 1e-12, then v *= 1.1 while v &lt; 1e20 (774 of them, the
    /// same doubles as the Python loop), mirrored to negative, with 0 in the middle.
    /// </summary>
    public static IReadOnlyList<double> DefaultEdges => EdgesView;

    static readonly double[] Edges = BuildEdges();
    static readonly System.Collections.ObjectModel.ReadOnlyCollection<double> EdgesView = Array.AsReadOnly(Edges);

    /// <summary>
    /// The histogram of <paramref name="values"/>: counted as <c>np.histogram(values, DefaultEdges)</c> (bins
    /// [a, b), the last one closed; values beyond ±edges dropped from the buckets), trimmed to the first and
    /// last non-empty bins plus one empty bucket in front, so each bucket_limit is its bucket's right edge;
    /// min, max, num, sum and sum_squares cover all values, summed in double precision.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty, holds a NaN (TF refuses those too), or has no value inside the edges (|v| &gt; about 1e20).</exception>
    public static HistogramProto Build(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
            throw new ArgumentException("Histogram: there are no values.", nameof(values));

        var counts = new long[Edges.Length - 1];
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumSquares = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (double.IsNaN(v))
                throw new ArgumentException($"Histogram: values[{i}] is NaN.", nameof(values));
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
            sumSquares += v * v;
            int bin = BinOf(v);
            if (bin >= 0)
                counts[bin]++;
        }

        int start = Array.FindIndex(counts, c => c != 0);
        if (start < 0)
            throw new ArgumentException(
                $"Histogram: all {values.Length} values lie outside the bucket edges ±{Edges[^1].ToString("R", CultureInfo.InvariantCulture)} (min {min.ToString("R", CultureInfo.InvariantCulture)}, max {max.ToString("R", CultureInfo.InvariantCulture)}).",
                nameof(values));
        int end = Array.FindLastIndex(counts, c => c != 0);

        var histogram = new HistogramProto
        {
            Min = min,
            Max = max,
            Num = values.Length,
            Sum = sum,
            SumSquares = sumSquares,
        };
        // The empty bin before the first non-empty one (or a zero when that is bin 0) opens the list,
        // so that TensorBoard, which takes bucket i as (limit[i-1], limit[i]], sees where the data starts.
        histogram.Bucket.Add(start == 0 ? 0 : counts[start - 1]);
        for (int b = start; b <= end; b++)
            histogram.Bucket.Add(counts[b]);
        for (int e = start; e <= end + 1; e++)
            histogram.BucketLimit.Add(Edges[e]);
        return histogram;
    }

    /// <summary>The histogram of <paramref name="values"/>, widened to double (see <see cref="Build(ReadOnlySpan{double})"/>).</summary>
    /// <exception cref="ArgumentException">As for <see cref="Build(ReadOnlySpan{double})"/>.</exception>
    public static HistogramProto Build(ReadOnlySpan<float> values)
    {
        var widened = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            widened[i] = values[i];
        return Build(widened);
    }

    // The bin holding v, or -1 when v lies outside [Edges[0], Edges[^1]]: bin i is [Edges[i], Edges[i+1]),
    // and the last bin also holds Edges[^1], as numpy's searchsorted-based counting has it.
    static int BinOf(double v)
    {
        if (v < Edges[0] || v > Edges[^1])
            return -1;
        if (v == Edges[^1])
            return Edges.Length - 2;
        int index = Array.BinarySearch(Edges, v);
        // An exact hit starts bin `index`; otherwise ~index is the first edge above v.
        return index >= 0 ? index : ~index - 1;
    }

    static double[] BuildEdges()
    {
        var positive = new List<double>();
        for (double v = 1e-12; v < 1e20; v *= 1.1)
            positive.Add(v);
        var edges = new double[2 * positive.Count + 1];
        for (int i = 0; i < positive.Count; i++)
        {
            edges[positive.Count - 1 - i] = -positive[i];
            edges[positive.Count + 1 + i] = positive[i];
        }
        edges[positive.Count] = 0;
        return edges;
    }
}
