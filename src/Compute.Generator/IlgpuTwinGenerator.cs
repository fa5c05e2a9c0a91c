using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace GpuDeconv.Compute.Generator;

/// <summary>
/// Emits ILGPU twins of the GPU-shaped kernels of another project: the same method bodies, compiled against ILGPU's
/// namespaces instead of <c>GpuDeconv.Compute</c>, so one kernel source feeds both our backends and ILGPU's.
/// </summary>
/// <remarks>
/// The sources arrive as <c>AdditionalFiles</c> with the metadata <c>GpuDeconvIlgpuTwin="true"</c> (see
/// <c>src/Kernels.Ilgpu</c>). A kernel is a method passed to a <c>Load*Kernel</c>/<c>Launch*</c> call, or one marked
/// <c>[Kernel]</c>; its twin carries every static method it reaches by name (in its own class or in another class of
/// the sources) and every constant of those classes. Kernels that reach <c>Float8</c> or pointers are host-shaped
/// (docs/architecture.md): they get no twin and are listed, with the reason, in the generated
/// <c>HostShapedKernels</c> table. <c>bool</c> parameters of an entry point become <c>int</c> (ILGPU launches only
/// blittable arguments); the twin converts them back on entry, and the registration records which ones they were.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class IlgpuTwinGenerator : IIncrementalGenerator
{
    /// <summary>Twins of the classes of namespace N live in N.IlgpuTwins, under the same class names.</summary>
    private static string TwinNamespace(ClassInfo info) => (info.Namespace.Length > 0 ? info.Namespace + "." : "") + "IlgpuTwins";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var files = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair => pair.Right.GetOptions(pair.Left).TryGetValue("build_metadata.AdditionalFiles.GpuDeconvIlgpuTwin", out var flag)
                                  && string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase))
            .Select(static (pair, ct) => (Path: pair.Left.Path, Text: pair.Left.GetText(ct)?.ToString() ?? ""))
            .Collect();
        context.RegisterSourceOutput(files, static (spc, sources) => Execute(spc, sources));
    }

    private sealed class ClassInfo
    {
        public ClassInfo(string name, CompilationUnitSyntax unit, string ns)
        {
            Name = name;
            Unit = unit;
            Namespace = ns;
        }

        public string Name { get; }
        public CompilationUnitSyntax Unit { get; }
        public string Namespace { get; }
        public List<FieldDeclarationSyntax> Constants { get; } = new();
        public Dictionary<string, List<MethodDeclarationSyntax>> Methods { get; } = new(StringComparer.Ordinal);
        /// <summary>Every method, instance ones included: loaders are often called from a benchmark's or a layer's instance setup.</summary>
        public List<MethodDeclarationSyntax> Callers { get; } = new();
    }

    private static void Execute(SourceProductionContext context, ImmutableArray<(string Path, string Text)> sources)
    {
        if (sources.IsDefaultOrEmpty) return;
        var classes = new Dictionary<string, ClassInfo>(StringComparer.Ordinal);
        foreach (var (path, text) in sources.OrderBy(s => s.Path, StringComparer.Ordinal))
        {
            var unit = CSharpSyntaxTree.ParseText(SourceText.From(text), new CSharpParseOptions(LanguageVersion.Preview), path, cancellationToken: context.CancellationToken)
                .GetCompilationUnitRoot(context.CancellationToken);
            foreach (var type in unit.DescendantNodes().OfType<ClassDeclarationSyntax>())
            {
                if (type.Parent is ClassDeclarationSyntax) continue;   // nested classes hold no kernels here
                string ns = type.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString() ?? "";
                string name = type.Identifier.ValueText;
                if (!classes.TryGetValue(name, out var info)) classes[name] = info = new ClassInfo(name, unit, ns);
                foreach (var member in type.Members)
                {
                    if (member is FieldDeclarationSyntax field && (field.Modifiers.Any(SyntaxKind.ConstKeyword)
                        || (field.Modifiers.Any(SyntaxKind.StaticKeyword) && field.Modifiers.Any(SyntaxKind.ReadOnlyKeyword)
                            && field.Declaration.Variables.All(v => v.Initializer is not null)))) info.Constants.Add(field);
                    else if (member is MethodDeclarationSyntax method)
                    {
                        info.Callers.Add(method);
                        if (!method.Modifiers.Any(SyntaxKind.StaticKeyword)) continue;
                        if (!info.Methods.TryGetValue(method.Identifier.ValueText, out var list)) info.Methods[method.Identifier.ValueText] = list = new();
                        list.Add(method);
                    }
                }
            }
        }

        // Entry points: method groups handed to loaders, and [Kernel] methods.
        var entries = new List<(ClassInfo Class, MethodDeclarationSyntax Method)>();
        var seen = new HashSet<MethodDeclarationSyntax>();
        foreach (var info in classes.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            foreach (var method in info.Methods.Values.SelectMany(m => m))
                if (method.AttributeLists.SelectMany(a => a.Attributes).Any(a => a.Name.ToString() is "Kernel" or "KernelAttribute") && seen.Add(method))
                    entries.Add((info, method));
            foreach (var method in info.Callers)
            {
                foreach (var invocation in method.DescendantNodes().OfType<InvocationExpressionSyntax>())
                {
                    if (!IsLoaderCall(invocation) || invocation.ArgumentList.Arguments.Count == 0) continue;
                    foreach (var target in Resolve(classes, info, invocation.ArgumentList.Arguments[0].Expression))
                        if (seen.Add(target.Method)) entries.Add(target);
                }
            }
        }

        var twins = new Dictionary<string, (ClassInfo Class, HashSet<MethodDeclarationSyntax> Methods)>(StringComparer.Ordinal);
        var registrations = new SortedDictionary<string, StringBuilder>(StringComparer.Ordinal);
        var hostShaped = new SortedDictionary<string, StringBuilder>(StringComparer.Ordinal);
        StringBuilder For(SortedDictionary<string, StringBuilder> map, ClassInfo info)
        {
            string ns = TwinNamespace(info);
            if (!map.TryGetValue(ns, out var builder)) map[ns] = builder = new StringBuilder();
            if (!registrations.ContainsKey(ns)) registrations[ns] = new StringBuilder();
            if (!hostShaped.ContainsKey(ns)) hostShaped[ns] = new StringBuilder();
            return builder;
        }
        foreach (var (owner, entry) in entries)
        {
            var closure = Closure(classes, owner, entry);
            string? reason = HostShapedReason(closure.Select(c => c.Method));
            string original = (owner.Namespace.Length > 0 ? owner.Namespace + "." : "") + owner.Name;
            if (reason != null)
            {
                For(hostShaped, owner).Append("            [\"").Append(original).Append("::").Append(entry.Identifier.ValueText).Append("\"] = \"").Append(reason).AppendLine("\",");
                continue;
            }
            foreach (var (cls, method) in closure)
            {
                if (!twins.TryGetValue(cls.Name, out var twin)) twins[cls.Name] = twin = (cls, new HashSet<MethodDeclarationSyntax>());
                twin.Methods.Add(method);
            }
            int boolMask = 0;
            var parameters = entry.ParameterList.Parameters;
            for (int i = 0; i < parameters.Count && i < 31; i++)
                if (parameters[i].Type is PredefinedTypeSyntax { Keyword.ValueText: "bool" }) boolMask |= 1 << i;
            For(registrations, owner).Append("        GpuDeconv.Compute.Ilgpu.IlgpuKernelTwins.Register(\"").Append(original).Append("\", ")
                .Append("typeof(").Append(TwinNamespace(owner)).Append('.').Append(owner.Name).Append(").GetMethod(\"").Append(entry.Identifier.ValueText).Append("\", ")
                .Append("System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, null, new System.Type[] { ")
                .Append(string.Join(", ", parameters.Select((p, i) => "typeof(" + ((boolMask & (1 << i)) != 0 ? "int" : p.Type!.ToString()) + ")")))
                .Append(" }, null)!, ").Append(boolMask).Append(", \"").Append(System.IO.Path.GetFileName(entry.SyntaxTree.FilePath)).Append(':')
                .Append(entry.GetLocation().GetLineSpan().StartLinePosition.Line + 1).AppendLine("\");");
        }

        var source = new StringBuilder();
        source.AppendLine("// <auto-generated> by GpuDeconv.Compute.Generator's IlgpuTwinGenerator from the kernel sources; edit those, not this file. </auto-generated>");
        source.AppendLine("#nullable disable");
        source.AppendLine("#pragma warning disable CS0162, CS0164, CS0168, CS0219, CS1591, CS8321, IDE0051");
        foreach (var twin in twins.Values.OrderBy(t => t.Class.Name, StringComparer.Ordinal))
        {
            source.Append("namespace ").AppendLine(TwinNamespace(twin.Class));
            source.AppendLine("{");
            source.AppendLine("    using ILGPU;");
            source.AppendLine("    using ILGPU.Runtime;");
            source.AppendLine("    using ILGPU.Algorithms;");
            foreach (var directive in twin.Class.Unit.Usings)
            {
                string name = directive.Name?.ToString() ?? "";
                if (name == "GpuDeconv.Compute" || name.StartsWith("GpuDeconv.Compute.", StringComparison.Ordinal)) continue;
                source.Append("    ").AppendLine(directive.WithoutTrivia().ToFullString());
            }
            source.Append("    /// <summary>ILGPU twin of <c>").Append(twin.Class.Namespace).Append('.').Append(twin.Class.Name).AppendLine("</c>'s device code.</summary>");
            source.Append("    internal static partial class ").AppendLine(twin.Class.Name);
            source.AppendLine("    {");
            foreach (var constant in twin.Class.Constants)
                source.Append("        ").AppendLine(Internal(constant.WithAttributeLists(default)).WithoutTrivia().NormalizeWhitespace().ToFullString());
            foreach (var method in twin.Class.Methods.Values.SelectMany(m => m).Where(twin.Methods.Contains))
            {
                bool isEntry = entries.Any(e => e.Method == method);
                source.Append("#line ").Append(method.GetLocation().GetLineSpan().StartLinePosition.Line + 1).Append(" \"").Append(method.SyntaxTree.FilePath.Replace("\\", "\\\\")).AppendLine("\"");
                source.Append("        ").AppendLine(Twin(method, isEntry).ToFullString());
                source.AppendLine("#line default");
            }
            source.AppendLine("    }");
            source.AppendLine("}");
        }
        foreach (var pair in registrations)
        {
            // One registration class per twin namespace, so the parameter types resolve as in the twins themselves.
            source.Append("namespace ").AppendLine(pair.Key);
            source.AppendLine("{");
            source.AppendLine("    using ILGPU;");
            source.AppendLine("    using ILGPU.Runtime;");
            source.AppendLine("    /// <summary>Registers each twin of this namespace with <c>IlgpuKernelTwins</c> when the assembly loads.</summary>");
            source.AppendLine("    internal static class IlgpuTwinRegistration");
            source.AppendLine("    {");
            source.AppendLine("        /// <summary>Kernels that reach host-only code (Float8, pointers), by kernel, with the reason: ILGPU accelerators take the GPU-shaped kernels instead.</summary>");
            source.AppendLine("        internal static readonly System.Collections.Generic.Dictionary<string, string> HostShapedKernels = new()");
            source.AppendLine("        {");
            source.Append(hostShaped[pair.Key]);
            source.AppendLine("        };");
            source.AppendLine("        [System.Runtime.CompilerServices.ModuleInitializer]");
            source.AppendLine("        internal static void Register()");
            source.AppendLine("        {");
            source.AppendLine("        GpuDeconv.Compute.Ilgpu.IlgpuKernelTwins.RegisterHostShaped(HostShapedKernels);");
            source.Append(pair.Value);
            source.AppendLine("        }");
            source.AppendLine("    }");
            source.AppendLine("}");
        }
        context.AddSource("GpuDeconv.IlgpuTwins.g.cs", source.ToString());
    }

    private static bool IsLoaderCall(InvocationExpressionSyntax invocation)
    {
        string? name = invocation.Expression switch
        {
            MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
            IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
            GenericNameSyntax generic => generic.Identifier.ValueText,
            _ => null,
        };
        if (name == null) return false;
        return name.StartsWith("Launch", StringComparison.Ordinal) && name != "LaunchImplicit" && name != "LaunchGrouped"
               || name.StartsWith("Load", StringComparison.Ordinal) && name.EndsWith("Kernel", StringComparison.Ordinal);
    }

    /// <summary>The static methods that an expression names: <c>M</c> in the current class, or <c>C.M</c> in a class of the sources.</summary>
    private static IEnumerable<(ClassInfo Class, MethodDeclarationSyntax Method)> Resolve(Dictionary<string, ClassInfo> classes, ClassInfo current, ExpressionSyntax expression)
    {
        switch (expression)
        {
            case IdentifierNameSyntax identifier when current.Methods.TryGetValue(identifier.Identifier.ValueText, out var local):
                return local.Select(m => (current, m));
            case GenericNameSyntax generic when current.Methods.TryGetValue(generic.Identifier.ValueText, out var localGeneric):
                return localGeneric.Select(m => (current, m));
            case MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax owner } member
                when classes.TryGetValue(owner.Identifier.ValueText, out var other) && other.Methods.TryGetValue(member.Name.Identifier.ValueText, out var remote):
                return remote.Select(m => (other, m));
            default:
                return Enumerable.Empty<(ClassInfo, MethodDeclarationSyntax)>();
        }
    }

    private static List<(ClassInfo Class, MethodDeclarationSyntax Method)> Closure(Dictionary<string, ClassInfo> classes, ClassInfo owner, MethodDeclarationSyntax entry)
    {
        var result = new List<(ClassInfo, MethodDeclarationSyntax)>();
        var seen = new HashSet<MethodDeclarationSyntax>();
        var work = new Stack<(ClassInfo, MethodDeclarationSyntax)>();
        work.Push((owner, entry));
        seen.Add(entry);
        while (work.Count > 0)
        {
            var (cls, method) = work.Pop();
            result.Add((cls, method));
            foreach (var invocation in method.DescendantNodes().OfType<InvocationExpressionSyntax>())
                foreach (var callee in Resolve(classes, cls, invocation.Expression))
                    if (seen.Add(callee.Method)) work.Push(callee);
        }
        return result;
    }

    private static string? HostShapedReason(IEnumerable<MethodDeclarationSyntax> methods)
    {
        foreach (var method in methods)
        {
            if (method.DescendantNodes().OfType<IdentifierNameSyntax>().Any(i => i.Identifier.ValueText == "Float8"))
                return $"{method.Identifier.ValueText} uses Float8 (host vectors)";
            if (method.DescendantNodes().OfType<PointerTypeSyntax>().Any() || method.Modifiers.Any(SyntaxKind.UnsafeKeyword))
                return $"{method.Identifier.ValueText} uses pointers";
        }
        return null;
    }

    /// <summary>A constant, or a static readonly table (ILGPU inlines those with ArrayMode.InlineMutableStaticArrays), made internal.</summary>
    private static FieldDeclarationSyntax Internal(FieldDeclarationSyntax field) =>
        field.Modifiers.Any(SyntaxKind.ConstKeyword)
            ? field.WithModifiers(SyntaxFactory.TokenList(SyntaxFactory.Token(SyntaxKind.InternalKeyword), SyntaxFactory.Token(SyntaxKind.ConstKeyword)))
            : field.WithModifiers(SyntaxFactory.TokenList(SyntaxFactory.Token(SyntaxKind.InternalKeyword), SyntaxFactory.Token(SyntaxKind.StaticKeyword),
                SyntaxFactory.Token(SyntaxKind.ReadOnlyKeyword)));

    /// <summary>The method made internal static, documentation dropped; an entry point's bool parameters become int flags.</summary>
    private static MethodDeclarationSyntax Twin(MethodDeclarationSyntax method, bool isEntry)
    {
        var modifiers = new List<SyntaxToken> { SyntaxFactory.Token(SyntaxKind.InternalKeyword).WithTrailingTrivia(SyntaxFactory.Space), SyntaxFactory.Token(SyntaxKind.StaticKeyword).WithTrailingTrivia(SyntaxFactory.Space) };
        var twin = method.WithModifiers(SyntaxFactory.TokenList(modifiers))
            .WithAttributeLists(SyntaxFactory.List(method.AttributeLists
                .Select(list => list.WithAttributes(SyntaxFactory.SeparatedList(list.Attributes.Where(a => !(a.Name.ToString() is "Kernel" or "KernelAttribute")))))
                .Where(list => list.Attributes.Count > 0)))
            .WithLeadingTrivia(SyntaxFactory.TriviaList());
        if (!isEntry) return twin;
        var flags = method.ParameterList.Parameters.Where(p => p.Type is PredefinedTypeSyntax { Keyword.ValueText: "bool" }).ToList();
        if (flags.Count == 0) return twin;
        var parameters = twin.ParameterList.Parameters.Select(p => p.Type is PredefinedTypeSyntax { Keyword.ValueText: "bool" }
            ? p.WithType(SyntaxFactory.PredefinedType(SyntaxFactory.Token(SyntaxKind.IntKeyword)).WithTrailingTrivia(SyntaxFactory.Space))
               .WithIdentifier(SyntaxFactory.Identifier(p.Identifier.ValueText + "Flag"))
            : p);
        twin = twin.WithParameterList(twin.ParameterList.WithParameters(SyntaxFactory.SeparatedList(parameters, twin.ParameterList.Parameters.GetSeparators())));
        var conversions = flags.Select(p => SyntaxFactory.ParseStatement($"bool {p.Identifier.ValueText} = {p.Identifier.ValueText}Flag != 0;\n"));
        var body = twin.Body ?? SyntaxFactory.Block(twin.ExpressionBody!.Expression is { } e ? SyntaxFactory.ExpressionStatement(e) : SyntaxFactory.EmptyStatement());
        return twin.WithExpressionBody(null).WithSemicolonToken(default).WithBody(body.WithStatements(SyntaxFactory.List(conversions.Concat(body.Statements))));
    }
}
