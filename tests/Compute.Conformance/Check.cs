using System.Globalization;
using System.Text;

namespace GpuDeconv.Compute.Conformance;

/// <summary>Comparisons that throw <see cref="ConformanceFailure"/> naming the first bad index, both values and the worst difference.</summary>
public static class Check
{
    private const int MaxListed = 8;

    /// <summary>Fails unless <paramref name="condition"/> holds.</summary>
    /// <exception cref="ConformanceFailure">The condition is false.</exception>
    public static void True(bool condition, string message)
    {
        if (!condition) throw new ConformanceFailure(message);
    }

    /// <summary>Fails unless the two values are equal.</summary>
    /// <exception cref="ConformanceFailure">The values differ.</exception>
    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw new ConformanceFailure($"{what}: expected {Format(expected)}, got {Format(actual)}.");
    }

    /// <summary>Fails unless both sequences have the same length and equal elements (floats: same bits, any NaN equals any NaN).</summary>
    /// <exception cref="ConformanceFailure">A length or an element differs.</exception>
    public static void Equal<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what = "result", Func<int, string>? describe = null)
    {
        if (expected.Length != actual.Length)
            throw new ConformanceFailure($"{what}: expected {expected.Length} elements, got {actual.Length}.");
        var report = new Mismatches(what, describe);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Same(expected[i], actual[i])) report.Add(i, Format(expected[i]), Format(actual[i]), 0);
        }
        report.ThrowIfAny(expected.Length, "exact");
    }

    /// <summary>Fails unless every element satisfies <c>|a - e| &lt;= atol + rtol * |e|</c> (NaN must match NaN, infinities must match exactly).</summary>
    /// <exception cref="ConformanceFailure">An element is out of tolerance.</exception>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what = "result", Func<int, string>? describe = null)
    {
        double[] e = new double[expected.Length], a = new double[actual.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        for (int i = 0; i < a.Length; i++) a[i] = actual[i];
        Close(e, a, atol, rtol, what, describe);
    }

    /// <summary>Fails unless every element satisfies <c>|a - e| &lt;= atol + rtol * |e|</c> (NaN must match NaN, infinities must match exactly).</summary>
    /// <exception cref="ConformanceFailure">An element is out of tolerance.</exception>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol, double rtol, string what = "result", Func<int, string>? describe = null)
    {
        if (expected.Length != actual.Length)
            throw new ConformanceFailure($"{what}: expected {expected.Length} elements, got {actual.Length}.");
        var report = new Mismatches(what, describe);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok;
            double diff;
            if (double.IsNaN(e) || double.IsNaN(a) || double.IsInfinity(e) || double.IsInfinity(a))
            {
                ok = e.Equals(a);
                diff = ok ? 0 : double.PositiveInfinity;
            }
            else
            {
                diff = Math.Abs(a - e);
                ok = diff <= atol + rtol * Math.Abs(e);
            }
            if (!ok) report.Add(i, Format(e), Format(a), diff);
        }
        report.ThrowIfAny(expected.Length, $"|a-e| <= {atol} + {rtol}*|e|");
    }

    /// <summary>Fails unless every element is within <paramref name="maxUlps"/> units in the last place (NaN matches NaN, +0 and -0 are 0 apart).</summary>
    /// <exception cref="ConformanceFailure">An element is too far away.</exception>
    public static void Ulps(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, int maxUlps, string what = "result", Func<int, string>? describe = null)
    {
        if (expected.Length != actual.Length)
            throw new ConformanceFailure($"{what}: expected {expected.Length} elements, got {actual.Length}.");
        var report = new Mismatches(what, describe);
        for (int i = 0; i < expected.Length; i++)
        {
            long d = UlpDistance(expected[i], actual[i]);
            if (d > maxUlps) report.Add(i, Format(expected[i]), Format(actual[i]), d);
        }
        report.ThrowIfAny(expected.Length, $"<= {maxUlps} ulp");
    }

    /// <summary>Fails unless every element is within <paramref name="maxUlps"/> units in the last place (NaN matches NaN, +0 and -0 are 0 apart).</summary>
    /// <exception cref="ConformanceFailure">An element is too far away.</exception>
    public static void Ulps(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, long maxUlps, string what = "result", Func<int, string>? describe = null)
    {
        if (expected.Length != actual.Length)
            throw new ConformanceFailure($"{what}: expected {expected.Length} elements, got {actual.Length}.");
        var report = new Mismatches(what, describe);
        for (int i = 0; i < expected.Length; i++)
        {
            double d = UlpDistance(expected[i], actual[i]);
            if (d > maxUlps) report.Add(i, Format(expected[i]), Format(actual[i]), d);
        }
        report.ThrowIfAny(expected.Length, $"<= {maxUlps} ulp");
    }

    /// <summary>Distance in representable floats; NaN vs NaN is 0, NaN vs a number is <see cref="long.MaxValue"/>.</summary>
    public static long UlpDistance(float a, float b)
    {
        if (float.IsNaN(a) || float.IsNaN(b)) return float.IsNaN(a) && float.IsNaN(b) ? 0 : long.MaxValue;
        return Math.Abs(Ordered(BitConverter.SingleToInt32Bits(a)) - Ordered(BitConverter.SingleToInt32Bits(b)));

        // Maps the sign-magnitude bit pattern onto a monotonic integer line (-0 and +0 meet at 0).
        static long Ordered(int bits) => bits < 0 ? -(long)(bits & int.MaxValue) : bits;
    }

    /// <summary>Distance in representable doubles (as a double, to avoid overflow); NaN vs NaN is 0.</summary>
    public static double UlpDistance(double a, double b)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.IsNaN(a) && double.IsNaN(b) ? 0 : double.PositiveInfinity;
        return Math.Abs((double)(Int128)Ordered(BitConverter.DoubleToInt64Bits(a)) - (double)(Int128)Ordered(BitConverter.DoubleToInt64Bits(b)));

        static Int128 Ordered(long bits) => bits < 0 ? -(Int128)(bits & long.MaxValue) : bits;
    }

    private static bool Same<T>(T expected, T actual) => (expected, actual) switch
    {
        (float e, float a) => BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(a) || (float.IsNaN(e) && float.IsNaN(a)),
        (double e, double a) => BitConverter.DoubleToInt64Bits(e) == BitConverter.DoubleToInt64Bits(a) || (double.IsNaN(e) && double.IsNaN(a)),
        _ => EqualityComparer<T>.Default.Equals(expected, actual),
    };

    internal static string Format<T>(T value) => value switch
    {
        // "R" keeps every digit and shows -0; hex bits disambiguate NaN payloads and signs.
        float f => $"{f.ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.SingleToUInt32Bits(f):X8})",
        double d => $"{d.ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.DoubleToUInt64Bits(d):X16})",
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        null => "null",
        _ => value.ToString() ?? "null",
    };

    // Collects the first few mismatches and the worst difference for one message.
    private sealed class Mismatches(string what, Func<int, string>? describe)
    {
        private readonly StringBuilder _lines = new();
        private int _count;
        private double _maxDiff;
        private int _maxIndex = -1;

        public void Add(int index, string expected, string actual, double diff)
        {
            if (_count < MaxListed)
                _lines.Append(CultureInfo.InvariantCulture, $"\n  [{index}]{Describe(index)}: expected {expected}, got {actual}");
            _count++;
            if (_maxIndex < 0 || diff > _maxDiff)
            {
                _maxDiff = diff;
                _maxIndex = index;
            }
        }

        public void ThrowIfAny(int total, string rule)
        {
            if (_count == 0) return;
            string more = _count > MaxListed ? $"\n  ... and {_count - MaxListed} more" : "";
            throw new ConformanceFailure(
                $"{what}: {_count} of {total} elements differ ({rule}); max difference {_maxDiff.ToString("G6", CultureInfo.InvariantCulture)} at [{_maxIndex}]{Describe(_maxIndex)}.{_lines}{more}");
        }

        private string Describe(int index) => describe is null ? "" : " " + describe(index);
    }
}
