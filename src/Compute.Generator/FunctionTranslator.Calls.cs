using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

// Calls: intrinsics first, then same-project static helpers and struct constructors, each translated once per program.
internal sealed partial class FunctionTranslator
{
    private string Invocation(IInvocationOperation invocation)
    {
        var method = invocation.TargetMethod;
        var owner = method.ContainingType;
        var args = invocation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).ToList();
        if (Symbols.ViewRank(method.ReturnType) > 0)
        {
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "A view can only be indexed, sliced, measured or passed to a helper");
            return Fail();
        }
        if (invocation.Instance != null && Symbols.ViewRank(invocation.Instance.Type) > 0)
        {
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "View method '" + method.Name + "' is not translatable");
            return Fail();
        }
        string? intrinsic = Intrinsic(invocation, method, owner, args);
        if (intrinsic != null) return intrinsic;
        if (method.IsStatic && !method.IsExtern && method.DeclaringSyntaxReferences.Length > 0 && method.Locations.All(l => l.IsInSource) &&
            method.MethodKind == MethodKind.Ordinary)
        {
            return CallHelper(invocation, method, args);
        }
        if (method.MethodKind == MethodKind.LocalFunction)
        {
            Sink.Report(Diagnostics.Delegates, invocation.Syntax, "a local function");
            return Fail();
        }
        string reason = !method.IsStatic ? "instance methods are not translatable; make it a static method taking the struct as a parameter"
            : method.DeclaringSyntaxReferences.Length == 0 ? "it is not declared in this project and is not a known intrinsic"
            : "only ordinary static methods are translatable";
        Sink.Report(Diagnostics.UntranslatableCall, invocation.Syntax, owner.Name + "." + method.Name, reason);
        return Fail();
    }

    private string CallHelper(IInvocationOperation invocation, IMethodSymbol method, List<IArgumentOperation> args)
    {
        if (method.IsGenericMethod || method.ContainingType.IsGenericType)
        {
            Sink.Report(Diagnostics.UntranslatableCall, invocation.Syntax, method.Name, "generic helpers are not translatable yet");
            return Fail();
        }
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            Sink.Report(Diagnostics.RefParameter, invocation.Syntax, method.Name, "ref return", "(return value)");
            return Fail();
        }
        foreach (var active in _p.ActiveMethods)
        {
            if (SymbolEqualityComparer.Default.Equals(active, method))
            {
                Sink.Report(Diagnostics.Recursion, invocation.Syntax, method.Name, _method.Name);
                return Fail();
            }
        }
        var cArgs = new List<string>();
        var spaces = new List<Space>();
        foreach (var arg in args)
        {
            if (arg.Parameter != null && Symbols.ViewRank(arg.Parameter.Type) > 0)
            {
                var view = View(arg.Value);
                if (view == null) return Fail();
                spaces.Add(view.Space);
                cArgs.Add(view.Pointer);
                cArgs.Add(view.Length);
                cArgs.AddRange(view.Extents);
                continue;
            }
            if (arg.Parameter is { RefKind: RefKind.Ref or RefKind.Out })
            {
                var at = arg.Parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() ?? arg.Syntax;
                Sink.Report(Diagnostics.RefParameter, at, method.Name, arg.Parameter.RefKind == RefKind.Out ? "out" : "ref", arg.Parameter.Name);
                return Fail();
            }
            cArgs.Add(Expr(arg.Value));
        }
        if (Cuda) spaces = spaces.Select(_ => Space.Global).ToList();
        string spaceKey = new string(spaces.Select(s => s switch { Space.Global => 'g', Space.Local => 'l', _ => 'p' }).ToArray());
        string key = (DocumentationCommentId.CreateDeclarationId(method) ?? method.ToDisplayString()) + "|" + spaceKey;
        if (!_p.TryGetHelper(key, out string name))
        {
            string baseName = CText.QualifiedIdentifier(method) + (Cuda || spaceKey.Length == 0 ? "" : "_" + spaceKey);
            name = _p.UniqueFunctionName(baseName);
            _p.AddHelper(key, name);
            var helper = new FunctionTranslator(_p, method, FunctionRole.Helper, spaces.ToArray());
            _p.ActiveMethods.Add(method);
            try
            {
                var parameters = helper.DeclareParameters(0);
                string returnType = method.ReturnsVoid ? "void" : _p.CType(method.ReturnType, method.DeclaringSyntaxReferences[0].GetSyntax(), "return value");
                string body = helper.TranslateBody();
                var text = new StringBuilder();
                text.Append("// ").Append(method.ToDisplayString()).Append(" (").Append(CText.LineMarker(method.DeclaringSyntaxReferences[0].GetSyntax())).Append(")\n");
                text.Append("GD_FUNC ").Append(returnType).Append(' ').Append(name).Append('(').Append(parameters.Count == 0 ? "void" : string.Join(", ", parameters)).Append(")\n{\n");
                foreach (string h in helper.Hoisted) text.Append("    ").Append(h).Append('\n');
                text.Append(body).Append("}\n");
                _p.AddFunction(text.ToString());
            }
            finally
            {
                _p.ActiveMethods.RemoveAt(_p.ActiveMethods.Count - 1);
            }
        }
        return name + "(" + string.Join(", ", cArgs) + ")";
    }

    private string ObjectCreation(IObjectCreationOperation creation)
    {
        var type = creation.Type;
        if (type == null) return Fail();
        if (creation.Initializer != null && creation.Initializer.Initializers.Length > 0)
        {
            Sink.Report(Diagnostics.UnsupportedSyntax, creation.Initializer.Syntax, "object initializers", "construct the struct, then assign its fields");
            return Fail();
        }
        var args = creation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).Select(a => a.Value).ToList();
        int indexRank = Symbols.IndexRank(type, out bool isLong);
        if (indexRank > 0)
        {
            if (indexRank == 1 && args.Count == 1) return "((" + (isLong ? _p.LongType : "int") + ")" + Expr(args[0]) + ")";
            if (args.Count == indexRank && args.All(a => Symbols.IndexRank(a.Type, out _) == 0))
                return (isLong ? "gd_make_lindex" : "gd_make_index") + indexRank.Invariant() + "(" + string.Join(", ", args.Select(Expr)) + ")";
            if (args.Count == 0) return _p.Zero(type, creation.Syntax);
            Sink.Report(Diagnostics.UnsupportedSyntax, creation.Syntax, "this index constructor", "pass one int per dimension");
            return Fail();
        }
        if (type.IsReferenceType || type.TypeKind != TypeKind.Struct)
        {
            Sink.Report(Diagnostics.ManagedType, creation.Syntax, "an object", type.ToDisplayString());
            return Fail();
        }
        if (Symbols.StrideName(type) == null && Symbols.NamespaceOf(type) == Symbols.Ns && Symbols.NestedMetadataName(type).StartsWith("Stride", StringComparison.Ordinal))
        {
            return "0"; // stride markers carry no data on devices
        }
        string ctype = _p.CType(type, creation.Syntax, "value");
        var ctor = creation.Constructor;
        if (ctor == null || ctor.IsImplicitlyDeclared || args.Count == 0 && ctor.Parameters.Length == 0) return _p.Zero(type, creation.Syntax);
        if (!_p.TryGetConstructor(ctor, out string name))
        {
            var syntax = ctor.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
            if (syntax == null)
            {
                Sink.Report(Diagnostics.UntranslatableCall, creation.Syntax, type.Name + " constructor", "its source is not in this project");
                return Fail();
            }
            name = _p.UniqueFunctionName("gd_new_" + ctype);
            _p.AddConstructor(ctor, name);
            var text = new StringBuilder();
            text.Append("// ").Append(ctor.ToDisplayString()).Append(" (").Append(CText.LineMarker(syntax)).Append(")\n");
            var translator = new FunctionTranslator(_p, ctor, FunctionRole.Constructor, Array.Empty<Space>());
            var parameters = translator.DeclareParameters(0);
            text.Append("GD_FUNC ").Append(ctype).Append(' ').Append(name).Append('(').Append(parameters.Count == 0 ? "void" : string.Join(", ", parameters)).Append(")\n{\n");
            text.Append("    ").Append(ctype).Append(" gd_this = gd_zero_").Append(ctype).Append("();\n");
            if (syntax is ConstructorDeclarationSyntax)
            {
                text.Append(translator.TranslateBody());
            }
            else
            {
                // A record struct's primary constructor assigns each parameter to the property of the same name.
                foreach (var parameter in ctor.Parameters)
                {
                    if (ProgramBuilder.StructFields((INamedTypeSymbol)type).Any(f => f.Name == CText.Identifier(parameter.Name)))
                        text.Append("    gd_this.").Append(CText.Identifier(parameter.Name)).Append(" = ").Append(CText.Identifier(parameter.Name)).Append(";\n");
                    else
                        Sink.Report(Diagnostics.UnsupportedSyntax, syntax, "primary constructor parameter '" + parameter.Name + "' without a property", "use a record struct or an explicit constructor");
                }
            }
            text.Append("    return gd_this;\n}\n");
            _p.AddFunction(text.ToString());
        }
        return name + "(" + string.Join(", ", args.Select(Expr)) + ")";
    }
}
