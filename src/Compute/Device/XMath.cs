namespace GpuDeconv.Compute;

/// <summary>Float and double math for kernels (ILGPU.Algorithms' <c>XMath</c>); on the CPU each member is the matching <see cref="Math"/>/<see cref="MathF"/> call.</summary>
public static class XMath
{
    public const float PI = MathF.PI;

    public const double PID = Math.PI;

    public static float Sin(float value) => MathF.Sin(value);

    public static double Sin(double value) => Math.Sin(value);

    public static float Cos(float value) => MathF.Cos(value);

    public static double Cos(double value) => Math.Cos(value);

    public static float Tan(float value) => MathF.Tan(value);

    public static double Tan(double value) => Math.Tan(value);

    public static float Asin(float value) => MathF.Asin(value);

    public static double Asin(double value) => Math.Asin(value);

    public static float Acos(float value) => MathF.Acos(value);

    public static double Acos(double value) => Math.Acos(value);

    public static float Atan(float value) => MathF.Atan(value);

    public static double Atan(double value) => Math.Atan(value);

    public static float Sinh(float value) => MathF.Sinh(value);

    public static double Sinh(double value) => Math.Sinh(value);

    public static float Cosh(float value) => MathF.Cosh(value);

    public static double Cosh(double value) => Math.Cosh(value);

    public static float Tanh(float value) => MathF.Tanh(value);

    public static double Tanh(double value) => Math.Tanh(value);

    public static float Exp(float value) => MathF.Exp(value);

    public static double Exp(double value) => Math.Exp(value);

    public static float Log(float value) => MathF.Log(value);

    public static double Log(double value) => Math.Log(value);

    public static float Log2(float value) => MathF.Log2(value);

    public static double Log2(double value) => Math.Log2(value);

    public static float Log10(float value) => MathF.Log10(value);

    public static double Log10(double value) => Math.Log10(value);

    public static float Sqrt(float value) => MathF.Sqrt(value);

    public static double Sqrt(double value) => Math.Sqrt(value);

    public static float Abs(float value) => MathF.Abs(value);

    public static double Abs(double value) => Math.Abs(value);

    public static float Floor(float value) => MathF.Floor(value);

    public static double Floor(double value) => Math.Floor(value);

    public static float Ceiling(float value) => MathF.Ceiling(value);

    public static double Ceiling(double value) => Math.Ceiling(value);

    public static float Truncate(float value) => MathF.Truncate(value);

    public static double Truncate(double value) => Math.Truncate(value);

    public static float Atan2(float y, float x) => MathF.Atan2(y, x);

    public static double Atan2(double y, double x) => Math.Atan2(y, x);

    public static float Pow(float @base, float exponent) => MathF.Pow(@base, exponent);

    public static double Pow(double @base, double exponent) => Math.Pow(@base, exponent);

    public static float Exp2(float value) => MathF.Pow(2f, value);

    public static double Exp2(double value) => Math.Pow(2.0, value);

    public static float Rsqrt(float value) => 1f / MathF.Sqrt(value);

    public static double Rsqrt(double value) => 1.0 / Math.Sqrt(value);

    public static float Rcp(float value) => 1f / value;

    public static double Rcp(double value) => 1.0 / value;

    public static float Min(float a, float b) => MathF.Min(a, b);

    public static double Min(double a, double b) => Math.Min(a, b);

    public static float Max(float a, float b) => MathF.Max(a, b);

    public static double Max(double a, double b) => Math.Max(a, b);

    public static float Clamp(float value, float min, float max) => Math.Clamp(value, min, max);

    public static double Clamp(double value, double min, double max) => Math.Clamp(value, min, max);

    /// <summary>Rounds half to even, like <see cref="Math.Round(double)"/>.</summary>
    public static float Round(float value) => MathF.Round(value);

    /// <summary>Rounds half to even, like <see cref="Math.Round(double)"/>.</summary>
    public static double Round(double value) => Math.Round(value);

    /// <summary>1, -1 or 0; NaN gives 0 (devices do not throw, unlike <see cref="Math.Sign(float)"/>).</summary>
    public static int Sign(float value) => value > 0 ? 1 : value < 0 ? -1 : 0;

    /// <summary>1, -1 or 0; NaN gives 0 (devices do not throw, unlike <see cref="Math.Sign(double)"/>).</summary>
    public static int Sign(double value) => value > 0 ? 1 : value < 0 ? -1 : 0;

    public static bool IsNaN(float value) => float.IsNaN(value);

    public static bool IsNaN(double value) => double.IsNaN(value);

    public static bool IsInfinity(float value) => float.IsInfinity(value);

    public static bool IsInfinity(double value) => double.IsInfinity(value);
}

/// <summary>Integer and float Abs, Min, Max and Clamp for kernels (ILGPU's <c>IntrinsicMath</c>).</summary>
public static class IntrinsicMath
{
    /// <summary>The absolute value; MinValue wraps to itself as on devices instead of throwing.</summary>
    public static int Abs(int value) => value < 0 ? unchecked(-value) : value;

    public static int Min(int a, int b) => Math.Min(a, b);

    public static int Max(int a, int b) => Math.Max(a, b);

    public static int Clamp(int value, int min, int max) => Math.Clamp(value, min, max);

    /// <summary>The absolute value; MinValue wraps to itself as on devices instead of throwing.</summary>
    public static long Abs(long value) => value < 0 ? unchecked(-value) : value;

    public static long Min(long a, long b) => Math.Min(a, b);

    public static long Max(long a, long b) => Math.Max(a, b);

    public static long Clamp(long value, long min, long max) => Math.Clamp(value, min, max);

    public static float Abs(float value) => Math.Abs(value);

    public static float Min(float a, float b) => Math.Min(a, b);

    public static float Max(float a, float b) => Math.Max(a, b);

    public static float Clamp(float value, float min, float max) => Math.Clamp(value, min, max);

    public static double Abs(double value) => Math.Abs(value);

    public static double Min(double a, double b) => Math.Min(a, b);

    public static double Max(double a, double b) => Math.Max(a, b);

    public static double Clamp(double value, double min, double max) => Math.Clamp(value, min, max);
}
