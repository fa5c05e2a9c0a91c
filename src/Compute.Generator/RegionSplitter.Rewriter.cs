using System;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator;

internal static partial class RegionSplitter
{
    // Rewriting: each phase's C# made valid in the generated class (per-lane locals, qualified names, folded constants).
    private sealed partial class Splitter
    {
        /// <summary>Rewrites one phase's code for the generated class: per-lane locals, qualified names, folded constants.</summary>
        private sealed class Rewriter(Splitter owner, int region) : CSharpSyntaxRewriter
        {
            public bool UsesLocals { get; set; }

            public bool UsesEndLabel { get; private set; }

            private SemanticModel Model => owner.SemanticModel;

            public override SyntaxNode? VisitIdentifierName(IdentifierNameSyntax node)
            {
                if (node.IsVar && node.Parent is VariableDeclarationSyntax or RefTypeSyntax) return node;
                if (Fold(node) is { } folded) return folded;
                var symbol = Model.GetSymbolInfo(node).Symbol;
                switch (symbol)
                {
                    case ILocalSymbol local:
                        if (owner._fields.TryGetValue(local, out string? field))
                        {
                            UsesLocals = true;
                            return SyntaxFactory.ParseExpression("__gd_L." + Escape(field)).WithTriviaFrom(node);
                        }
                        return node;
                    case IParameterSymbol:
                        return node;
                    case INamespaceOrTypeSymbol type:
                        return Qualified(type, node);
                    case IMethodSymbol { IsStatic: true, MethodKind: MethodKind.Ordinary } method:
                        return Member(method, node, node.Identifier.Text);
                    case IFieldSymbol { IsStatic: true } or IPropertySymbol { IsStatic: true }:
                        return Member(symbol, node, node.Identifier.Text);
                    default:
                        return node;
                }
            }

            public override SyntaxNode? VisitGenericName(GenericNameSyntax node)
            {
                var symbol = Model.GetSymbolInfo(node).Symbol;
                if (symbol is INamespaceOrTypeSymbol type) return Qualified(type, node);
                var visited = (GenericNameSyntax)base.VisitGenericName(node)!;
                if (symbol is IMethodSymbol { IsStatic: true, MethodKind: MethodKind.Ordinary } method && node.Parent is not MemberAccessExpressionSyntax)
                    return Member(method, node, visited.ToString());
                return visited;
            }

            public override SyntaxNode? VisitQualifiedName(QualifiedNameSyntax node) =>
                Model.GetSymbolInfo(node).Symbol is INamespaceOrTypeSymbol type ? Qualified(type, node) : base.VisitQualifiedName(node);

            public override SyntaxNode? VisitAliasQualifiedName(AliasQualifiedNameSyntax node) =>
                Model.GetSymbolInfo(node).Symbol is INamespaceOrTypeSymbol type ? Qualified(type, node) : node;

            public override SyntaxNode? VisitNameColon(NameColonSyntax node) => node;

            public override SyntaxNode? VisitMemberAccessExpression(MemberAccessExpressionSyntax node)
            {
                if (Fold(node) is { } folded) return folded;
                var symbol = Model.GetSymbolInfo(node).Symbol;
                if (symbol is INamespaceOrTypeSymbol type) return Qualified(type, node);
                if (symbol is IMethodSymbol { ReducedFrom: { } extension } && !Symbols.NamespaceOf(extension.ContainingType).StartsWith(Symbols.Ns, StringComparison.Ordinal))
                    throw new NotSplittableException("extension method " + extension.Name + " is not visible from generated code");
                if (symbol is ISymbol member && !member.IsStatic && member is not (IMethodSymbol or IFieldSymbol or IPropertySymbol))
                    return node;
                if (symbol is { IsStatic: true } && !Symbols.IsAccessibleFromAssembly(symbol))
                    throw new NotSplittableException("'" + symbol.ToDisplayString() + "' is not accessible from generated code");
                var visited = node.WithExpression((ExpressionSyntax)Visit(node.Expression)!);
                // Type arguments of a generic member (SharedMemory.Allocate2D<float, Stride2D.DenseX>) need qualifying too.
                if (node.Name is GenericNameSyntax generic)
                    visited = visited.WithName(generic.WithTypeArgumentList((TypeArgumentListSyntax)Visit(generic.TypeArgumentList)!));
                return visited;
            }

            public override SyntaxNode? VisitInvocationExpression(InvocationExpressionSyntax node)
            {
                if (owner._popResults.TryGetValue(node, out string? result)) return SyntaxFactory.ParseExpression(result).WithTriviaFrom(node);
                // A private helper of the kernel's class: generated code reaches it through an UnsafeAccessor.
                if (Model.GetSymbolInfo(node).Symbol is IMethodSymbol { IsStatic: true, MethodKind: MethodKind.Ordinary, IsGenericMethod: false } helper
                    && !Symbols.IsAccessibleFromAssembly(helper) && helper.Locations.Any(l => l.IsInSource))
                {
                    string accessor = owner.Accessor(helper);
                    var arguments = (ArgumentListSyntax)Visit(node.ArgumentList)!;
                    string list = arguments.Arguments.Count == 0 ? "" : ", " + arguments.Arguments.ToString();
                    return SyntaxFactory.ParseExpression(accessor + "(null" + list + ")").WithTriviaFrom(node);
                }
                return base.VisitInvocationExpression(node);
            }

            public override SyntaxNode? VisitReturnStatement(ReturnStatementSyntax node)
            {
                UsesEndLabel = true;
                UsesLocals = true;
                return SyntaxFactory.ParseStatement("{ __gd_L.__gd_done = true; goto __gd_end" + region.Invariant() + "; }").WithTriviaFrom(node);
            }

            private SyntaxNode Qualified(INamespaceOrTypeSymbol symbol, SyntaxNode node)
            {
                if (symbol is ITypeSymbol type && !Symbols.IsTypeAccessible(type))
                    throw new NotSplittableException("type '" + type.ToDisplayString() + "' is not accessible from generated code");
                if (symbol is ITypeSymbol { SpecialType: not SpecialType.None } special && node.Parent is not MemberAccessExpressionSyntax)
                    return SyntaxFactory.ParseTypeName(special.ToDisplayString(CSharpEmitter.TypeFormat)).WithTriviaFrom(node);
                return SyntaxFactory.ParseTypeName(symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)).WithTriviaFrom(node);
            }

            private SyntaxNode Member(ISymbol symbol, SyntaxNode node, string name)
            {
                if (!Symbols.IsAccessibleFromAssembly(symbol))
                    throw new NotSplittableException("'" + symbol.ToDisplayString() + "' is not accessible from generated code");
                return SyntaxFactory.ParseExpression(symbol.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "." + name).WithTriviaFrom(node);
            }

            /// <summary>Constants become literals, so private constants of the kernel's class need no access.</summary>
            private ExpressionSyntax? Fold(ExpressionSyntax node)
            {
                var symbol = Model.GetSymbolInfo(node).Symbol;
                if (symbol is not (IFieldSymbol { IsConst: true } or ILocalSymbol { IsConst: true })) return null;
                var constant = Model.GetConstantValue(node);
                if (!constant.HasValue) return null;
                var type = symbol is IFieldSymbol f ? f.Type : ((ILocalSymbol)symbol).Type;
                return SyntaxFactory.ParseExpression(Literal(constant.Value, type)).WithTriviaFrom(node);
            }
        }

        private static string Literal(object? value, ITypeSymbol type)
        {
            if (type.TypeKind == TypeKind.Enum)
            {
                if (!Symbols.IsTypeAccessible(type)) throw new NotSplittableException("enum '" + type.ToDisplayString() + "' is not accessible from generated code");
                return "((" + type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + ")(" + Literal(value, ((INamedTypeSymbol)type).EnumUnderlyingType!) + "))";
            }
            string text = value switch
            {
                null => "default",
                bool x => x ? "true" : "false",
                int x => SyntaxFactory.Literal(x).Text,
                uint x => SyntaxFactory.Literal(x).Text,
                long x => SyntaxFactory.Literal(x).Text,
                ulong x => SyntaxFactory.Literal(x).Text,
                float x when float.IsNaN(x) => "float.NaN",
                float x when float.IsPositiveInfinity(x) => "float.PositiveInfinity",
                float x when float.IsNegativeInfinity(x) => "float.NegativeInfinity",
                float x => SyntaxFactory.Literal(x).Text,
                double x when double.IsNaN(x) => "double.NaN",
                double x when double.IsPositiveInfinity(x) => "double.PositiveInfinity",
                double x when double.IsNegativeInfinity(x) => "double.NegativeInfinity",
                double x => SyntaxFactory.Literal(x).Text,
                decimal x => SyntaxFactory.Literal(x).Text,
                char x => SyntaxFactory.Literal(x).Text,
                string x => SyntaxFactory.Literal(x).Text,
                byte or sbyte or short or ushort => Convert.ToInt32(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                _ => throw new NotSplittableException("constant of type " + type.ToDisplayString() + " cannot be written as a literal"),
            };
            return "((" + type.ToDisplayString(CSharpEmitter.TypeFormat) + ")(" + text + "))";
        }
    }
}
