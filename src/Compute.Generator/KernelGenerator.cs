using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator;

/// <summary>
/// Finds kernels (method groups passed to <c>Accelerator.Load*Kernel</c>/<c>Launch*</c>, and
/// <c>[Kernel]</c> methods), translates each to CUDA C and OpenCL C, and emits their registration.
/// </summary>
/// <remarks>
/// Discovery yields documentation IDs (plain strings, so the pipeline caches by value); the
/// translation step resolves them against the compilation, because it reads method bodies across
/// the whole call graph.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class KernelGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var fromCalls = context.SyntaxProvider.CreateSyntaxProvider(
                predicate: static (node, _) => IsCandidateCall(node),
                transform: static (ctx, ct) => KernelFromCall(ctx, ct))
            .Where(static id => id != null)
            .Select(static (id, _) => id!);

        var fromAttributes = context.SyntaxProvider.ForAttributeWithMetadataName(
                "GpuDeconv.Compute.KernelAttribute",
                predicate: static (node, _) => node is MethodDeclarationSyntax,
                transform: static (ctx, _) => ctx.TargetSymbol is IMethodSymbol m ? DocumentationCommentId.CreateDeclarationId(m) : null)
            .Where(static id => id != null)
            .Select(static (id, _) => id!);

        var ids = fromCalls.Collect().Combine(fromAttributes.Collect())
            .Select(static (pair, _) => pair.Left.Concat(pair.Right).Distinct(StringComparer.Ordinal).OrderBy(x => x, StringComparer.Ordinal).ToImmutableArray());

        context.RegisterSourceOutput(ids.Combine(context.CompilationProvider), static (spc, input) => Execute(spc, input.Right, input.Left));
    }

    private static bool IsCandidateCall(SyntaxNode node)
    {
        if (node is not InvocationExpressionSyntax { ArgumentList.Arguments.Count: > 0 } invocation) return false;
        string? name = invocation.Expression switch
        {
            MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
            IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
            GenericNameSyntax generic => generic.Identifier.ValueText,
            _ => null,
        };
        return name != null && (name.StartsWith("Load", StringComparison.Ordinal) || name.StartsWith("Launch", StringComparison.Ordinal));
    }

    private static string? KernelFromCall(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var invocation = (InvocationExpressionSyntax)context.Node;
        var model = context.SemanticModel;
        var info = model.GetSymbolInfo(invocation, cancellationToken);
        var target = info.Symbol as IMethodSymbol ?? info.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault();
        if (target == null || !IsLoader(target)) return null;
        var argument = invocation.ArgumentList.Arguments[0].Expression;
        var kernelInfo = model.GetSymbolInfo(argument, cancellationToken);
        var kernel = kernelInfo.Symbol as IMethodSymbol ?? kernelInfo.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault();
        if (kernel == null || kernel.MethodKind != MethodKind.Ordinary || !kernel.Locations.Any(l => l.IsInSource)) return null;
        return DocumentationCommentId.CreateDeclarationId(kernel.OriginalDefinition);
    }

    private static bool IsLoader(IMethodSymbol method)
    {
        string name = method.Name;
        bool shaped = name.StartsWith("Launch", StringComparison.Ordinal) ||
                      name.StartsWith("Load", StringComparison.Ordinal) && name.EndsWith("Kernel", StringComparison.Ordinal);
        if (!shaped) return false;
        var type = method.ReducedFrom?.ContainingType ?? method.ContainingType;
        for (var t = type; t != null; t = t.BaseType)
        {
            if (Symbols.NamespaceOf(t) == Symbols.Ns && (t.Name.EndsWith("Accelerator", StringComparison.Ordinal) || t.Name.Contains("Extensions"))) return true;
        }
        return false;
    }

    private static void Execute(SourceProductionContext context, Compilation compilation, ImmutableArray<string> ids)
    {
        if (ids.IsDefaultOrEmpty) return;
        var kernels = new List<KernelResult>();
        foreach (string id in ids)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (DocumentationCommentId.GetFirstSymbolForDeclarationId(id, compilation) is not IMethodSymbol method) continue;
            var result = KernelTranslator.Translate(compilation, method);
            foreach (var diagnostic in result.Diagnostics) context.ReportDiagnostic(diagnostic);
            // A kernel with errors gets no registration: the build stops at its diagnostics.
            if (result.Diagnostics.Count == 0) kernels.Add(result);
        }
        if (kernels.Count == 0) return;
        try
        {
            for (int i = 0; i < kernels.Count; i++)
            {
                var k = kernels[i];
                if (!k.IsImplicit && (k.Features & Feature.Barrier) != 0) k.Split = RegionSplitter.Split(compilation, k.Method, i);
            }
            context.AddSource("GpuDeconv.Kernels.g.cs", CSharpEmitter.Emit(compilation.AssemblyName ?? "", kernels));
            if (kernels.Any(k => k.Split?.Code != null)) context.AddSource("GpuDeconv.Kernels.Split.g.cs", CSharpEmitter.EmitSplit(kernels));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.ReportDiagnostic(Diagnostic.Create(Diagnostics.Internal, kernels[0].Method.Locations.FirstOrDefault(), "registration", e.GetType().Name + ": " + e.Message));
        }
    }
}
