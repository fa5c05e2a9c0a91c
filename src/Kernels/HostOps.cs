// HostOps: the CPU accelerator's host routes for the training step's pointwise and reduction ops (see HostRoute.cs).
//   A kernel lane on the CPU accelerator handles one element through a delegate call with range checks; these loops
//   handle 16 elements per 512-bit vector instead. Each computes what its kernel computes, in the kernel's order,
//   so results are the kernels' bits:
//   Relu          y = x < 0 ? 0 : x (NaN and -0 pass), ReluBackward by its rule (ReluKernel, ReluBackwardKernel).
//   BiasGrad      the two passes of BiasAdd.BackwardBias: per chunk of rows, GradRowLanes interleaved row sums per column,
//                 added lane after lane; then the chunks' partials added in order. Vectors run across columns, so
//                 every column's sum keeps its order.
//   SumSlices     sum[i] = ((0 + p[0][i]) + p[1][i]) + ... (Conv2dKernels.SumSlicesKernel).
//   Binary        Elementwise's add, subtract, multiply, multiply-add (a product, then a sum: no FMA, as the kernel)
//                 divide and AddScaled (acc + factor * x), one IEEE operation per element as each kernel.

using System.Runtime.Intrinsics;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Host-code versions of pointwise and reduction kernels for the CPU accelerator (bit-identical results).</summary>
internal static unsafe class HostOps
{
    private const int Lanes = 16;
    // Elements per parallel part of a pointwise op: big enough that a part outweighs its scheduling.
    private const int PointwisePart = 1 << 16;

    /// <summary>y = x &lt; 0 ? 0 : x over <paramref name="n"/> elements (y may alias x).</summary>
    public static void Relu(CPUAccelerator cpu, ArrayView<float> x, ArrayView<float> y, int n)
    {
        nint xp = HostView.Address(x), yp = HostView.Address(y);
        Pointwise(cpu, n, (begin, end) =>
        {
            float* s = (float*)xp, t = (float*)yp;
            long i = begin;
            for (; i + Lanes <= end; i += Lanes)
            {
                var v = Vector512.Load(s + i);
                Vector512.Store(Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512<float>.Zero, v), t + i);
            }
            for (; i < end; i++) t[i] = s[i] < 0f ? 0f : s[i];
        });
    }

    /// <summary>dx = the signal dy where the rule opens the unit, else 0 (0 Gradient: f &gt; 0; 1 Deconvnet: dy &gt; 0; 2 Guided: both).</summary>
    public static void ReluBackward(CPUAccelerator cpu, ArrayView<float> dy, ArrayView<float> f, ArrayView<float> dx, int n, int rule)
    {
        nint dp = HostView.Address(dy), fp = HostView.Address(f), xp = HostView.Address(dx);
        Pointwise(cpu, n, (begin, end) =>
        {
            float* r = (float*)dp, g = (float*)fp, t = (float*)xp;
            long i = begin;
            for (; i + Lanes <= end; i += Lanes)
            {
                var v = Vector512.Load(r + i);
                var open = rule == 1 ? Vector512.GreaterThan(v, Vector512<float>.Zero) : Vector512.GreaterThan(Vector512.Load(g + i), Vector512<float>.Zero);
                if (rule == 2) open &= Vector512.GreaterThan(v, Vector512<float>.Zero);
                Vector512.Store(Vector512.ConditionalSelect(open, v, Vector512<float>.Zero), t + i);
            }
            for (; i < end; i++)
            {
                float v = r[i];
                bool open = rule == 1 ? v > 0f : g[i] > 0f;
                if (rule == 2) open = open && v > 0f;
                t[i] = open ? v : 0f;
            }
        });
    }

    /// <summary>biasGrad[c] = sum of dy[r, c] over the rows, in BiasAdd.BackwardBias's order (chunks of <paramref name="chunkRows"/>).</summary>
    public static void BiasGrad(CPUAccelerator cpu, ArrayView<float> dy, ArrayView<float> partials, ArrayView<float> biasGrad,
                                int rows, int channels, int chunkRows, int chunks)
    {
        const int rowLanes = BiasAdd.GradRowLanes;
        nint dp = HostView.Address(dy), pp = HostView.Address(partials), bp = HostView.Address(biasGrad);
        HostParallel.For(cpu, chunks, (begin, end) =>
        {
            var lanes = new float[rowLanes * channels];
            fixed (float* lane = lanes)
            {
                for (long chunk = begin; chunk < end; chunk++)
                {
                    int first = (int)chunk * chunkRows;
                    int rowEnd = Math.Min(rows, first + chunkRows);
                    // Lane ty sums rows first + ty, first + ty + rowLanes, ... of every column.
                    for (int ty = 0; ty < rowLanes; ty++)
                    {
                        float* sum = lane + ty * channels;
                        new Span<float>(sum, channels).Clear();
                        for (int r = first + ty; r < rowEnd; r += rowLanes)
                            Add(sum, (float*)dp + (long)r * channels, channels);
                    }
                    float* total = (float*)pp + chunk * channels;
                    new Span<float>(lane, channels).CopyTo(new Span<float>(total, channels));
                    for (int ty = 1; ty < rowLanes; ty++) Add(total, lane + ty * channels, channels);
                }
            }
        });
        // Pass 2: the chunks' partials in order, from 0.
        float* result = (float*)bp;
        new Span<float>(result, channels).Clear();
        for (int p = 0; p < chunks; p++) Add(result, (float*)pp + (long)p * channels, channels);
    }

    /// <summary>sum[i] = partials[0 * length + i] + partials[1 * length + i] + ... in slice order, from 0.</summary>
    public static void SumSlices(CPUAccelerator cpu, ArrayView<float> partials, ArrayView<float> sum, int slices, int length)
    {
        nint pp = HostView.Address(partials), sp = HostView.Address(sum);
        Pointwise(cpu, length, (begin, end) =>
        {
            float* t = (float*)sp + begin;
            int count = (int)(end - begin);
            new Span<float>(t, count).Clear();
            for (int z = 0; z < slices; z++) Add(t, (float*)pp + (long)z * length + begin, count);
        });
    }

    /// <summary>An elementwise op of <see cref="Binary{T}"/>: the kernel's expression on vectors and on one float.</summary>
    public interface IBinaryOp
    {
        static abstract Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor);

        static abstract float Apply(float a, float b, float old, float factor);
    }

    public struct AddOp : IBinaryOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor) => a + b;
        public static float Apply(float a, float b, float old, float factor) => a + b;
    }

    public struct SubtractOp : IBinaryOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor) => a - b;
        public static float Apply(float a, float b, float old, float factor) => a - b;
    }

    public struct MultiplyOp : IBinaryOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor) => a * b;
        public static float Apply(float a, float b, float old, float factor) => a * b;
    }

    public struct DivideOp : IBinaryOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor) => a / b;
        public static float Apply(float a, float b, float old, float factor) => a / b;
    }

    /// <summary>old + a * b, rounded twice (the JIT does not contract it into an FMA).</summary>
    public struct MultiplyAddOp : IBinaryOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor) => old + a * b;
        public static float Apply(float a, float b, float old, float factor) => old + a * b;
    }

    /// <summary>old + factor * a (b unused), rounded twice.</summary>
    public struct AddScaledOp : IBinaryOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b, Vector512<float> old, float factor) => old + Vector512.Create(factor) * a;
        public static float Apply(float a, float b, float old, float factor) => old + factor * a;
    }

    /// <summary>output[i] = T(a[i], b[i], output[i], factor) over <paramref name="n"/> elements (output may alias a or b).</summary>
    public static void Binary<T>(CPUAccelerator cpu, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output, int n, float factor = 0f)
        where T : struct, IBinaryOp
    {
        nint ap = HostView.Address(a), bp = HostView.Address(b), op = HostView.Address(output);
        Pointwise(cpu, n, (begin, end) =>
        {
            float* x = (float*)ap, y = (float*)bp, t = (float*)op;
            long i = begin;
            for (; i + Lanes <= end; i += Lanes)
                Vector512.Store(T.Apply(Vector512.Load(x + i), Vector512.Load(y + i), Vector512.Load(t + i), factor), t + i);
            for (; i < end; i++) t[i] = T.Apply(x[i], y[i], t[i], factor);
        });
    }

    /// <summary>target[row * targetStride + targetOffset + col] = source[row * sourceStride + sourceOffset + col] for col &lt; length.</summary>
    public static void CopyRows(CPUAccelerator cpu, ArrayView<float> source, ArrayView<float> target, int rows, int length,
                                int sourceStride, int sourceOffset, int targetStride, int targetOffset)
    {
        nint sp = HostView.Address(source), tp = HostView.Address(target);
        int rowsPerPart = Math.Max(1, PointwisePart / Math.Max(length, 1));
        HostParallel.For(cpu, (rows + rowsPerPart - 1) / rowsPerPart, (begin, end) =>
        {
            for (long row = begin * rowsPerPart; row < Math.Min(rows, end * rowsPerPart); row++)
                new ReadOnlySpan<float>((float*)sp + row * sourceStride + sourceOffset, length)
                    .CopyTo(new Span<float>((float*)tp + row * targetStride + targetOffset, length));
        });
    }

    /// <summary>output[i] = value for i &lt; n.</summary>
    public static void Fill(CPUAccelerator cpu, ArrayView<float> output, float value, int n)
    {
        nint op = HostView.Address(output);
        Pointwise(cpu, n, (begin, end) => new Span<float>((float*)op + begin, (int)(end - begin)).Fill(value));
    }

    /// <summary>panel[kk, j] = op(B)[kk, j] for j &lt; n, else 0, rows of <paramref name="stride"/> (Gemm.PackPanelKernel).</summary>
    public static void PackPanel(CPUAccelerator cpu, ArrayView<float> b, ArrayView<float> panel, int n, int k, int stride, bool transposeB)
    {
        nint bp = HostView.Address(b), pp = HostView.Address(panel);
        HostParallel.For(cpu, k, (begin, end) =>
        {
            for (long kk = begin; kk < end; kk++)
            {
                float* row = (float*)pp + kk * stride, source = (float*)bp;
                for (int j = 0; j < n; j++) row[j] = transposeB ? source[(long)j * k + kk] : source[kk * n + j];
                for (int j = n; j < stride; j++) row[j] = 0f;
            }
        });
    }

    /// <summary>C = alpha * op(A) * panel (+ beta * C) for the packed panel of <see cref="PackPanel"/> (Gemm.VectorKernel's values).</summary>
    public static void Gemm(CPUAccelerator cpu, ArrayView<float> a, ArrayView<float> panel, ArrayView<float> c, int m, int n, int k, int stride,
                            bool transposeA, float alpha, float beta)
    {
        nint ap = HostView.Address(a), pp = HostView.Address(panel), cp = HostView.Address(c);
        int rowBlocks = (m + 3) / 4, columnBlocks = (stride + 2 * Lanes - 1) / (2 * Lanes);
        HostParallel.For(cpu, (long)rowBlocks * columnBlocks, (begin, end) =>
        {
            for (long item = begin; item < end; item++)
            {
                int r0 = (int)(item / columnBlocks) * 4, j0 = (int)(item % columnBlocks) * 2 * Lanes;
                if (stride - j0 >= 2 * Lanes)
                    GemmBlock<TwoVectors>((float*)ap, (float*)pp, (float*)cp, m, n, k, stride, transposeA, alpha, beta, r0, j0);
                else
                    GemmBlock<OneVector>((float*)ap, (float*)pp, (float*)cp, m, n, k, stride, transposeA, alpha, beta, r0, j0);
            }
        });
    }

    private static void GemmBlock<TColumns>(float* a, float* panel, float* c, int m, int n, int k, int stride, bool transposeA,
                                            float alpha, float beta, int r0, int j0) where TColumns : struct, IColumns
    {
        // Rows past M read row M-1 and are not stored; op(A)[r, kk] is a[r * k + kk], or a[kk * m + r] transposed.
        long rowStep = transposeA ? 1 : k, kStep = transposeA ? m : 1;
        float* a0 = a + r0 * rowStep, a1 = a + Math.Min(r0 + 1, m - 1) * rowStep;
        float* a2 = a + Math.Min(r0 + 2, m - 1) * rowStep, a3 = a + Math.Min(r0 + 3, m - 1) * rowStep;
        var tile = stackalloc Vector512<float>[8];
        Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        float* p = panel + j0;
        for (long kk = 0, ak = 0; kk < k; kk++, ak += kStep, p += stride)
        {
            var b0 = Vector512.Load(p);
            var b1 = TColumns.Two ? Vector512.Load(p + Lanes) : default;
            var v0 = Vector512.Create(a0[ak]);
            var v1 = Vector512.Create(a1[ak]);
            var v2 = Vector512.Create(a2[ak]);
            var v3 = Vector512.Create(a3[ak]);
            s00 += v0 * b0;
            if (TColumns.Two) s01 += v0 * b1;
            s10 += v1 * b0;
            if (TColumns.Two) s11 += v1 * b1;
            s20 += v2 * b0;
            if (TColumns.Two) s21 += v2 * b1;
            s30 += v3 * b0;
            if (TColumns.Two) s31 += v3 * b1;
        }
        tile[0] = s00; tile[1] = s01; tile[2] = s10; tile[3] = s11; tile[4] = s20; tile[5] = s21; tile[6] = s30; tile[7] = s31;
        var scale = Vector512.Create(alpha);
        for (int row = 0; row < 4 && r0 + row < m; row++)
        {
            float* target = c + (long)(r0 + row) * n;
            for (int half = 0; half < (TColumns.Two ? 2 : 1); half++)
            {
                int j = j0 + half * Lanes, count = Math.Min(Lanes, n - j);
                if (count <= 0) break;
                var value = scale * tile[2 * row + half];
                if (count == Lanes)
                {
                    if (beta != 0f) value += Vector512.Create(beta) * Vector512.Load(target + j);
                    Vector512.Store(value, target + j);
                    continue;
                }
                for (int l = 0; l < count; l++)
                    target[j + l] = beta != 0f ? value.GetElement(l) + beta * target[j + l] : value.GetElement(l);
            }
        }
    }

    // target[i] += source[i] for i < count.
    private static void Add(float* target, float* source, int count)
    {
        int i = 0;
        for (; i + Lanes <= count; i += Lanes) Vector512.Store(Vector512.Load(target + i) + Vector512.Load(source + i), target + i);
        for (; i < count; i++) target[i] += source[i];
    }

    private static void Pointwise(CPUAccelerator cpu, long n, Action<long, long> range)
    {
        long parts = (n + PointwisePart - 1) / PointwisePart;
        HostParallel.For(cpu, parts, (begin, end) => range(begin * PointwisePart, Math.Min(n, end * PointwisePart)));
    }
}
