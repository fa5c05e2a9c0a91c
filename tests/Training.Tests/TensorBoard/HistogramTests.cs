using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class HistogramTests
{
    [Fact]
    public void DefaultEdgesAreTheTensorFlowOnes()
    {
        IReadOnlyList<double> edges = Histogram.DefaultEdges;
        Assert.Equal(1549, edges.Count);
        Assert.Equal(0.0, edges[774]);
        Assert.Equal(1e-12, edges[775]);
        Assert.Equal(-1e-12, edges[773]);
        Assert.True(edges[^1] < 1e20 && edges[^1] * 1.1 >= 1e20);
        for (int i = 0; i < 774; i++)
            Assert.Equal(-edges[775 + i], edges[773 - i]);
        for (int i = 1; i < edges.Count; i++)
            Assert.True(edges[i] > edges[i - 1]);
    }

    [Fact]
    public void MatchesTheSpecCheckVector()
    {
        HistogramProto h = Histogram.Build([0.5, 0.5, 1.5]);
        Assert.Equal(14, h.Bucket.Count);
        Assert.Equal(14, h.BucketLimit.Count);
        Assert.Equal([0.0, 2.0, .. Enumerable.Repeat(0.0, 11), 1.0], h.Bucket);
        Assert.Equal(0.47069243095356195, h.BucketLimit[0]);
        Assert.Equal(1.624957930213695, h.BucketLimit[^1]);
        Assert.Equal((0.5, 1.5, 3.0, 2.5, 2.75), (h.Min, h.Max, h.Num, h.Sum, h.SumSquares));
    }

    [Fact]
    public void CountsLikeNumpyOnRandomValues()
    {
        var random = new Random(17);
        double[] values = [.. Enumerable.Range(0, 2000).Select(_ => Math.Exp(random.NextDouble() * 20 - 10) * (random.Next(2) * 2 - 1)),
                           0.0, -0.0, 1e-12, -1e-12, 1e25, -1e25, Histogram.DefaultEdges[^1], Histogram.DefaultEdges[0], 3.0];
        HistogramProto h = Histogram.Build(values);

        // Reference: np.histogram by a linear scan, bins [a, b) and the last one closed, out-of-range dropped.
        IReadOnlyList<double> edges = Histogram.DefaultEdges;
        var counts = new double[edges.Count - 1];
        foreach (double v in values)
            for (int i = 0; i < counts.Length; i++)
                if (edges[i] <= v && (v < edges[i + 1] || (i == counts.Length - 1 && v == edges[i + 1])))
                {
                    counts[i]++;
                    break;
                }
        int s = Array.FindIndex(counts, c => c > 0), e = Array.FindLastIndex(counts, c => c > 0);
        Assert.Equal([s == 0 ? 0 : counts[s - 1], .. counts[s..(e + 1)]], h.Bucket);
        Assert.Equal(edges.Skip(s).Take(e - s + 2), h.BucketLimit);

        Assert.Equal(values.Length, h.Num);
        Assert.Equal(values.Length - 2, h.Bucket.Sum());   // ±1e25 lie outside the edges
        Assert.Equal(values.Min(), h.Min);
        Assert.Equal(values.Max(), h.Max);
        Assert.Equal(values.Sum(), h.Sum, 1e-9 * Math.Abs(values.Sum()) + 1e-9);
        Assert.Equal(values.Sum(v => v * v), h.SumSquares, 1e-9 * values.Sum(v => v * v));
    }

    [Fact]
    public void AValueOnAnEdgeOpensThatBin()
    {
        double edge = Histogram.DefaultEdges[900];
        HistogramProto h = Histogram.Build([edge]);
        Assert.Equal([0.0, 1.0], h.Bucket);
        Assert.Equal([edge, Histogram.DefaultEdges[901]], h.BucketLimit);
    }

    [Fact]
    public void FloatValuesAreWidenedExactly()
    {
        Assert.Equal(Histogram.Build([(double)0.1f, -3.25, 7.0]), Histogram.Build([0.1f, -3.25f, 7f]));
    }

    [Fact]
    public void RejectsEmptyNanAndOutOfRangeInput()
    {
        Assert.Contains("no values", Assert.Throws<ArgumentException>(() => Histogram.Build(ReadOnlySpan<double>.Empty)).Message);
        Assert.Contains("values[1] is NaN", Assert.Throws<ArgumentException>(() => Histogram.Build([1.0, double.NaN])).Message);
        Assert.Contains("outside the bucket edges", Assert.Throws<ArgumentException>(() => Histogram.Build([1e30, double.NegativeInfinity])).Message);
    }
}
