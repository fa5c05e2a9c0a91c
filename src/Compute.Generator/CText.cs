using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;

namespace GpuDeconv.Compute.Generator;

/// <summary>Spelling of C identifiers, literals and primitive types for both targets.</summary>
internal static class CText
{
    // C, C++ and OpenCL C keywords plus the builtins the translator calls by name: a C# local
    // called `half`, `min` or `exp` must not shadow them.
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
        "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
        "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool",
        "true", "false", "class", "namespace", "template", "this", "new", "delete", "operator", "private", "public",
        "protected", "friend", "virtual", "typename", "using", "try", "catch", "throw", "mutable", "explicit", "export",
        "asm", "and", "or", "not", "xor", "bitand", "bitor", "compl", "and_eq", "or_eq", "xor_eq", "not_eq", "nullptr",
        "constexpr", "decltype", "noexcept", "static_assert", "thread_local", "alignas", "alignof", "char16_t", "char32_t",
        "wchar_t", "dynamic_cast", "static_cast", "const_cast", "reinterpret_cast", "typeid", "concept", "requires",
        "half", "uchar", "ushort", "uint", "ulong", "sbyte", "size_t", "ptrdiff_t", "intptr_t", "uintptr_t",
        "global", "local", "constant", "kernel", "read_only", "write_only", "read_write", "image2d_t", "image3d_t",
        "sampler_t", "event_t", "complex", "imaginary", "quad", "vec_type_hint", "work_group_size_hint", "uniform",
        "threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize", "main", "printf", "assert",
        "min", "max", "clamp", "abs", "fabs", "sqrt", "rsqrt", "exp", "exp2", "exp10", "log", "log2", "log10", "pow",
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "floor", "ceil", "trunc", "round", "rint", "fma", "mad", "fmod", "cbrt", "hypot", "copysign", "sign", "select",
        "barrier", "mem_fence", "isnan", "isinf", "isfinite", "signbit", "expm1", "log1p", "fmin", "fmax", "mix", "step",
        "dot", "cross", "length", "distance", "normalize", "native_exp", "ldexp", "frexp", "modf", "nan", "remainder",
    };

    /// <summary>A C identifier for a C# name: reserved words, <c>gd_</c> names and our suffixes get a trailing underscore.</summary>
    public static string Identifier(string name)
    {
        var b = new StringBuilder(name.Length + 1);
        foreach (char c in name)
        {
            if (c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_') b.Append(c);
            else b.Append('u').Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        string s = b.ToString();
        if (s.Length == 0 || char.IsDigit(s[0])) s = "_" + s;
        if (Reserved.Contains(s) || IsVectorType(s) || s.StartsWith("gd_", StringComparison.OrdinalIgnoreCase) ||
            s.StartsWith("GD_", StringComparison.Ordinal) || s.StartsWith("__", StringComparison.Ordinal) ||
            s.StartsWith("atomic", StringComparison.Ordinal) || s.StartsWith("convert_", StringComparison.Ordinal) ||
            s.StartsWith("as_", StringComparison.Ordinal) || s.StartsWith("get_", StringComparison.Ordinal) ||
            s.EndsWith("_len", StringComparison.Ordinal) || s.EndsWith("_off", StringComparison.Ordinal) ||
            s.EndsWith("_ex", StringComparison.Ordinal) || s.EndsWith("_ey", StringComparison.Ordinal) ||
            s.EndsWith("_ez", StringComparison.Ordinal) || s.EndsWith("_u8", StringComparison.Ordinal) ||
            s.EndsWith("_", StringComparison.Ordinal))
        {
            s += "_";
        }
        return s;
    }

    private static bool IsVectorType(string s)
    {
        foreach (string prefix in new[] { "char", "uchar", "short", "ushort", "int", "uint", "long", "ulong", "float", "double", "half", "bool" })
        {
            if (!s.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string rest = s.Substring(prefix.Length);
            if (rest is "2" or "3" or "4" or "8" or "16") return true;
        }
        return false;
    }

    /// <summary>A C identifier for a type or method, from its containing types and name.</summary>
    public static string QualifiedIdentifier(ISymbol symbol)
    {
        var parts = new List<string>();
        for (ISymbol? s = symbol; s != null && s is not INamespaceSymbol; s = s.ContainingType) parts.Add(s.Name);
        parts.Reverse();
        return Identifier(string.Join("_", parts));
    }

    /// <summary>The C type of a primitive special type, or null.</summary>
    public static string? Primitive(SpecialType type, Target target) => type switch
    {
        SpecialType.System_Boolean => "bool",
        SpecialType.System_SByte => "sbyte",
        SpecialType.System_Byte => "uchar",
        SpecialType.System_Int16 => "short",
        SpecialType.System_UInt16 => "ushort",
        SpecialType.System_Int32 => "int",
        SpecialType.System_UInt32 => "uint",
        SpecialType.System_Int64 => target == Target.Cuda ? "long long" : "long",
        SpecialType.System_UInt64 => "ulong",
        SpecialType.System_Single => "float",
        SpecialType.System_Double => "double",
        _ => null,
    };

    /// <summary>Short type tag used in prelude helper names: i32, u64, f32, ...</summary>
    public static string? Tag(SpecialType type) => type switch
    {
        SpecialType.System_SByte => "i8",
        SpecialType.System_Byte => "u8",
        SpecialType.System_Int16 => "i16",
        SpecialType.System_UInt16 => "u16",
        SpecialType.System_Int32 => "i32",
        SpecialType.System_UInt32 => "u32",
        SpecialType.System_Int64 => "i64",
        SpecialType.System_UInt64 => "u64",
        SpecialType.System_Single => "f32",
        SpecialType.System_Double => "f64",
        _ => null,
    };

    public static bool IsSigned(SpecialType t) => t is SpecialType.System_SByte or SpecialType.System_Int16 or SpecialType.System_Int32 or SpecialType.System_Int64;

    public static bool IsUnsigned(SpecialType t) => t is SpecialType.System_Byte or SpecialType.System_UInt16 or SpecialType.System_UInt32 or SpecialType.System_UInt64;

    public static bool IsInteger(SpecialType t) => IsSigned(t) || IsUnsigned(t);

    public static bool IsFloat(SpecialType t) => t is SpecialType.System_Single or SpecialType.System_Double;

    public static bool Is64(SpecialType t) => t is SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Double;

    /// <summary>A C literal for a constant of <paramref name="type"/> (an enum's constant uses its underlying type); null if not representable.</summary>
    public static string? Literal(object? value, SpecialType type, Target target)
    {
        bool cuda = target == Target.Cuda;
        switch (type)
        {
            case SpecialType.System_Boolean:
                return value is true ? "true" : "false";
            case SpecialType.System_SByte:
            case SpecialType.System_Int16:
            {
                long v = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                return "((" + Primitive(type, target) + ")" + (v < 0 ? "(" + v.Invariant() + ")" : v.Invariant()) + ")";
            }
            case SpecialType.System_Byte:
            case SpecialType.System_UInt16:
                return "((" + Primitive(type, target) + ")" + Convert.ToInt64(value, CultureInfo.InvariantCulture).Invariant() + ")";
            case SpecialType.System_Int32:
            {
                int v = Convert.ToInt32(value, CultureInfo.InvariantCulture);
                if (v == int.MinValue) return "(-2147483647 - 1)";
                return v < 0 ? "(" + v.Invariant() + ")" : v.Invariant();
            }
            case SpecialType.System_UInt32:
                return Convert.ToUInt32(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) + "u";
            case SpecialType.System_Int64:
            {
                long v = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                string suffix = cuda ? "LL" : "L";
                if (v == long.MinValue) return "(-9223372036854775807" + suffix + " - 1" + suffix + ")";
                return v < 0 ? "(" + v.Invariant() + suffix + ")" : v.Invariant() + suffix;
            }
            case SpecialType.System_UInt64:
                return Convert.ToUInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) + (cuda ? "ULL" : "UL");
            case SpecialType.System_Single:
            {
                float v = Convert.ToSingle(value, CultureInfo.InvariantCulture);
                if (float.IsNaN(v)) return "GD_NAN_F";
                if (float.IsPositiveInfinity(v)) return "GD_INF_F";
                if (float.IsNegativeInfinity(v)) return "(-GD_INF_F)";
                string s = FloatDigits(v.ToString("R", CultureInfo.InvariantCulture)) + "f";
                return s.StartsWith("-", StringComparison.Ordinal) || (v == 0 && BitConverter.DoubleToInt64Bits(v) < 0) ? "(" + (s.StartsWith("-", StringComparison.Ordinal) ? s : "-" + s) + ")" : s;
            }
            case SpecialType.System_Double:
            {
                double v = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(v)) return "GD_NAN";
                if (double.IsPositiveInfinity(v)) return "GD_INF";
                if (double.IsNegativeInfinity(v)) return "(-GD_INF)";
                string s = FloatDigits(v.ToString("R", CultureInfo.InvariantCulture));
                return s.StartsWith("-", StringComparison.Ordinal) || (v == 0 && BitConverter.DoubleToInt64Bits(v) < 0) ? "(" + (s.StartsWith("-", StringComparison.Ordinal) ? s : "-" + s) + ")" : s;
            }
            default:
                return null;
        }
    }

    // "3" -> "3.0", "1E+20" stays (C reads it as floating), so the suffix always applies to a floating literal.
    private static string FloatDigits(string s) =>
        s.IndexOf('.') >= 0 || s.IndexOf('E') >= 0 || s.IndexOf('e') >= 0 ? s : s + ".0";

    /// <summary>A C string-free rendering of a comment: file name and line of a syntax node.</summary>
    public static string LineMarker(SyntaxNode? node)
    {
        if (node == null) return "";
        var span = node.GetLocation().GetLineSpan();
        string file = System.IO.Path.GetFileName(span.Path);
        return file + ":" + (span.StartLinePosition.Line + 1).Invariant();
    }
}
