namespace GpuDeconv.Testing;

/// <summary>Central finite differences in double precision: the reference every backward (kernel or autograd) is checked against.</summary>
public static class FiniteDifference
{
    /// <summary>
    /// d(sum_i upstream[i] * f(x)[i]) / dx by central differences with step <paramref name="step"/>, where
    /// <paramref name="f"/> is a double-precision reference of the forward op. The result has x's length.
    /// </summary>
    public static double[] Gradient(Func<double[], double[]> f, double[] x, double[] upstream, double step = 1e-4)
    {
        var gradient = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + step;
            double plus = Dot(f(probe), upstream);
            probe[i] = x[i] - step;
            double minus = Dot(f(probe), upstream);
            probe[i] = x[i];
            gradient[i] = (plus - minus) / (2 * step);
        }
        return gradient;
    }

    /// <summary>Widens floats to doubles.</summary>
    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    private static double Dot(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"f(x) has {a.Length} values, upstream has {b.Length}.");
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
