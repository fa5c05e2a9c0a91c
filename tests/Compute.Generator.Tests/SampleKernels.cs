namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>Kernel sources that must translate without diagnostics; each covers a slice of the subset.</summary>
public static class SampleKernels
{
    public const string Saxpy = GeneratorHarness.Usings + """
        namespace Demo;

        public static class Program
        {
            public static void Saxpy(Index1D i, ArrayView<float> y, ArrayView<float> x, float a)
            {
                y[i] = a * x[i] + y[i];
            }

            public static void Load(Accelerator accelerator) =>
                accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(Saxpy);
        }
        """;

    public const string Arithmetic = GeneratorHarness.Usings + """
        public enum Mode : byte { Add = 1, Mul = 2 }

        public static class Kernels
        {
            const float Scale = 0.5f;
            static readonly int[] Table = { 1, 2, 3, 5, 8 };
            static readonly float[] Weights = [0.25f, 0.5f, 0.25f];

            [Kernel]
            public static void Ops(Index1D i, ArrayView<int> a, ArrayView<long> b, ArrayView<float> f, ArrayView<double> d, Mode mode, bool flag, uint u)
            {
                int x = a[i];
                x += 7;
                x *= x;
                x = -x;
                int s = x << a[0];
                long l = b[i] * 3L + long.MinValue;
                l <<= 65;
                uint v = u >> 33;
                v >>>= 1;
                x = x >>> 2;
                byte small = (byte)x;
                small += 200;
                f[i] = f[i] % 3f + float.NaN * Scale + float.PositiveInfinity;
                a[i] = (int)f[i] + (int)d[i] + (int)(uint)f[i] + Table[i % Table.Length] + (int)Weights[1];
                d[i] = Math.Max(d[i], -0.0) + Math.Round(d[i]) + Math.FusedMultiplyAdd(d[i], 2.0, 1.0) + 1e300;
                f[i] = MathF.Max(f[i], 1f) + MathF.Sqrt(f[i]) + MathF.Exp(-f[i]) + XMath.Rsqrt(f[i]) + Math.Clamp(f[i], 0f, 1f);
                if (mode == Mode.Mul && flag) b[i] = l + s + small + v; else b[i] = (long)(ulong.MaxValue >> 1);
                bool nan = float.IsNaN(f[i]) || double.IsInfinity(d[i]);
                a[i] += nan ? BitConverter.SingleToInt32Bits(f[i]) : (int)BitConverter.DoubleToInt64Bits(d[i]);
                a[i] = Math.Abs(a[i]) + Math.Min(a[i], 3) + Math.Max(x, int.MinValue);
                switch (x & 3)
                {
                    case 0:
                    case 1:
                        a[i] = 1;
                        break;
                    default:
                        a[i] = 2;
                        break;
                }
                for (int k = 0, m = 10; k < m; k++, m--)
                {
                    if (k == 3) continue;
                    if (k == 7) break;
                    a[i] ^= k;
                }
                int n = 0;
                while (n < 4) n++;
                do { n--; } while (n > 0);
                a[i] += n;
            }
        }
        """;

    public const string StructsAndViews = GeneratorHarness.Usings + """
        public struct Pixel
        {
            public float R;
            public float G;
            public bool Valid;
            public Inner Extra;

            public Pixel(float r, float g)
            {
                R = r;
                G = g;
                Valid = true;
                Extra = default;
            }
        }

        public struct Inner { public int Count; public long Sum; }

        public record struct Pair(int A, float B);

        public static class Kernels
        {
            static float Luma(Pixel p) => 0.3f * p.R + 0.7f * p.G;

            static float Sum(ArrayView<float> v, int n)
            {
                float total = 0;
                for (int k = 0; k < n && k < v.IntLength; k++) total += v[k];
                return total;
            }

            [Kernel]
            public static void Image(Index2D index, ArrayView2D<float, Stride2D.DenseX> image, ArrayView2D<float, Stride2D.DenseY> output, ArrayView<Pixel> pixels, Pair pair)
            {
                var p = new Pixel(image[index], image[index.X, index.Y]);
                p.Extra.Count++;
                var q = pixels[index.X];
                if (q.Valid) p.R += Luma(q);
                var row = pixels.SubView(1, 2).Cast<float>();
                output[index] = Luma(p) + Sum(row, 3) + output.Extent.X + image.IntExtent.Y + pair.B + new Pair(1, 2f).A + row.Length;
            }

            [Kernel]
            public static void Volume(LongIndex3D index, ArrayView3D<int, Stride3D.DenseXY> a, ArrayView3D<int, Stride3D.DenseZY> b)
            {
                a[index] = b[index.X, index.Y, index.Z] + (int)a.Extent.Z;
            }
        }
        """;

    public const string Grouped = GeneratorHarness.Usings + """
        public static class Kernels
        {
            static void Store(ArrayView<float> target, int at, float value) => target[at] = value;

            static float Total(ArrayView<float> values)
            {
                float sum = 0f;
                for (int k = 0; k < values.IntLength; k++) sum += values[k];
                return sum;
            }

            public static void Reduce(ArrayView<float> input, ArrayView<float> output, ArrayView<int> counter, ArrayView<double> dsum)
            {
                var tile = SharedMemory.Allocate<float>(128);
                ref int hits = ref SharedMemory.Allocate<int>();
                var scratch = LocalMemory.Allocate<float>(4);
                var dyn = SharedMemory.GetDynamic<float>();
                int gid = Grid.GlobalIndex.X;
                if (Group.IsFirstThread) hits = 0;
                tile[Group.IdxX] = gid < input.Length ? input[gid] : 0f;
                scratch[0] = tile[Group.IdxX];
                dyn[Group.IdxX] = scratch[0];
                Group.Barrier();
                for (int stride = Group.DimX / 2; stride > 0; stride >>= 1)
                {
                    if (Group.IdxX < stride) tile[Group.IdxX] += tile[Group.IdxX + stride];
                    Group.Barrier();
                }
                int any = Group.BarrierPopCount(tile[0] > 0f);
                bool all = Group.BarrierAnd(true);
                Atomic.Add(ref hits, 1);
                MemoryFence.DeviceLevel();
                if (Group.IdxX == 0)
                {
                    Atomic.Add(ref output[0], tile[0]);
                    Atomic.Max(ref output[1], Total(tile) + Total(input) + Total(scratch));
                    Atomic.CompareExchange(ref counter[0], 0, any + (all ? 1 : 0) + hits);
                    Atomic.Add(ref dsum[0], (double)tile[0]);
                    Store(tile, 0, 1f);
                    Store(output, 2, 1f);
                }
            }

            public static void Load(Accelerator accelerator) =>
                accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<double>>(Reduce);
        }
        """;

    public static readonly string[] All = { Saxpy, Arithmetic, StructsAndViews, Grouped };
}
