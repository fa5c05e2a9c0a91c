using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator;

/// <summary>Collects diagnostics once per (ID, location, message) across both target passes.</summary>
internal sealed class DiagnosticSink
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public List<Diagnostic> Items { get; } = new();

    public bool HasErrors => Items.Count > 0;

    public void Report(DiagnosticDescriptor descriptor, Location? location, params object[] args)
    {
        var diagnostic = Diagnostic.Create(descriptor, location ?? Location.None, args);
        string key = descriptor.Id + "|" + diagnostic.Location.SourceSpan + "|" + diagnostic.Location.SourceTree?.FilePath + "|" + diagnostic.GetMessage(CultureInfo.InvariantCulture);
        if (_seen.Add(key)) Items.Add(diagnostic);
    }

    public void Report(DiagnosticDescriptor descriptor, SyntaxNode? node, params object[] args) =>
        Report(descriptor, node?.GetLocation(), args);
}

/// <summary>KernelFeatures bits as the runtime defines them (docs/kernel-abi.md section 2).</summary>
internal static class Feature
{
    public const int Barrier = 1, SharedMemory = 2, DynamicSharedMemory = 4, Atomics = 8, FloatAtomics = 16,
        Int64Atomics = 32, Double = 64, LocalMemory = 128, GroupIntrinsics = 256;

    private static readonly string[] Names =
        { "Barrier", "SharedMemory", "DynamicSharedMemory", "Atomics", "FloatAtomics", "Int64Atomics", "Double", "LocalMemory", "GroupIntrinsics" };

    /// <summary>The C# expression of a flags value, e.g. <c>KernelFeatures.Barrier | KernelFeatures.SharedMemory</c>.</summary>
    public static string ToCSharp(int flags)
    {
        const string type = "global::GpuDeconv.Compute.KernelFeatures.";
        var parts = new List<string>();
        for (int i = 0; i < Names.Length; i++)
        {
            if ((flags & (1 << i)) != 0) parts.Add(type + Names[i]);
        }
        return parts.Count == 0 ? type + "None" : string.Join(" | ", parts);
    }
}

/// <summary>
/// One generated program (one kernel, one target): the structs, constant tables and helper
/// functions its call graph needs, emitted in dependency order after the prelude.
/// </summary>
internal sealed class ProgramBuilder(Compilation compilation, Target target, DiagnosticSink sink)
{
    private readonly List<string> _structs = new();
    private readonly Dictionary<ITypeSymbol, string> _structNames = new(SymbolEqualityComparer.Default);
    private readonly List<string> _tables = new();
    private readonly Dictionary<IFieldSymbol, (string Name, int Length)> _tableNames = new(SymbolEqualityComparer.Default);
    private readonly List<string> _functions = new();
    private readonly Dictionary<string, string> _helperNames = new(StringComparer.Ordinal);
    private readonly Dictionary<IMethodSymbol, string> _constructorNames = new(SymbolEqualityComparer.Default);
    private readonly HashSet<string> _usedFunctionNames = new(StringComparer.Ordinal);

    public Compilation Compilation { get; } = compilation;

    public Target Target { get; } = target;

    public DiagnosticSink Sink { get; } = sink;

    public int Features { get; set; }

    public bool UsesDynamicShared { get; set; }

    /// <summary>Methods being translated right now, innermost last: a call to one of them is recursion.</summary>
    public List<IMethodSymbol> ActiveMethods { get; } = new();

    public bool IsCuda => Target == Target.Cuda;

    public string LongType => IsCuda ? "long long" : "long";

    /// <summary>The pointer qualifier of an address space (empty on CUDA).</summary>
    public string Qualifier(Space space) => IsCuda ? "" : space switch
    {
        Space.Global => "__global ",
        Space.Local => "__local ",
        _ => "__private ",
    };

    /// <summary>The suffix of prelude atomics for a space: CUDA has one space, spelled g.</summary>
    public string AtomicSpace(Space space) => IsCuda || space == Space.Global ? "g" : "l";

    public SemanticModel Model(SyntaxTree tree) => Compilation.GetSemanticModel(tree);

    /// <summary>The C type of a value of <paramref name="type"/>; reports and returns "int" when it has none.</summary>
    public string CType(ITypeSymbol type, SyntaxNode? at, string what)
    {
        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying }) type = underlying;
        string? primitive = CText.Primitive(type.SpecialType, Target);
        if (primitive != null)
        {
            if (type.SpecialType == SpecialType.System_Double) Features |= Feature.Double;
            return primitive;
        }
        if (Symbols.Is(type, "Float8")) return "gd_f8";
        int rank = Symbols.IndexRank(type, out bool isLong);
        if (rank == 1) return isLong ? LongType : "int";
        if (rank > 1) return (isLong ? "gd_lindex" : "gd_index") + rank.Invariant();
        if (type.SpecialType is SpecialType.System_String or SpecialType.System_Char)
        {
            Sink.Report(Diagnostics.Strings, at, "a " + what + " of type '" + type.ToDisplayString() + "'");
            return "int";
        }
        if (Symbols.ViewRank(type) > 0)
        {
            Sink.Report(Diagnostics.ViewUse, at, "A view cannot be used as " + what + " here");
            return "int";
        }
        if (type.TypeKind == TypeKind.Struct && type.IsUnmanagedType && type is INamedTypeSymbol named && !named.IsGenericType &&
            type.SpecialType == SpecialType.None && Symbols.NamespaceOf(type) != "System")
        {
            return EnsureStruct(named, at);
        }
        Sink.Report(Diagnostics.ManagedType, at, what, type.ToDisplayString());
        return "int";
    }

    /// <summary>The C type used to store a value in memory (struct fields, view elements): bool is one byte there.</summary>
    public string StorageType(ITypeSymbol type, SyntaxNode? at, string what) =>
        type.SpecialType == SpecialType.System_Boolean ? "uchar" : CType(type, at, what);

    /// <summary>The C expression of a zero value of <paramref name="type"/>.</summary>
    public string Zero(ITypeSymbol type, SyntaxNode? at)
    {
        string c = CType(type, at, "value");
        if (type.TypeKind == TypeKind.Enum || type.SpecialType != SpecialType.None)
            return type.SpecialType == SpecialType.System_Boolean ? "false" : "((" + c + ")0)";
        int rank = Symbols.IndexRank(type, out bool isLong);
        if (rank == 1) return "((" + c + ")0)";
        if (rank == 2) return (isLong ? "gd_make_lindex2" : "gd_make_index2") + "(0, 0)";
        if (rank == 3) return (isLong ? "gd_make_lindex3" : "gd_make_index3") + "(0, 0, 0)";
        return "gd_zero_" + c + "()";
    }

    /// <summary>The instance fields of a struct with the C names used for them (a property's backing field takes the property's name).</summary>
    public static IEnumerable<(IFieldSymbol Field, string Name)> StructFields(INamedTypeSymbol type)
    {
        foreach (var member in type.GetMembers())
        {
            if (member is IFieldSymbol { IsStatic: false, IsConst: false } field)
                yield return (field, CText.Identifier(field.AssociatedSymbol is IPropertySymbol p ? p.Name : field.Name));
        }
    }

    private string EnsureStruct(INamedTypeSymbol type, SyntaxNode? at)
    {
        if (_structNames.TryGetValue(type, out string? name)) return name;
        name = CText.QualifiedIdentifier(type);
        _structNames[type] = name;
        var fields = new StringBuilder();
        var zero = new StringBuilder();
        var declaration = type.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
        var where = declaration ?? at;
        if (type.GetAttributes().Any(a => a.AttributeClass?.Name == "StructLayoutAttribute" &&
                                          a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value is int kind && kind == 2))
        {
            Sink.Report(Diagnostics.UnsupportedSyntax, where, "struct '" + type.Name + "' with an explicit layout", "use a sequential struct");
        }
        int count = 0;
        foreach (var (field, fieldName) in StructFields(type))
        {
            var fieldSyntax = field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() ?? where;
            if (field.IsFixedSizeBuffer)
            {
                Sink.Report(Diagnostics.UnsupportedControl, fieldSyntax, "fixed-size buffer field '" + field.Name + "'", "use separate fields or a view parameter");
                continue;
            }
            if (Symbols.ViewRank(field.Type) > 0)
            {
                Sink.Report(Diagnostics.ViewUse, fieldSyntax, "Struct '" + type.Name + "' stores view field '" + fieldName + "', which device code cannot hold in a struct");
                continue;
            }
            string fieldType = StorageType(field.Type, fieldSyntax, "field");
            fields.Append("    ").Append(fieldType).Append(' ').Append(fieldName).Append(";\n");
            zero.Append(" v.").Append(fieldName).Append(" = ")
                .Append(field.Type.SpecialType == SpecialType.System_Boolean ? "0" : Zero(field.Type, fieldSyntax)).Append(';');
            count++;
        }
        if (count == 0) fields.Append("    uchar gd_empty;\n");
        _structs.Add("// " + type.ToDisplayString() + "\ntypedef struct " + name + "\n{\n" + fields + "} " + name + ";\n" +
                     "GD_FUNC " + name + " gd_zero_" + name + "(void) { " + name + " v;" + (count == 0 ? " v.gd_empty = 0;" : zero.ToString()) + " return v; }\n");
        return name;
    }

    /// <summary>A <c>static readonly</c> primitive array with a constant initializer, emitted as a constant table.</summary>
    public (string Name, int Length)? Table(IFieldSymbol field, SyntaxNode at)
    {
        if (_tableNames.TryGetValue(field, out var known)) return known;
        var element = ((IArrayTypeSymbol)field.Type).ElementType;
        if (CText.Primitive(element.SpecialType, Target) == null || element.SpecialType == SpecialType.System_Boolean ||
            ((IArrayTypeSymbol)field.Type).Rank != 1)
        {
            Sink.Report(Diagnostics.MutableStatic, at, field.Name, "an array of '" + element.ToDisplayString() + "' (only 1-D primitive tables are supported)");
            return null;
        }
        var declarator = field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() as VariableDeclaratorSyntax;
        var initializer = declarator?.Initializer?.Value;
        IEnumerable<ExpressionSyntax>? items = initializer switch
        {
            ArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions,
            ImplicitArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions,
            InitializerExpressionSyntax init => init.Expressions,
            CollectionExpressionSyntax collection => collection.Elements.Select(e => e is ExpressionElementSyntax ee ? ee.Expression : null!),
            _ => null,
        };
        if (items == null || declarator == null)
        {
            Sink.Report(Diagnostics.MutableStatic, at, field.Name, "not initialized with an array initializer");
            return null;
        }
        var model = Model(declarator.SyntaxTree);
        var values = new List<string>();
        foreach (var item in items)
        {
            var constant = item == null ? default : model.GetConstantValue(item);
            if (item == null || !constant.HasValue)
            {
                Sink.Report(Diagnostics.MutableStatic, (SyntaxNode?)item ?? declarator, field.Name, "initialized with a non-constant element");
                return null;
            }
            object converted = ConvertConstant(constant.Value, element.SpecialType);
            values.Add(CText.Literal(converted, element.SpecialType, Target)!);
        }
        string name = "gd_table_" + CText.QualifiedIdentifier(field);
        string type = CText.Primitive(element.SpecialType, Target)!;
        if (element.SpecialType == SpecialType.System_Double) Features |= Feature.Double;
        var text = new StringBuilder();
        text.Append("// ").Append(CText.LineMarker(declarator)).Append('\n')
            .Append(IsCuda ? "__constant__ " : "__constant ").Append(type).Append(' ').Append(name)
            .Append('[').Append(Math.Max(1, values.Count).Invariant()).Append("] = { ");
        text.Append(values.Count == 0 ? "0" : string.Join(", ", values)).Append(" };\n");
        _tables.Add(text.ToString());
        var result = (name, values.Count);
        _tableNames[field] = result;
        return result;
    }

    public static object ConvertConstant(object? value, SpecialType type) => type switch
    {
        SpecialType.System_Boolean => Convert.ToBoolean(value, CultureInfo.InvariantCulture),
        SpecialType.System_SByte => Convert.ToSByte(value, CultureInfo.InvariantCulture),
        SpecialType.System_Byte => Convert.ToByte(value, CultureInfo.InvariantCulture),
        SpecialType.System_Int16 => Convert.ToInt16(value, CultureInfo.InvariantCulture),
        SpecialType.System_UInt16 => Convert.ToUInt16(value, CultureInfo.InvariantCulture),
        SpecialType.System_Int32 => Convert.ToInt32(value, CultureInfo.InvariantCulture),
        SpecialType.System_UInt32 => Convert.ToUInt32(value, CultureInfo.InvariantCulture),
        SpecialType.System_Int64 => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        SpecialType.System_UInt64 => Convert.ToUInt64(value, CultureInfo.InvariantCulture),
        SpecialType.System_Single => Convert.ToSingle(value, CultureInfo.InvariantCulture),
        SpecialType.System_Double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        _ => value!,
    };

    /// <summary>A unique C function name starting from <paramref name="preferred"/>.</summary>
    public string UniqueFunctionName(string preferred)
    {
        string name = preferred;
        for (int i = 2; !_usedFunctionNames.Add(name); i++) name = preferred + "_" + i.Invariant();
        return name;
    }

    public bool TryGetHelper(string key, out string name) => _helperNames.TryGetValue(key, out name!);

    public void AddHelper(string key, string name) => _helperNames[key] = name;

    public bool TryGetConstructor(IMethodSymbol ctor, out string name) => _constructorNames.TryGetValue(ctor, out name!);

    public void AddConstructor(IMethodSymbol ctor, string name) => _constructorNames[ctor] = name;

    public void AddFunction(string code) => _functions.Add(code);

    /// <summary>The whole program text: prelude, structs, tables, helpers (callees first), then the entry.</summary>
    public string Build(string header, string entry)
    {
        var b = new StringBuilder();
        b.Append("// ").Append(header).Append('\n');
        b.Append("// Generated by GpuDeconv.Compute.Generator for ").Append(IsCuda ? "NVRTC (--fmad=false -default-device)" : "OpenCL C 1.2 (no fast-math)").Append(".\n");
        b.Append(Prelude.Text).Append('\n');
        foreach (string s in _structs) b.Append(s).Append('\n');
        foreach (string t in _tables) b.Append(t);
        if (_tables.Count > 0) b.Append('\n');
        if (UsesDynamicShared && IsCuda) b.Append("extern __shared__ __align__(16) unsigned char gd_dynamic_shared[];\n\n");
        foreach (string f in _functions) b.Append(f).Append('\n');
        b.Append(entry);
        return b.ToString();
    }
}
