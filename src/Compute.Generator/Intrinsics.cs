using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace GpuDeconv.Compute.Generator;

/// <summary>How one target writes an intrinsic: C text with placeholders, or an emitter for what text cannot say.</summary>
/// <remarks>
/// Placeholders: <c>{0}</c>, <c>{1}</c>, ... the translated arguments; <c>{*}</c> all of them, comma-separated;
/// <c>{&amp;n}</c> the address of element [argument n+1] of the one-dimensional view argument n, and <c>{s}</c> the
/// suffix of that view's address space (g, l or p). The address is translated first, then every other argument once,
/// in order, so helper functions are emitted in the order the C# calls them.
/// </remarks>
internal sealed class Spelling
{
    private Spelling(string? text, Func<FunctionTranslator, IntrinsicCall, string>? emitter)
    {
        Text = text;
        Emitter = emitter;
    }

    public string? Text { get; }

    public Func<FunctionTranslator, IntrinsicCall, string>? Emitter { get; }

    public static implicit operator Spelling(string text) => new(text, null);

    public static Spelling Emit(Func<FunctionTranslator, IntrinsicCall, string> emitter) => new(null, emitter);
}

/// <summary>One intrinsic: the .NET member it matches (family, name, operand type, argument count) and its spelling on each target.</summary>
internal sealed class Intrinsic(string family, string member, SpecialType operand, int arity, Spelling cuda, Spelling openCL, int features)
{
    /// <summary>The family of .NET types the member belongs to (see <see cref="Intrinsics.OwnerOf"/>).</summary>
    public string Family { get; } = family;

    public string Member { get; } = member;

    /// <summary>The special type of the first parameter it applies to; <see cref="SpecialType.None"/> for any.</summary>
    public SpecialType Operand { get; } = operand;

    /// <summary>The number of arguments it applies to; <see cref="Intrinsics.AnyArity"/> for any.</summary>
    public int Arity { get; } = arity;

    public Spelling Cuda { get; } = cuda;

    public Spelling OpenCL { get; } = openCL;

    /// <summary>The <see cref="Feature"/> flags a kernel that uses it gets.</summary>
    public int Features { get; } = features;

    public Spelling For(Target target) => target == Target.Cuda ? Cuda : OpenCL;

    public override string ToString() => Family + "." + Member + (Operand == SpecialType.None ? "" : "(" + Operand + ")") + (Arity == Intrinsics.AnyArity ? "" : "/" + Arity);
}

/// <summary>A call (or property read) that matched an intrinsic, as an emitter sees it.</summary>
internal sealed class IntrinsicCall(IOperation operation, string display, IReadOnlyList<IOperation> arguments)
{
    public IOperation Operation { get; } = operation;

    /// <summary>The member as the user wrote it, e.g. <c>Group.BarrierAnd</c>, for diagnostics.</summary>
    public string Display { get; } = display;

    public IReadOnlyList<IOperation> Arguments { get; } = arguments;
}

/// <summary>The families a .NET type's members are looked up in, most specific first, and what to suggest when none matches.</summary>
internal sealed class IntrinsicOwner(string[] families, string? methodHint, string? propertyHint)
{
    public string[] Families { get; } = families;

    /// <summary>Suggestion for a method no entry matches; null when such a call is not an intrinsic after all.</summary>
    public string? MethodHint { get; } = methodHint;

    /// <summary>Suggestion for a property no entry matches; null when such a read is not an intrinsic after all.</summary>
    public string? PropertyHint { get; } = propertyHint;
}

/// <summary>
/// The intrinsics table: one entry per .NET member the translator maps, with its CUDA C and OpenCL C spelling. The
/// tree walk (<see cref="FunctionTranslator"/>) looks calls and property reads up here; names beginning with
/// <c>gd_</c>/<c>GD_</c> are defined for each target by the prelude (Prelude.h), so most entries spell both targets alike.
/// </summary>
/// <remarks>The regular families (C's math library, the integer Min/Max/Clamp, float and double) are built by loops.</remarks>
internal static class Intrinsics
{
    public const int AnyArity = -1;

    private const string GroupMethods = "use Barrier, BarrierPopCount, BarrierAnd or BarrierOr";
    private const string GroupProperties = "use IdxX/Y/Z, DimX/Y/Z, Index, Dimension or the linear indices";

    private const string MathHint =
        "see the translator's Math table (Abs, Sqrt, Exp, Log, Pow, trigonometry, Floor/Ceiling/Truncate/Round, Min/Max/Clamp, FusedMultiplyAdd, ...)";

    public static IReadOnlyList<Intrinsic> All { get; } = Build();

    private static readonly Dictionary<(string Family, string Member), Intrinsic[]> ByMember =
        All.GroupBy(e => (e.Family, e.Member)).ToDictionary(g => g.Key, g => g.ToArray());

    /// <summary>The families a member of <paramref name="owner"/> belongs to; null when the type holds no intrinsics.</summary>
    public static IntrinsicOwner? OwnerOf(ITypeSymbol owner, bool isStatic)
    {
        foreach (string device in new[] { "Grid", "Group" })
        {
            if (Symbols.Is(owner, device)) return new IntrinsicOwner(new[] { device }, GroupMethods, GroupProperties);
        }
        if (Symbols.Is(owner, "Warp"))
        {
            return new IntrinsicOwner(Array.Empty<string>(), "warp intrinsics are not portable to OpenCL 1.2; use shared memory and Group.Barrier()",
                "warp intrinsics are not portable; use shared memory and Group.Barrier()");
        }
        if (Symbols.Is(owner, "MemoryFence")) return new IntrinsicOwner(new[] { "MemoryFence" }, "use GroupLevel, DeviceLevel or SystemLevel", null);
        if (Symbols.Is(owner, "Atomic")) return new IntrinsicOwner(new[] { "Atomic" }, "use Add, Min, Max, And, Or, Xor, Exchange or CompareExchange", null);
        if (Symbols.Is(owner, "Float8"))
        {
            return new IntrinsicOwner(new[] { "Float8" },
                "use Splat, Load, LoadPartial, Store, StorePartial, StoreIndices, LoadOffsets, FusedMultiplyAdd, Add, Multiply or SelectIfAbove", null);
        }
        if (Symbols.IsSystem(owner, "Math") || Symbols.IsSystem(owner, "MathF") || Symbols.Is(owner, "XMath") || Symbols.Is(owner, "IntrinsicMath"))
            return new IntrinsicOwner(new[] { "Math" }, MathHint, null);
        if (Symbols.IsSystem(owner, "BitConverter"))
            return new IntrinsicOwner(new[] { "BitConverter" }, "use SingleToInt32Bits, Int32BitsToSingle, DoubleToInt64Bits or Int64BitsToDouble", null);
        if (!isStatic) return null;
        // float.IsNaN(x) and friends first, then the Math family (float.Sqrt(x) is MathF.Sqrt(x)).
        if (owner.SpecialType == SpecialType.System_Single) return new IntrinsicOwner(new[] { "Single", "Math" }, MathHint, null);
        if (owner.SpecialType == SpecialType.System_Double) return new IntrinsicOwner(new[] { "Double", "Math" }, MathHint, null);
        // int.Min(a, b) and the like are Math's; any other static member of an integer type is not an intrinsic.
        if (CText.IsInteger(owner.SpecialType)) return new IntrinsicOwner(new[] { "Math" }, null, null);
        return null;
    }

    /// <summary>The operand type a method's entry is chosen by: its first parameter's (Index1D as int, enums as their underlying type).</summary>
    public static SpecialType Operand(IMethodSymbol method) =>
        Symbols.Arithmetic(method.Parameters.Length > 0 ? method.Parameters[0].Type : method.ReturnType);

    /// <summary>The entry for a member of <paramref name="owner"/> with the given operand type and argument count, or null.</summary>
    public static Intrinsic? Find(IntrinsicOwner owner, string member, SpecialType operand, int arity)
    {
        foreach (string family in owner.Families)
        {
            if (!ByMember.TryGetValue((family, member), out var entries)) continue;
            foreach (var entry in entries)
            {
                if ((entry.Operand == SpecialType.None || entry.Operand == operand) && (entry.Arity == AnyArity || entry.Arity == arity)) return entry;
            }
        }
        return null;
    }

    private static List<Intrinsic> Build()
    {
        var table = new List<Intrinsic>();
        void Add(string family, string member, Spelling cuda, Spelling openCL, int arity = AnyArity, SpecialType operand = SpecialType.None, int features = 0) =>
            table.Add(new Intrinsic(family, member, operand, arity, cuda, openCL, features));
        void Same(string family, string member, string both, int arity = AnyArity, SpecialType operand = SpecialType.None, int features = 0) =>
            Add(family, member, both, both, arity, operand, features);

        // Grid and Group: the prelude's macros over blockIdx/threadIdx (CUDA) and get_group_id/get_local_id (OpenCL).
        const int group = Feature.GroupIntrinsics;
        foreach (var (family, prefix) in new[] { ("Grid", "GD_GRID_"), ("Group", "GD_GROUP_") })
        {
            foreach (string axis in new[] { "X", "Y", "Z" })
            {
                Same(family, "Idx" + axis, prefix + "IDX_" + axis, features: group);
                Same(family, "Dim" + axis, prefix + "DIM_" + axis, features: group);
            }
            Same(family, "Index", prefix + "INDEX", features: group);
            Same(family, "Dimension", prefix + "DIMENSION", features: group);
            Same(family, "LinearIndex", prefix + "LINEAR_INDEX", features: group);
        }
        Same("Grid", "GlobalIndex", "GD_GLOBAL_INDEX", features: group);
        Same("Grid", "GlobalDimension", "GD_GLOBAL_DIMENSION", features: group);
        Same("Grid", "GlobalLinearIndex", "GD_GLOBAL_LINEAR_INDEX", features: group);
        Same("Group", "IsFirstThread", "(GD_GROUP_LINEAR_INDEX == 0)", features: group);
        Same("Group", "IsLastThread", "(GD_GROUP_LINEAR_INDEX == GD_GROUP_SIZE - 1)", features: group);

        // Barriers. OpenCL 1.2 has no counting barrier: a __local counter that only the kernel body can declare.
        const int barrier = Feature.GroupIntrinsics | Feature.Barrier;
        Same("Group", "Barrier", "GD_BARRIER()", features: barrier);
        Add("Group", "BarrierPopCount", "__syncthreads_count({0})", Spelling.Emit(static (t, c) => t.BarrierCount(c, count => count)), 1, features: barrier);
        Add("Group", "BarrierAnd", "(__syncthreads_and({0}) != 0)", Spelling.Emit(static (t, c) => t.BarrierCount(c, count => "(" + count + " == GD_GROUP_SIZE)")), 1,
            features: barrier);
        Add("Group", "BarrierOr", "(__syncthreads_or({0}) != 0)", Spelling.Emit(static (t, c) => t.BarrierCount(c, count => "(" + count + " > 0)")), 1, features: barrier);

        Same("MemoryFence", "GroupLevel", "GD_FENCE_GROUP()");
        Same("MemoryFence", "DeviceLevel", "GD_FENCE_DEVICE()");
        Same("MemoryFence", "SystemLevel", "GD_FENCE_SYSTEM()");

        // Atomics: gd_atomic_<op>_<type>_<space>, which the prelude defines per target; the emitter checks the type and the address.
        foreach (var (member, op, arity) in new[]
                 {
                     ("Add", "add", 2), ("Min", "min", 2), ("Max", "max", 2), ("And", "and", 2), ("Or", "or", 2), ("Xor", "xor", 2),
                     ("Exchange", "exchange", 2), ("CompareExchange", "cas", 3),
                 })
        {
            var atomic = Spelling.Emit((t, c) => t.AtomicCall(c, op));
            Add("Atomic", member, atomic, atomic, arity);
        }

        // Float8: a struct of eight floats on CUDA, float8 with vload8/vstore8 on OpenCL (the prelude's gd_f8_*).
        Same("Float8", "Splat", "gd_f8_splat({0})", 1);
        Same("Float8", "FusedMultiplyAdd", "gd_f8_fma({0}, {1}, {2})", 3);
        Same("Float8", "Add", "gd_f8_add({0}, {1})", 2);
        Same("Float8", "Multiply", "gd_f8_mul({0}, {1})", 2);
        Same("Float8", "SelectIfAbove", "gd_f8_select_above({0}, {1}, {2}, {3})", 4);
        Same("Float8", "Load", "gd_f8_load({&0})", 2);
        Same("Float8", "LoadPartial", "gd_f8_load_part_{s}({&0}, {2})", 3);
        Same("Float8", "Store", "gd_f8_store({0}, {&1})", 3);
        Same("Float8", "StorePartial", "gd_f8_store_part_{s}({0}, {&1}, {3})", 4);
        Same("Float8", "StoreIndices", "gd_f8_store_indices_{s}({0}, {1}, {2}, {&3}, {5})", 6); // positions -> 64-bit indices (argmax switches)
        Same("Float8", "LoadOffsets", "gd_f8_load_offsets_{s}({&0}, {2}, {3})", 4);

        // C's math library: CUDA spells the float overload with a trailing f, OpenCL overloads one name.
        foreach (var (member, c, arity) in new[]
                 {
                     ("Abs", "fabs", AnyArity), ("Sqrt", "sqrt", AnyArity), ("Exp", "exp", AnyArity), ("Exp2", "exp2", AnyArity), ("Log", "log", 1),
                     ("Log2", "log2", AnyArity), ("Log10", "log10", AnyArity), ("Pow", "pow", AnyArity), ("Sin", "sin", AnyArity), ("Cos", "cos", AnyArity),
                     ("Tan", "tan", AnyArity), ("Asin", "asin", AnyArity), ("Acos", "acos", AnyArity), ("Atan", "atan", AnyArity), ("Atan2", "atan2", AnyArity),
                     ("Sinh", "sinh", AnyArity), ("Cosh", "cosh", AnyArity), ("Tanh", "tanh", AnyArity), ("Asinh", "asinh", AnyArity),
                     ("Acosh", "acosh", AnyArity), ("Atanh", "atanh", AnyArity), ("Floor", "floor", AnyArity), ("Ceiling", "ceil", AnyArity),
                     ("Truncate", "trunc", AnyArity), ("Round", "rint", 1), // half to even, like .NET's default
                     ("Cbrt", "cbrt", AnyArity), ("CopySign", "copysign", AnyArity), ("FusedMultiplyAdd", "fma", AnyArity),
                     ("IEEERemainder", "remainder", AnyArity),
                 })
        {
            Add("Math", member, c + "f({*})", c + "({*})", arity, SpecialType.System_Single);
            Same("Math", member, c + "({*})", arity, SpecialType.System_Double, Feature.Double);
        }

        // The rest of float and double math: prelude helpers with .NET's NaN and signed-zero rules.
        foreach (var (operand, tag, one, rsqrt, log, features) in new[]
                 {
                     (SpecialType.System_Single, "f32", "1.0f", "GD_RSQRT_F", "logf", 0),
                     (SpecialType.System_Double, "f64", "1.0", "GD_RSQRT", "log", Feature.Double),
                 })
        {
            Add("Math", "Log", "(" + log + "({0}) / " + log + "({1}))", "(log({0}) / log({1}))", 2, operand, features);
            Same("Math", "Rsqrt", rsqrt + "({0})", operand: operand, features: features);
            Same("Math", "Rcp", "(" + one + " / {0})", operand: operand, features: features);
            foreach (string member in new[] { "Min", "Max", "Clamp" }) Same("Math", member, "gd_" + member.ToLowerInvariant() + "_" + tag + "({*})", operand: operand, features: features);
            Same("Math", "Sign", "gd_sign_" + tag + "({0})", operand: operand, features: features);
            Same("Math", "IsNaN", "gd_isnan_" + tag + "({0})", operand: operand, features: features);
            Same("Math", "IsInfinity", "gd_isinf_" + tag + "({0})", operand: operand, features: features);
        }

        // Integer Abs/Min/Max/Clamp/Sign; types narrower than int compute in int and cast back.
        foreach (var type in new[]
                 {
                     SpecialType.System_SByte, SpecialType.System_Byte, SpecialType.System_Int16, SpecialType.System_UInt16,
                     SpecialType.System_Int32, SpecialType.System_UInt32, SpecialType.System_Int64, SpecialType.System_UInt64,
                 })
        {
            bool small = type is SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16;
            string tag = small ? "i32" : CText.Tag(type)!;
            string cast = small ? "(" + CText.Primitive(type, Target.OpenCL) + ")" : "";
            if (CText.IsSigned(type)) Same("Math", "Abs", cast + "gd_abs_" + tag + "({0})", operand: type); // no public Abs takes an unsigned type
            foreach (string member in new[] { "Min", "Max", "Clamp" }) Same("Math", member, "(" + cast + "gd_" + member.ToLowerInvariant() + "_" + tag + "({*}))", operand: type);
            Same("Math", "Sign", "gd_sign_" + tag + "({0})", operand: type);
        }

        // float.IsNaN(x) and friends (static members of the types themselves; float.Sqrt(x) and the like fall through to Math).
        foreach (var (family, tag, bits, infinity) in new[] { ("Single", "f32", "GD_F32_BITS", "GD_INF_F"), ("Double", "f64", "GD_F64_BITS", "GD_INF") })
        {
            Same(family, "IsNaN", "gd_isnan_" + tag + "({0})", 1);
            Same(family, "IsInfinity", "gd_isinf_" + tag + "({0})", 1);
            Same(family, "IsFinite", "gd_isfinite_" + tag + "({0})", 1);
            Same(family, "IsPositiveInfinity", "({0} == " + infinity + ")", 1);
            Same(family, "IsNegativeInfinity", "({0} == -" + infinity + ")", 1);
            Same(family, "IsNegative", "(" + bits + "({0}) < 0)", 1);
        }

        // BitConverter: reinterpretations (__float_as_int on CUDA, as_int on OpenCL).
        Same("BitConverter", "SingleToInt32Bits", "GD_F32_BITS({0})", 1);
        Same("BitConverter", "SingleToUInt32Bits", "GD_F32_UBITS({0})", 1);
        Same("BitConverter", "Int32BitsToSingle", "GD_BITS_F32({0})", 1);
        Same("BitConverter", "UInt32BitsToSingle", "GD_BITS_F32((int){0})", 1);
        Same("BitConverter", "DoubleToInt64Bits", "GD_F64_BITS({0})", 1);
        Same("BitConverter", "DoubleToUInt64Bits", "GD_F64_UBITS({0})", 1);
        Same("BitConverter", "Int64BitsToDouble", "GD_BITS_F64({0})", 1);
        Same("BitConverter", "UInt64BitsToDouble", "GD_BITS_F64({0})", 1);
        return table;
    }
}
