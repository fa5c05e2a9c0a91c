using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

// Intrinsics: the device API (Group, Grid, Atomic, Float8, MemoryFence) and the BCL math the translator maps.
internal sealed partial class FunctionTranslator
{
    private string GroupProperty(IPropertyReferenceOperation property)
    {
        _p.Features |= Feature.GroupIntrinsics;
        bool grid = property.Property.ContainingType.Name == "Grid";
        string name = property.Property.Name;
        string? result = (grid, name) switch
        {
            (_, "IdxX") => grid ? "GD_GRID_IDX_X" : "GD_GROUP_IDX_X",
            (_, "IdxY") => grid ? "GD_GRID_IDX_Y" : "GD_GROUP_IDX_Y",
            (_, "IdxZ") => grid ? "GD_GRID_IDX_Z" : "GD_GROUP_IDX_Z",
            (_, "DimX") => grid ? "GD_GRID_DIM_X" : "GD_GROUP_DIM_X",
            (_, "DimY") => grid ? "GD_GRID_DIM_Y" : "GD_GROUP_DIM_Y",
            (_, "DimZ") => grid ? "GD_GRID_DIM_Z" : "GD_GROUP_DIM_Z",
            (_, "Index") => grid ? "GD_GRID_INDEX" : "GD_GROUP_INDEX",
            (_, "Dimension") => grid ? "GD_GRID_DIMENSION" : "GD_GROUP_DIMENSION",
            (true, "GlobalIndex") => "GD_GLOBAL_INDEX",
            (true, "GlobalDimension") => "GD_GLOBAL_DIMENSION",
            (true, "GlobalLinearIndex") => "GD_GLOBAL_LINEAR_INDEX",
            (true, "LinearIndex") => "GD_GRID_LINEAR_INDEX",
            (false, "LinearIndex") => "GD_GROUP_LINEAR_INDEX",
            (false, "IsFirstThread") => "(GD_GROUP_LINEAR_INDEX == 0)",
            (false, "IsLastThread") => "(GD_GROUP_LINEAR_INDEX == GD_GROUP_SIZE - 1)",
            _ => null,
        };
        if (result != null) return result;
        Sink.Report(Diagnostics.UnsupportedIntrinsic, property.Syntax, (grid ? "Grid." : "Group.") + name, "use IdxX/Y/Z, DimX/Y/Z, Index, Dimension or the linear indices");
        return Fail();
    }

    /// <summary>Float8 operations → the prelude's gd_f8_* (float8 and vload8/vstore8/fma on OpenCL).</summary>
    private string Float8Call(IInvocationOperation invocation, string name, List<IOperation> values)
    {
        switch (name)
        {
            case "Splat" when values.Count == 1: return "gd_f8_splat(" + Expr(values[0]) + ")";
            case "FusedMultiplyAdd" when values.Count == 3: return "gd_f8_fma(" + Expr(values[0]) + ", " + Expr(values[1]) + ", " + Expr(values[2]) + ")";
            case "Add" when values.Count == 2: return "gd_f8_add(" + Expr(values[0]) + ", " + Expr(values[1]) + ")";
            case "Multiply" when values.Count == 2: return "gd_f8_mul(" + Expr(values[0]) + ", " + Expr(values[1]) + ")";
            case "SelectIfAbove" when values.Count == 4:
                return "gd_f8_select_above(" + Expr(values[0]) + ", " + Expr(values[1]) + ", " + Expr(values[2]) + ", " + Expr(values[3]) + ")";
            case "StoreIndices" when values.Count == 6:
            {
                // Float8 of positions -> a view of 64-bit indices (argmax switches).
                if (Float8Address(invocation, name, values, 3) is not (var address, var suffix)) return Fail();
                return "gd_f8_store_indices_" + suffix + "(" + Expr(values[0]) + ", " + Expr(values[1]) + ", " + Expr(values[2]) + ", " + address + ", " + Expr(values[5]) + ")";
            }
            case "LoadOffsets" when values.Count == 4:
            {
                if (Float8Address(invocation, name, values, 0) is not (var address, var suffix)) return Fail();
                return "gd_f8_load_offsets_" + suffix + "(" + address + ", " + Expr(values[2]) + ", " + Expr(values[3]) + ")";
            }
            case "Load" or "LoadPartial" or "Store" or "StorePartial":
            {
                bool store = name.StartsWith("Store", StringComparison.Ordinal);
                if (Float8Address(invocation, name, values, store ? 1 : 0) is not (var address, var suffix)) return Fail();
                return name switch
                {
                    "Load" => "gd_f8_load(" + address + ")",
                    "LoadPartial" => "gd_f8_load_part_" + suffix + "(" + address + ", " + Expr(values[2]) + ")",
                    "Store" => "gd_f8_store(" + Expr(values[0]) + ", " + address + ")",
                    _ => "gd_f8_store_part_" + suffix + "(" + Expr(values[0]) + ", " + address + ", " + Expr(values[3]) + ")",
                };
            }
        }
        return Unsupported(invocation, "Float8." + name, "use Splat, Load, LoadPartial, Store, StorePartial, StoreIndices, LoadOffsets, FusedMultiplyAdd, Add, Multiply or SelectIfAbove");
    }

    /// <summary>
    /// The C address of element values[at + 1] of the one-dimensional view values[at], and the suffix of the prelude
    /// function for its address space (g, l or p); null after reporting a view Float8 cannot take.
    /// </summary>
    private (string Address, string Suffix)? Float8Address(IInvocationOperation invocation, string name, List<IOperation> values, int at)
    {
        var view = View(values[at]);
        if (view == null) return null;
        if (view.Rank != 1)
        {
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "Float8." + name + " takes a one-dimensional view");
            return null;
        }
        string suffix = view.Space switch { Space.Local => "l", Space.Private => "p", _ => "g" };
        return ("&" + view.Pointer + "[" + Expr(values[at + 1]) + "]", suffix);
    }

    /// <summary>Known device functions; null when <paramref name="method"/> is not one (the caller then tries helpers).</summary>
    private string? Intrinsic(IInvocationOperation invocation, IMethodSymbol method, INamedTypeSymbol owner, List<IArgumentOperation> args)
    {
        string name = method.Name;
        var values = args.Select(a => a.Value).ToList();
        if (Symbols.Is(owner, "Group") || Symbols.Is(owner, "Grid"))
        {
            _p.Features |= Feature.GroupIntrinsics;
            switch (name)
            {
                case "Barrier":
                    _p.Features |= Feature.Barrier;
                    return "GD_BARRIER()";
                case "BarrierPopCount" or "BarrierAnd" or "BarrierOr" when values.Count == 1:
                {
                    _p.Features |= Feature.Barrier;
                    string predicate = Expr(values[0]);
                    if (Cuda)
                    {
                        return name switch
                        {
                            "BarrierPopCount" => "__syncthreads_count(" + predicate + ")",
                            "BarrierAnd" => "(__syncthreads_and(" + predicate + ") != 0)",
                            _ => "(__syncthreads_or(" + predicate + ") != 0)",
                        };
                    }
                    if (_role != FunctionRole.ExplicitKernel)
                    {
                        Sink.Report(Diagnostics.UnsupportedIntrinsic, invocation.Syntax, "Group." + name + " outside an explicitly grouped kernel's body",
                            "OpenCL 1.2 emulates it with a counter in local memory that only the kernel body can declare; call it in the kernel and pass the result");
                        return Fail();
                    }
                    _p.Features |= Feature.SharedMemory;
                    UsesBarrierSlot = true;
                    string count = "gd_barrier_popcount(&gd_barrier_slot, " + predicate + ")";
                    return name switch
                    {
                        "BarrierPopCount" => count,
                        "BarrierAnd" => "(" + count + " == GD_GROUP_SIZE)",
                        _ => "(" + count + " > 0)",
                    };
                }
            }
            Sink.Report(Diagnostics.UnsupportedIntrinsic, invocation.Syntax, owner.Name + "." + name, "use Barrier, BarrierPopCount, BarrierAnd or BarrierOr");
            return Fail();
        }
        if (Symbols.Is(owner, "MemoryFence"))
        {
            return name switch
            {
                "GroupLevel" => "GD_FENCE_GROUP()",
                "DeviceLevel" => "GD_FENCE_DEVICE()",
                "SystemLevel" => "GD_FENCE_SYSTEM()",
                _ => Unsupported(invocation, "MemoryFence." + name, "use GroupLevel, DeviceLevel or SystemLevel"),
            };
        }
        if (Symbols.Is(owner, "Warp"))
            return Unsupported(invocation, "Warp." + name, "warp intrinsics are not portable to OpenCL 1.2; use shared memory and Group.Barrier()");
        if (Symbols.Is(owner, "Atomic")) return Atomic(invocation, name, args);
        if (Symbols.Is(owner, "Float8")) return Float8Call(invocation, name, values);
        if (Symbols.Is(owner, "SharedMemory") || Symbols.Is(owner, "LocalMemory"))
        {
            if (method.ReturnsByRef)
            {
                Sink.Report(Diagnostics.SharedMemory, invocation.Syntax, "SharedMemory.Allocate<T>() must initialize a ref local ('ref T x = ref SharedMemory.Allocate<T>();')");
                return Fail();
            }
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "A view can only be indexed, sliced, measured or passed to a helper");
            return Fail();
        }
        bool math = owner.ContainingNamespace?.ToDisplayString() == "System" && owner.Name is "Math" or "MathF"
                    || Symbols.Is(owner, "XMath") || Symbols.Is(owner, "IntrinsicMath");
        if (math) return MathCall(invocation, owner.Name + "." + name, name, values, method);
        if (Symbols.IsSystem(owner, "BitConverter"))
        {
            string arg = values.Count == 1 ? Expr(values[0]) : "";
            return name switch
            {
                "SingleToInt32Bits" => "GD_F32_BITS(" + arg + ")",
                "SingleToUInt32Bits" => "GD_F32_UBITS(" + arg + ")",
                "Int32BitsToSingle" => "GD_BITS_F32(" + arg + ")",
                "UInt32BitsToSingle" => "GD_BITS_F32((int)" + arg + ")",
                "DoubleToInt64Bits" => "GD_F64_BITS(" + arg + ")",
                "DoubleToUInt64Bits" => "GD_F64_UBITS(" + arg + ")",
                "Int64BitsToDouble" => "GD_BITS_F64(" + arg + ")",
                "UInt64BitsToDouble" => "GD_BITS_F64(" + arg + ")",
                _ => Unsupported(invocation, "BitConverter." + name, "use SingleToInt32Bits, Int32BitsToSingle, DoubleToInt64Bits or Int64BitsToDouble"),
            };
        }
        if (owner.SpecialType is SpecialType.System_Single or SpecialType.System_Double && method.IsStatic)
        {
            string tag = owner.SpecialType == SpecialType.System_Single ? "f32" : "f64";
            string inf = owner.SpecialType == SpecialType.System_Single ? "GD_INF_F" : "GD_INF";
            string arg = values.Count == 1 ? Expr(values[0]) : "";
            return name switch
            {
                "IsNaN" => "gd_isnan_" + tag + "(" + arg + ")",
                "IsInfinity" => "gd_isinf_" + tag + "(" + arg + ")",
                "IsFinite" => "gd_isfinite_" + tag + "(" + arg + ")",
                "IsPositiveInfinity" => "(" + arg + " == " + inf + ")",
                "IsNegativeInfinity" => "(" + arg + " == -" + inf + ")",
                "IsNegative" => "(GD_" + (tag == "f32" ? "F32" : "F64") + "_BITS(" + arg + ") < 0)",
                _ => MathCall(invocation, owner.Name + "." + name, name, values, method),
            };
        }
        if (CText.IsInteger(owner.SpecialType) && method.IsStatic && name is "Min" or "Max" or "Clamp" or "Abs" or "Sign")
            return MathCall(invocation, owner.Name + "." + name, name, values, method);
        if (owner.ContainingNamespace?.ToDisplayString() is "System" or "System.Numerics" or "System.Runtime.Intrinsics" && owner.Locations.All(l => !l.IsInSource))
        {
            if (owner.SpecialType is SpecialType.System_String or SpecialType.System_Char || owner.Name == "Console")
                Sink.Report(Diagnostics.Strings, invocation.Syntax, "'" + owner.Name + "." + name + "'");
            else
                Sink.Report(Diagnostics.UntranslatableCall, invocation.Syntax, owner.Name + "." + name, "it is not a mapped intrinsic");
            return Fail();
        }
        return null;
    }

    private string Unsupported(IInvocationOperation invocation, string what, string instead)
    {
        Sink.Report(Diagnostics.UnsupportedIntrinsic, invocation.Syntax, what, instead);
        return Fail();
    }

    private string Atomic(IInvocationOperation invocation, string name, List<IArgumentOperation> args)
    {
        string? op = name switch
        {
            "Add" => "add",
            "Sub" => "sub",
            "Min" => "min",
            "Max" => "max",
            "And" => "and",
            "Or" => "or",
            "Xor" => "xor",
            "Exchange" => "exchange",
            "CompareExchange" => "cas",
            _ => null,
        };
        if (op == null || args.Count < 2) return Unsupported(invocation, "Atomic." + name, "use Add, Sub, Min, Max, And, Or, Xor, Exchange or CompareExchange");
        var targetType = args[0].Value.Type;
        var special = targetType == null ? SpecialType.None : Underlying(targetType).SpecialType;
        // Atomics exist for the 32- and 64-bit types only.
        string? tag = special is SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64
            or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double
            ? CText.Tag(special)
            : null;
        if (tag == null)
            return Unsupported(invocation, "Atomic." + name + " on '" + targetType?.ToDisplayString() + "'", "atomics work on int, uint, long, ulong, float and double");
        if (CText.IsFloat(special) && op is "and" or "or" or "xor" or "sub")
            return Unsupported(invocation, "Atomic." + name + " on '" + targetType!.ToDisplayString() + "'", "float atomics support Add, Min, Max, Exchange and CompareExchange");
        var address = Address(args[0].Value, allowPrivate: false);
        if (address == null) return Fail();
        if (address.Value.Space == Space.Private)
            return Unsupported(invocation, "Atomic." + name + " on private memory", "atomics need a view element or shared memory");
        _p.Features |= Feature.Atomics;
        if (CText.IsFloat(special)) _p.Features |= Feature.FloatAtomics;
        if (CText.Is64(special)) _p.Features |= Feature.Int64Atomics;
        var rest = args.Skip(1).Select(a => Expr(a.Value));
        return "gd_atomic_" + op + "_" + tag + "_" + _p.AtomicSpace(address.Value.Space) + "(" + address.Value.Pointer + ", " + string.Join(", ", rest) + ")";
    }

    private string MathCall(IInvocationOperation invocation, string display, string name, List<IOperation> values, IMethodSymbol method)
    {
        var type = method.Parameters.Length > 0 ? Arithmetic(method.Parameters[0].Type) : Arithmetic(method.ReturnType);
        var args = values.Select(Expr).ToList();
        bool isFloat = type == SpecialType.System_Single;
        bool isDouble = type == SpecialType.System_Double;
        if (isDouble) _p.Features |= Feature.Double;
        string Call(string baseName) => (Cuda && isFloat ? baseName + "f" : baseName) + "(" + string.Join(", ", args) + ")";
        if (isFloat || isDouble)
        {
            string tag = isFloat ? "f32" : "f64";
            switch (name)
            {
                case "Abs": return Call("fabs");
                case "Sqrt": return Call("sqrt");
                case "Exp": return Call("exp");
                case "Exp2": return Call("exp2");
                case "Log" when args.Count == 1: return Call("log");
                case "Log" when args.Count == 2:
                    return "(" + (Cuda && isFloat ? "logf(" : "log(") + args[0] + ") / " + (Cuda && isFloat ? "logf(" : "log(") + args[1] + "))";
                case "Log2": return Call("log2");
                case "Log10": return Call("log10");
                case "Pow": return Call("pow");
                case "Sin": return Call("sin");
                case "Cos": return Call("cos");
                case "Tan": return Call("tan");
                case "Asin": return Call("asin");
                case "Acos": return Call("acos");
                case "Atan": return Call("atan");
                case "Atan2": return Call("atan2");
                case "Sinh": return Call("sinh");
                case "Cosh": return Call("cosh");
                case "Tanh": return Call("tanh");
                case "Asinh": return Call("asinh");
                case "Acosh": return Call("acosh");
                case "Atanh": return Call("atanh");
                case "Floor": return Call("floor");
                case "Ceiling": return Call("ceil");
                case "Truncate": return Call("trunc");
                case "Round" when args.Count == 1: return Call("rint"); // half to even, like .NET's default
                case "RoundToEven": return Call("rint");
                case "Cbrt": return Call("cbrt");
                case "CopySign": return Call("copysign");
                case "FusedMultiplyAdd" or "FMA": return Call("fma");
                case "IEEERemainder": return Call("remainder");
                case "Rsqrt": return (isFloat ? "GD_RSQRT_F(" : "GD_RSQRT(") + args[0] + ")";
                case "Rcp": return "(" + (isFloat ? "1.0f" : "1.0") + " / " + args[0] + ")";
                case "Min": return "gd_min_" + tag + "(" + string.Join(", ", args) + ")";
                case "Max": return "gd_max_" + tag + "(" + string.Join(", ", args) + ")";
                case "Clamp": return "gd_clamp_" + tag + "(" + string.Join(", ", args) + ")";
                case "Sign": return "gd_sign_" + tag + "(" + args[0] + ")";
                case "IsNaN": return "gd_isnan_" + tag + "(" + args[0] + ")";
                case "IsInfinity": return "gd_isinf_" + tag + "(" + args[0] + ")";
                case "IsFinite": return "gd_isfinite_" + tag + "(" + args[0] + ")";
            }
        }
        else if (CText.IsInteger(type))
        {
            bool small = type is SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16;
            string tag = small ? "i32" : CText.Tag(type)!;
            string cast = small ? "(" + CText.Primitive(type, _p.Target) + ")" : "";
            switch (name)
            {
                case "Abs" when CText.IsSigned(type): return cast + "gd_abs_" + (tag == "i64" ? "i64" : "i32") + "(" + args[0] + ")";
                case "Abs": return args[0];
                case "Min": return "(" + cast + "gd_min_" + tag + "(" + string.Join(", ", args) + "))";
                case "Max": return "(" + cast + "gd_max_" + tag + "(" + string.Join(", ", args) + "))";
                case "Clamp": return "(" + cast + "gd_clamp_" + tag + "(" + string.Join(", ", args) + "))";
                case "Sign": return "gd_sign_" + tag + "(" + args[0] + ")";
            }
        }
        return Unsupported(invocation, display, "see the translator's Math table (Abs, Sqrt, Exp, Log, Pow, trigonometry, Floor/Ceiling/Truncate/Round, Min/Max/Clamp, FusedMultiplyAdd, ...)");
    }
}
