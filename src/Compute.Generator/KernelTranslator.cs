using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator;

/// <summary>Everything generated for one kernel: both sources, flags, and what the C# launcher needs.</summary>
internal sealed class KernelResult(IMethodSymbol method)
{
    public IMethodSymbol Method { get; } = method;

    public string Key { get; set; } = "";

    public string Name { get; set; } = "";

    public string EntryPoint { get; set; } = "";

    public string Location { get; set; } = "";

    public bool IsImplicit { get; set; }

    public int IndexRank { get; set; }

    public bool IsLongIndex { get; set; }

    public int Features { get; set; }

    public string CudaSource { get; set; } = "";

    public string OpenCLSource { get; set; } = "";

    public List<Diagnostic> Diagnostics { get; } = new();

    /// <summary>The CPU region-split body of a barrier kernel, or why it has none (null for kernels without barriers).</summary>
    public SplitResult? Split { get; set; }
}

/// <summary>Validates a kernel method and translates its call graph for both targets (docs/kernel-abi.md section 4).</summary>
internal static class KernelTranslator
{
    private const int MaxParameters = 14; // Action<AcceleratorStream, TIndex/KernelConfig, T1..T14> is the widest launcher.

    public static KernelResult Translate(Compilation compilation, IMethodSymbol method)
    {
        var result = new KernelResult(method);
        var sink = new DiagnosticSink();
        var declaration = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
        var identifierLocation = declaration is MethodDeclarationSyntax md ? md.Identifier.GetLocation() : method.Locations.FirstOrDefault();
        try
        {
            result.Key = Symbols.KernelKey(method);
            result.Name = method.ContainingType.Name + "." + method.Name;
            result.EntryPoint = CText.Identifier(method.Name);
            result.Location = CText.LineMarker(declaration);
            var first = method.Parameters.FirstOrDefault();
            int rank = first == null ? 0 : Symbols.IndexRank(first.Type, out bool isLong);
            result.IsImplicit = rank > 0;
            result.IndexRank = rank;
            result.IsLongIndex = rank > 0 && Symbols.IndexRank(first!.Type, out isLong) > 0 && isLong;
            if (!Validate(method, result, sink, identifierLocation))
            {
                result.Diagnostics.AddRange(sink.Items);
                return result;
            }
            var open = TranslateFor(compilation, method, result, Target.OpenCL, sink);
            var cuda = TranslateFor(compilation, method, result, Target.Cuda, sink);
            result.OpenCLSource = open.Source;
            result.CudaSource = cuda.Source;
            result.Features = open.Features | cuda.Features;
        }
        catch (Exception e)
        {
            sink.Report(GpuDeconv.Compute.Generator.Diagnostics.Internal, identifierLocation, method.Name, e.GetType().Name + ": " + e.Message.Replace('\n', ' '));
        }
        result.Diagnostics.AddRange(sink.Items);
        return result;
    }

    private static bool Validate(IMethodSymbol method, KernelResult result, DiagnosticSink sink, Location? at)
    {
        var d = GpuDeconv.Compute.Generator.Diagnostics.BadKernel;
        if (!method.IsStatic) sink.Report(d, at, method.Name, "is not static");
        else if (!method.ReturnsVoid) sink.Report(d, at, method.Name, "returns '" + method.ReturnType.ToDisplayString() + "' instead of void");
        else if (method.IsGenericMethod) sink.Report(d, at, method.Name, "is generic");
        else if (AnyGenericContainer(method.ContainingType))
            sink.Report(d, at, method.Name, "is declared in a generic type");
        else if (method.DeclaringSyntaxReferences.Length == 0) sink.Report(d, at, method.Name, "has no source in this project");
        else if (method.Parameters.Length - (result.IsImplicit ? 1 : 0) > MaxParameters)
            sink.Report(d, at, method.Name, "has more than " + MaxParameters.Invariant() + " parameters besides the index");
        else
        {
            for (int i = 0; i < method.Parameters.Length; i++)
            {
                var parameter = method.Parameters[i];
                var where = parameter.Locations.FirstOrDefault() ?? at;
                if (parameter.RefKind != RefKind.None)
                    sink.Report(d, where, method.Name, "takes parameter '" + parameter.Name + "' by reference");
                else if (!Symbols.IsTypeAccessible(parameter.Type))
                    sink.Report(d, where, method.Name, "has parameter '" + parameter.Name + "' of type '" + parameter.Type.ToDisplayString() + "', which generated code cannot name (make the type internal or public)");
                else if (Symbols.ViewRank(parameter.Type) == 0 && parameter.Type.TypeKind == TypeKind.Struct &&
                         parameter.Type.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => !f.IsStatic && Symbols.ViewRank(f.Type) > 0) is { } viewField)
                    sink.Report(GpuDeconv.Compute.Generator.Diagnostics.ViewUse, where,
                        "Parameter '" + parameter.Name + "' of type '" + parameter.Type.ToDisplayString() + "' holds view field '" + viewField.Name + "', which device code cannot hold in a struct");
                else if (Symbols.ViewRank(parameter.Type) == 0 && !IsValueParameter(parameter.Type))
                {
                    if (parameter.Type.SpecialType is SpecialType.System_String or SpecialType.System_Char)
                        sink.Report(GpuDeconv.Compute.Generator.Diagnostics.Strings, where, "parameter '" + parameter.Name + "' of type '" + parameter.Type.ToDisplayString() + "'");
                    else
                        sink.Report(GpuDeconv.Compute.Generator.Diagnostics.ManagedType, where, "parameter '" + parameter.Name + "'", parameter.Type.ToDisplayString());
                }
            }
        }
        return !sink.HasErrors;
    }

    private static bool AnyGenericContainer(INamedTypeSymbol? type)
    {
        for (var t = type; t != null; t = t.ContainingType)
        {
            if (t.IsGenericType) return true;
        }
        return false;
    }

    private static bool IsValueParameter(ITypeSymbol type) =>
        type.IsValueType && type.IsUnmanagedType && type.SpecialType is not (SpecialType.System_Char or SpecialType.System_IntPtr or SpecialType.System_UIntPtr or SpecialType.System_Decimal);

    private static (string Source, int Features) TranslateFor(Compilation compilation, IMethodSymbol method, KernelResult result, Target target, DiagnosticSink sink)
    {
        var p = new ProgramBuilder(compilation, target, sink);
        bool cuda = target == Target.Cuda;
        string entry = p.UniqueFunctionName(result.EntryPoint);
        p.ActiveMethods.Add(method);
        int skip = result.IsImplicit ? 1 : 0;
        int viewCount = method.Parameters.Count(x => Symbols.ViewRank(x.Type) > 0);
        var spaces = Enumerable.Repeat(Space.Global, viewCount).ToArray();

        // Entry parameters per docs/kernel-abi.md section 4.
        var entryParameters = new List<string>();
        var prologue = new List<string>();
        var bodyArguments = new List<string>();
        foreach (var parameter in method.Parameters.Skip(skip))
        {
            var where = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
            string name = CText.Identifier(parameter.Name);
            int rank = Symbols.ViewRank(parameter.Type);
            if (rank > 0)
            {
                string element = p.StorageType(Symbols.ViewElement(parameter.Type), where, "view element");
                if (rank > 1 && Symbols.StrideName(parameter.Type) is null or "dense")
                    sink.Report(GpuDeconv.Compute.Generator.Diagnostics.ViewUse, where, "Parameter '" + parameter.Name + "' has a stride other than DenseX/DenseY/DenseXY/DenseZY");
                if (cuda)
                {
                    entryParameters.Add(element + "* " + name);
                }
                else
                {
                    entryParameters.Add("__global " + element + "* " + name);
                    entryParameters.Add(p.LongType + " " + name + "_off");
                    prologue.Add(name + " += " + name + "_off;");
                }
                entryParameters.Add(p.LongType + " " + name + "_len");
                bodyArguments.Add(name);
                bodyArguments.Add(name + "_len");
                for (int i = 0; i < rank && rank > 1; i++)
                {
                    entryParameters.Add(p.LongType + " " + name + "_e" + "xyz"[i]);
                    bodyArguments.Add(name + "_e" + "xyz"[i]);
                }
            }
            else if (parameter.Type.SpecialType == SpecialType.System_Boolean)
            {
                entryParameters.Add("uchar " + name + "_u8");
                bodyArguments.Add("(" + name + "_u8 != 0)");
                prologue.Add("bool " + name + " = (" + name + "_u8 != 0);");
            }
            else
            {
                entryParameters.Add(p.CType(parameter.Type, where, "parameter") + " " + name);
                bodyArguments.Add(name);
            }
        }

        string header = method.ToDisplayString() + " (" + result.Location + ")";
        string qualifier = cuda ? "extern \"C\" __global__ void " : "__kernel void ";
        var text = new StringBuilder();
        if (result.IsImplicit)
        {
            var translator = new FunctionTranslator(p, method, FunctionRole.ImplicitBody, spaces);
            var parameters = translator.DeclareParameters(0);
            string body = translator.TranslateBody();
            string bodyName = p.UniqueFunctionName(CText.QualifiedIdentifier(method) + "_body");
            var function = new StringBuilder();
            function.Append("// ").Append(header).Append(": the body for one index\n");
            function.Append("GD_FUNC void ").Append(bodyName).Append('(').Append(string.Join(", ", parameters)).Append(")\n{\n");
            foreach (string h in translator.Hoisted) function.Append("    ").Append(h).Append('\n');
            function.Append(body).Append("}\n");
            p.AddFunction(function.ToString());

            entryParameters.Add(p.LongType + " gd_nx");
            entryParameters.Add(p.LongType + " gd_ny");
            entryParameters.Add(p.LongType + " gd_nz");
            string index = IndexExpression(result.IndexRank, result.IsLongIndex, p.LongType);
            text.Append("// ").Append(header).Append(": grid-stride loop over gd_nx * gd_ny * gd_nz indices, X fastest\n");
            text.Append(qualifier).Append(entry).Append('(').Append(string.Join(", ", entryParameters)).Append(")\n{\n");
            foreach (string line in prologue.Where(l => !l.StartsWith("bool ", StringComparison.Ordinal))) text.Append("    ").Append(line).Append('\n');
            text.Append("    ").Append(p.LongType).Append(" gd_total = gd_nx * gd_ny * gd_nz;\n");
            text.Append("    for (").Append(p.LongType).Append(" gd_i = GD_GLOBAL_LINEAR_ID; gd_i < gd_total; gd_i += GD_GLOBAL_STRIDE)\n    {\n");
            text.Append("        ").Append(bodyName).Append('(').Append(string.Join(", ", new[] { index }.Concat(bodyArguments))).Append(");\n");
            text.Append("    }\n}\n");
        }
        else
        {
            var translator = new FunctionTranslator(p, method, FunctionRole.ExplicitKernel, spaces);
            translator.DeclareParameters(0);
            string body = translator.TranslateBody();
            if (p.UsesDynamicShared)
            {
                if (!cuda) entryParameters.Add("__local uchar* gd_dynamic_shared");
                entryParameters.Add(p.LongType + " gd_dynamic_bytes");
            }
            text.Append("// ").Append(header).Append('\n');
            text.Append(qualifier).Append(entry).Append('(').Append(entryParameters.Count == 0 ? "void" : string.Join(", ", entryParameters)).Append(")\n{\n");
            foreach (string line in prologue) text.Append("    ").Append(line).Append('\n');
            foreach (string h in translator.Hoisted) text.Append("    ").Append(h).Append('\n');
            if (translator.UsesBarrierSlot && !cuda) text.Append("    ").Append(translator.BarrierSlotDeclaration).Append('\n');
            text.Append(body).Append("}\n");
        }
        return (p.Build(header, text.ToString()), p.Features);
    }

    /// <summary>The C expression of the kernel index for linear index gd_i (X fastest).</summary>
    private static string IndexExpression(int rank, bool isLong, string longType)
    {
        string cast = isLong ? "" : "(int)";
        return rank switch
        {
            1 => isLong ? "gd_i" : "(int)gd_i",
            2 => (isLong ? "gd_make_lindex2(" : "gd_make_index2(") + cast + "(gd_i % gd_nx), " + cast + "((gd_i / gd_nx) % gd_ny))",
            _ => (isLong ? "gd_make_lindex3(" : "gd_make_index3(") + cast + "(gd_i % gd_nx), " + cast + "((gd_i / gd_nx) % gd_ny), " + cast + "(gd_i / (gd_nx * gd_ny)))",
        };
    }
}
