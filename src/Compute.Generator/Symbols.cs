using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace GpuDeconv.Compute.Generator;

/// <summary>Which C dialect a program is written for.</summary>
internal enum Target
{
    Cuda,
    OpenCL,
}

/// <summary>OpenCL address spaces of pointers; CUDA has one generic space and ignores them.</summary>
internal enum Space
{
    Global,
    Local,
    Private,
}

/// <summary>Symbol tests by fully qualified metadata name, so the generator works before the runtime types exist.</summary>
internal static class Symbols
{
    public const string Ns = "GpuDeconv.Compute";

    /// <summary>The metadata name of a type inside its namespace, e.g. <c>Stride2D+DenseX</c> or <c>ArrayView`1</c>.</summary>
    public static string NestedMetadataName(ITypeSymbol type)
    {
        var parts = new List<string>();
        for (ITypeSymbol? t = type; t != null; t = t.ContainingType) parts.Add(t.MetadataName);
        parts.Reverse();
        return string.Join("+", parts);
    }

    public static string NamespaceOf(ITypeSymbol type)
    {
        var outer = type;
        while (outer.ContainingType != null) outer = outer.ContainingType;
        return outer.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "";
    }

    /// <summary>True when <paramref name="type"/> is <c>GpuDeconv.Compute.{name}</c> (name in metadata form).</summary>
    public static bool Is(ITypeSymbol? type, string name) =>
        type != null && NestedMetadataName(type.OriginalDefinition) == name && NamespaceOf(type) == Ns;

    public static bool IsSystem(ITypeSymbol? type, string name) =>
        type != null && type.MetadataName == name && type.ContainingType == null && NamespaceOf(type) == "System";

    /// <summary>0 when not a view, else the rank of ArrayView/ArrayView1D (1), ArrayView2D (2), ArrayView3D (3).</summary>
    public static int ViewRank(ITypeSymbol? type)
    {
        if (Is(type, "ArrayView`1") || Is(type, "ArrayView1D`2")) return 1;
        if (Is(type, "ArrayView2D`2")) return 2;
        if (Is(type, "ArrayView3D`2")) return 3;
        return 0;
    }

    public static ITypeSymbol ViewElement(ITypeSymbol view) => ((INamedTypeSymbol)view).TypeArguments[0];

    /// <summary>The prelude's offset function suffix for a 2-D/3-D view's stride type.</summary>
    public static string? StrideName(ITypeSymbol view)
    {
        var args = ((INamedTypeSymbol)view).TypeArguments;
        if (args.Length < 2) return null;
        var stride = args[1];
        if (Is(stride, "Stride2D+DenseX")) return "densex";
        if (Is(stride, "Stride2D+DenseY")) return "densey";
        if (Is(stride, "Stride3D+DenseXY")) return "densexy";
        if (Is(stride, "Stride3D+DenseZY")) return "densezy";
        if (Is(stride, "Stride1D+Dense")) return "dense";
        return null;
    }

    /// <summary>0 when not an index type; else its rank. <paramref name="isLong"/> tells LongIndex* apart.</summary>
    public static int IndexRank(ITypeSymbol? type, out bool isLong)
    {
        isLong = false;
        if (type == null || NamespaceOf(type) != Ns || type.ContainingType != null) return 0;
        switch (type.MetadataName)
        {
            case "Index1D": return 1;
            case "Index2D": return 2;
            case "Index3D": return 3;
            case "LongIndex1D": isLong = true; return 1;
            case "LongIndex2D": isLong = true; return 2;
            case "LongIndex3D": isLong = true; return 3;
            default: return 0;
        }
    }

    /// <summary>An enum's underlying type; any other type itself.</summary>
    public static ITypeSymbol Underlying(ITypeSymbol type) =>
        type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } u } ? u : type;

    /// <summary>The special type of an operand for operator purposes (Index1D acts as int, enums as their underlying type).</summary>
    public static SpecialType Arithmetic(ITypeSymbol? type)
    {
        if (type == null) return SpecialType.None;
        type = Underlying(type);
        int rank = Symbols.IndexRank(type, out bool isLong);
        if (rank == 1) return isLong ? SpecialType.System_Int64 : SpecialType.System_Int32;
        return type.SpecialType;
    }

    /// <summary>The runtime's <c>KernelKey</c> type part: <c>Type.FullName</c>, generic arguments in brackets.</summary>
    public static string TypeKey(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol named && named.IsGenericType)
        {
            var b = new StringBuilder(FullName(named.OriginalDefinition)).Append('[');
            for (int i = 0; i < named.TypeArguments.Length; i++)
            {
                if (i > 0) b.Append(',');
                b.Append(TypeKey(named.TypeArguments[i]));
            }
            return b.Append(']').ToString();
        }
        if (type is IArrayTypeSymbol array) return TypeKey(array.ElementType) + "[]";
        return FullName(type);
    }

    /// <summary><c>System.Type.FullName</c> of a non-constructed type: namespace dots, <c>+</c> for nesting, <c>`N</c> arity.</summary>
    public static string FullName(ITypeSymbol type)
    {
        string ns = NamespaceOf(type);
        string nested = NestedMetadataName(type);
        return ns.Length == 0 ? nested : ns + "." + nested;
    }

    public static string KernelKey(IMethodSymbol method)
    {
        var b = new StringBuilder(FullName(method.ContainingType)).Append("::").Append(method.Name).Append('(');
        for (int i = 0; i < method.Parameters.Length; i++)
        {
            if (i > 0) b.Append(',');
            b.Append(TypeKey(method.Parameters[i].Type));
        }
        return b.Append(')').ToString();
    }

    /// <summary>True when code in another type of the same assembly can name <paramref name="symbol"/>.</summary>
    public static bool IsAccessibleFromAssembly(ISymbol symbol)
    {
        for (ISymbol? s = symbol; s != null && s is not INamespaceSymbol; s = s.ContainingType)
        {
            switch (s.DeclaredAccessibility)
            {
                case Accessibility.Public:
                case Accessibility.Internal:
                case Accessibility.ProtectedOrInternal:
                case Accessibility.NotApplicable when s is ITypeParameterSymbol:
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    public static bool IsTypeAccessible(ITypeSymbol type)
    {
        if (type.SpecialType != SpecialType.None) return true;
        if (type is INamedTypeSymbol named)
        {
            if (!IsAccessibleFromAssembly(named)) return false;
            return named.TypeArguments.All(IsTypeAccessible);
        }
        return type is not ITypeParameterSymbol;
    }

    public static string Invariant(this long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Invariant(this int value) => value.ToString(CultureInfo.InvariantCulture);
}
