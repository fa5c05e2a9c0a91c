namespace GpuDeconv.Kernels.Tests;

/// <summary>
/// Slow references for the pooling ops, plain nested loops written from docs/reference/op-semantics.md sections 1 and 3 (not from
/// Windowing.cs or the kernels): sizes and padding per TF, windows scanned rows then columns, padded cells skipped.
/// </summary>
public static class PoolReference
{
    /// <summary>A pooling problem: input dims NHWC and options, with the output size and padding per docs/reference/op-semantics.md sections 1 and 3.</summary>
    public sealed record Geometry(int N, int H, int W, int C, int KH, int KW, int SH, int SW, Padding Padding)
    {
        public int OutH => OutSize(H, KH, SH);
        public int OutW => OutSize(W, KW, SW);
        public int PadTop => PadBefore(H, KH, SH);
        public int PadLeft => PadBefore(W, KW, SW);
        public Shape InputShape => new(N, H, W, C);
        public Shape OutputShape => new(N, OutH, OutW, C);
        public PoolOptions Options => new(new Size2d(KH, KW), new Size2d(SH, SW), Padding);
        public long InputSize => (long)N * H * W * C;
        public long OutputSize => (long)N * OutH * OutW * C;

        private int OutSize(int n, int k, int s) => Padding == Padding.Valid ? (n - k + s) / s : (n + s - 1) / s;

        private int PadBefore(int n, int k, int s) =>
            Padding == Padding.Valid ? 0 : Math.Max(0, (OutSize(n, k, s) - 1) * s + k - n) / 2;

        /// <summary>The real cells (y, x) of window (oy, ox), rows then columns.</summary>
        public List<(int Y, int X)> Window(int oy, int ox)
        {
            var cells = new List<(int, int)>();
            for (int kh = 0; kh < KH; kh++)
            {
                for (int kw = 0; kw < KW; kw++)
                {
                    int y = oy * SH + kh - PadTop, x = ox * SW + kw - PadLeft;
                    if (y >= 0 && y < H && x >= 0 && x < W) cells.Add((y, x));
                }
            }
            return cells;
        }

        public long InputIndex(int b, int y, int x, int c) => (((long)b * H + y) * W + x) * C + c;

        public long OutputIndex(int b, int oy, int ox, int c) => (((long)b * OutH + oy) * OutW + ox) * C + c;

        public override string ToString() => $"{InputShape} {Options}";
    }

    /// <summary>The awkward shapes every pooling op is checked on: 1x1, odd sizes, overlap, stride &gt; size, VALID and SAME, batch 128.</summary>
    public static readonly Geometry[] Cases =
    [
        new(1, 1, 1, 1, 1, 1, 1, 1, Padding.Valid),
        new(1, 1, 1, 3, 2, 2, 2, 2, Padding.Same),
        new(2, 5, 5, 3, 2, 2, 2, 2, Padding.Same),     // 5x5 -> 3x3, pad 0/1
        new(1, 7, 3, 5, 2, 2, 2, 2, Padding.Same),
        new(3, 7, 3, 2, 3, 3, 2, 2, Padding.Same),     // overlapping windows, 3x3 s2
        new(2, 6, 7, 3, 3, 3, 1, 1, Padding.Same),     // 3x3 s1, pad 1/1
        new(1, 7, 6, 2, 3, 3, 1, 1, Padding.Valid),
        new(2, 8, 7, 3, 2, 2, 3, 3, Padding.Valid),    // stride > size: some cells in no window
        new(1, 7, 8, 2, 2, 2, 3, 3, Padding.Same),
        new(1, 9, 5, 1, 3, 2, 2, 1, Padding.Same),     // different window and stride per axis
        new(1, 5, 4, 37, 2, 3, 2, 2, Padding.Valid),   // channels not a multiple of anything
        new(128, 5, 5, 2, 2, 2, 2, 2, Padding.Same),   // batch 128
        new(1, 6, 6, 3, 6, 6, 6, 6, Padding.Same),     // the tutorial's 6x6 s6 global average pool
    ];

    /// <summary>Max pooling: each window's first maximum (strict &gt;, first NaN wins) and its flat index (TF convention).</summary>
    public static (float[] Values, long[] Argmax) MaxWithArgmax(float[] x, Geometry g, bool includeBatch)
    {
        var values = new float[g.OutputSize];
        var argmax = new long[g.OutputSize];
        for (int b = 0; b < g.N; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.C; c++)
        {
            bool found = false;
            float best = 0;
            int by = -1, bx = -1;
            foreach (var (y, xx) in g.Window(oy, ox))
            {
                float v = x[g.InputIndex(b, y, xx, c)];
                bool take = !found || (!float.IsNaN(best) && (float.IsNaN(v) || v > best));
                if (take)
                {
                    found = true;
                    best = v;
                    by = y;
                    bx = xx;
                }
            }
            long o = g.OutputIndex(b, oy, ox, c);
            values[o] = best;
            argmax[o] = ((long)by * g.W + bx) * g.C + c + (includeBatch ? (long)b * g.H * g.W * g.C : 0);
        }
        return (values, argmax);
    }

    /// <summary>Max pooling in double (for finite differences).</summary>
    public static double[] Max(double[] x, Geometry g)
    {
        var y = new double[g.OutputSize];
        for (int b = 0; b < g.N; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.C; c++)
        {
            double best = double.NegativeInfinity;
            foreach (var (yy, xx) in g.Window(oy, ox)) best = Math.Max(best, x[g.InputIndex(b, yy, xx, c)]);
            y[g.OutputIndex(b, oy, ox, c)] = best;
        }
        return y;
    }

    /// <summary>The max-pool gradient: dy of each window added (in double) at the window's argmax (in-batch indices).</summary>
    public static double[] MaxBackward(long[] argmax, float[] dy, Geometry g, bool includeBatch)
    {
        var dx = new double[g.InputSize];
        long perImage = (long)g.H * g.W * g.C, outPerImage = (long)g.OutH * g.OutW * g.C;
        for (long o = 0; o < dy.Length; o++)
            dx[includeBatch ? argmax[o] : o / outPerImage * perImage + argmax[o]] += dy[o];
        return dx;
    }

    /// <summary>Average pooling in double: the mean of each window's real cells.</summary>
    public static double[] Avg(double[] x, Geometry g)
    {
        var y = new double[g.OutputSize];
        for (int b = 0; b < g.N; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.C; c++)
        {
            var window = g.Window(oy, ox);
            double sum = 0;
            foreach (var (yy, xx) in window) sum += x[g.InputIndex(b, yy, xx, c)];
            y[g.OutputIndex(b, oy, ox, c)] = sum / window.Count;
        }
        return y;
    }

    /// <summary>The average-pool gradient in double: dy / count spread over each window's real cells.</summary>
    public static double[] AvgBackward(float[] dy, Geometry g)
    {
        var dx = new double[g.InputSize];
        for (int b = 0; b < g.N; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.C; c++)
        {
            var window = g.Window(oy, ox);
            foreach (var (yy, xx) in window) dx[g.InputIndex(b, yy, xx, c)] += dy[g.OutputIndex(b, oy, ox, c)] / (double)window.Count;
        }
        return dx;
    }

    /// <summary><paramref name="count"/> distinct values 0.01 apart in random order: no ties, and no max changes under a 1e-4 probe.</summary>
    public static float[] Distinct(int seed, long count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (i - count / 2) * 0.01f;
        new Random(seed).Shuffle(values);
        return values;
    }

    /// <summary>Rounds doubles to floats.</summary>
    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);
}
