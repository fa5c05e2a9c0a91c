using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator;

internal static partial class RegionSplitter
{
    // Emission: the per-lane locals struct, the group method with one lane loop per phase, and UnsafeAccessors for private helpers.
    private sealed partial class Splitter
    {
        private readonly Dictionary<IMethodSymbol, string> _accessors = new(SymbolEqualityComparer.Default);
        private readonly StringBuilder _accessorDeclarations = new();

        /// <summary>The name of a generated UnsafeAccessor for a helper that generated code cannot call directly (trim/AOT-safe).</summary>
        public string Accessor(IMethodSymbol helper)
        {
            if (_accessors.TryGetValue(helper, out string? name)) return name;
            if (helper.Parameters.Any(p => p.RefKind != RefKind.None || !Symbols.IsTypeAccessible(p.Type)) ||
                !helper.ReturnsVoid && !Symbols.IsTypeAccessible(helper.ReturnType))
                throw new NotSplittableException("helper " + helper.Name + " has a ref parameter or a type that generated code cannot name");
            name = "__gd_Call" + index.Invariant() + "_" + _accessors.Count.Invariant();
            _accessors[helper] = name;
            string owner = Symbols.FullName(helper.ContainingType) + ", " + compilation.AssemblyName;
            var d = _accessorDeclarations;
            d.Append("\n        [global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.StaticMethod, Name = \"")
                .Append(helper.Name).Append("\")]\n");
            d.Append("        private static extern ").Append(helper.ReturnsVoid ? "void" : helper.ReturnType.ToDisplayString(CSharpEmitter.TypeFormat))
                .Append(' ').Append(name).Append("([global::System.Runtime.CompilerServices.UnsafeAccessorType(\"").Append(owner).Append("\")] object owner");
            foreach (var p in helper.Parameters) d.Append(", ").Append(p.Type.ToDisplayString(CSharpEmitter.TypeFormat)).Append(' ').Append(Escape(p.Name));
            d.Append(");\n");
            return name;
        }

        private string Emit(List<Item> items)
        {
            string n = index.Invariant();
            bool hasLocals = _fields.Count > 0 || _hasReturn;
            var b = new StringBuilder();
            b.Append("        // ").Append(kernel.ToDisplayString()).Append(": one group per call, each phase a loop over the lanes\n");
            if (hasLocals)
            {
                b.Append("        private struct Locals").Append(n).Append("\n        {\n");
                foreach (var pair in _fields.OrderBy(p => p.Value, StringComparer.Ordinal))
                    b.Append("            public ").Append(pair.Key.Type.ToDisplayString(CSharpEmitter.TypeFormat)).Append(' ').Append(Escape(pair.Value)).Append(";\n");
                if (_hasReturn) b.Append("            public bool __gd_done;\n");
                b.Append("        }\n\n");
            }
            b.Append("        internal static void Split").Append(n).Append("(").Append(Ns).Append("CpuGroupRunner __gd_g");
            foreach (var p in kernel.Parameters) b.Append(", ").Append(p.Type.ToDisplayString(CSharpEmitter.TypeFormat)).Append(' ').Append(Escape(p.Name));
            b.Append(")\n        {\n");
            b.Append("            int __gd_n = __gd_g.LaneCount;\n");
            if (hasLocals) b.Append("            var __gd_locals = __gd_g.Locals<Locals").Append(n).Append(">();\n");
            if (_hasReturn) b.Append("            global::System.Array.Clear(__gd_locals);\n");
            for (int c = 0; c < _counters; c++) b.Append("            int __gd_pc").Append(c.Invariant()).Append(" = 0;\n");
            if (_groupAllocations.Count > 0)
            {
                b.Append("            __gd_g.SetLane(0);\n");
                var rewriter = new Rewriter(this, -1);
                foreach (var declaration in _groupAllocations)
                {
                    b.Append("            ").Append(rewriter.Visit(declaration)!.WithoutTrivia().ToString()).Append('\n');
                }
            }
            foreach (var item in items) EmitItem(b, item, "            ");
            b.Append("        }\n");
            b.Append(_accessorDeclarations);
            return b.ToString();
        }

        private void EmitItem(StringBuilder b, Item item, string indent)
        {
            if (item is Phase phase)
            {
                EmitPhase(b, phase, indent);
                return;
            }
            var loop = (Loop)item;
            b.Append(indent).Append("while (true)\n").Append(indent).Append("{\n");
            string inner = indent + "    ";
            if (!loop.IsDo) EmitCondition(b, loop, inner);
            foreach (var x in loop.Body) EmitItem(b, x, inner);
            if (loop.IsDo) EmitCondition(b, loop, inner);
            b.Append(indent).Append("}\n");
        }

        private void EmitCondition(StringBuilder b, Loop loop, string indent)
        {
            if (loop.Condition == null) return;
            var rewriter = new Rewriter(this, loop.ConditionRegion);
            string condition = rewriter.Visit(loop.Condition)!.WithoutTrivia().ToString();
            b.Append(indent).Append("{\n");
            b.Append(indent).Append("    __gd_g.SetLane(0);\n");
            if (rewriter.UsesLocals) b.Append(indent).Append("    ref var __gd_L = ref __gd_locals[0];\n");
            b.Append(indent).Append("    if (!(").Append(condition).Append(")) break;\n");
            b.Append(indent).Append("}\n");
        }

        private void EmitPhase(StringBuilder b, Phase phase, string indent)
        {
            var rewriter = new Rewriter(this, phase.Id);
            var body = new StringBuilder();
            string inner = indent + "    ";
            foreach (var piece in phase.Pieces)
            {
                switch (piece.Kind)
                {
                    case PieceKind.Statement when piece.Node is LocalDeclarationStatementSyntax declaration:
                        EmitDeclaration(body, rewriter, declaration.Declaration, inner);
                        break;
                    case PieceKind.Statement:
                        body.Append(inner).Append(rewriter.Visit(piece.Node)!.WithoutTrivia().ToFullString()).Append('\n');
                        break;
                    case PieceKind.PopPredicate:
                        body.Append(inner).Append("if (").Append(rewriter.Visit(piece.Node)!.WithoutTrivia().ToString()).Append(") __gd_pc").Append(piece.Counter.Invariant()).Append("++;\n");
                        break;
                    case PieceKind.ForInit:
                        var f = (ForStatementSyntax)piece.Node;
                        if (f.Declaration != null) EmitDeclaration(body, rewriter, f.Declaration, inner);
                        foreach (var e in f.Initializers) body.Append(inner).Append(rewriter.Visit(e)!.WithoutTrivia().ToString()).Append(";\n");
                        break;
                    case PieceKind.ForIncrement:
                        foreach (var e in ((ForStatementSyntax)piece.Node).Incrementors) body.Append(inner).Append(rewriter.Visit(e)!.WithoutTrivia().ToString()).Append(";\n");
                        break;
                }
            }
            foreach (var piece in phase.Pieces.Where(p => p.Kind == PieceKind.PopPredicate))
                b.Append(indent).Append("__gd_pc").Append(piece.Counter.Invariant()).Append(" = 0;\n");
            b.Append(indent).Append("for (int __gd_lane = 0; __gd_lane < __gd_n; __gd_lane++)\n").Append(indent).Append("{\n");
            b.Append(inner).Append("__gd_g.SetLane(__gd_lane);\n");
            if (rewriter.UsesLocals || _hasReturn) b.Append(inner).Append("ref var __gd_L = ref __gd_locals[__gd_lane];\n");
            if (_hasReturn) b.Append(inner).Append("if (__gd_L.__gd_done) continue;\n");
            b.Append(body);
            if (rewriter.UsesEndLabel) b.Append(inner).Append("__gd_end").Append(phase.Id.Invariant()).Append(": ;\n");
            b.Append(indent).Append("}\n");
        }

        private void EmitDeclaration(StringBuilder b, Rewriter rewriter, VariableDeclarationSyntax declaration, string indent)
        {
            foreach (var variable in declaration.Variables)
            {
                var local = (ILocalSymbol)model.GetDeclaredSymbol(variable)!;
                string? value = variable.Initializer == null ? null : rewriter.Visit(variable.Initializer.Value)!.WithoutTrivia().ToString();
                if (_fields.TryGetValue(local, out string? field))
                {
                    rewriter.UsesLocals = true;
                    if (value != null) b.Append(indent).Append("__gd_L.").Append(Escape(field)).Append(" = ").Append(value).Append(";\n");
                }
                else
                {
                    string type = declaration.Type.IsVar ? "var" : rewriter.Visit(declaration.Type)!.WithoutTrivia().ToString();
                    b.Append(indent).Append(type).Append(' ').Append(variable.Identifier.Text);
                    if (value != null) b.Append(" = ").Append(value);
                    b.Append(";\n");
                }
            }
        }

        private static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
    }
}
