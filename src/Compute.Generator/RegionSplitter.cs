using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GpuDeconv.Compute.Generator;

/// <summary>The outcome of region splitting one barrier kernel: generated members, or why it runs thread-per-lane.</summary>
internal sealed class SplitResult(string? code, string? reason)
{
    /// <summary>The struct of per-lane locals and the static group method, or null when the kernel is not splittable.</summary>
    public string? Code { get; } = code;

    /// <summary>Why the kernel keeps the thread-per-lane CPU path (null when split).</summary>
    public string? Reason { get; } = reason;
}

/// <summary>
/// Region splitting for the CPU accelerator (docs/reference/kernel-model.md section c): cuts an explicitly grouped
/// kernel's body at its barriers and emits a C# method that runs one whole group on one thread,
/// each phase a loop over the lanes, so a barrier is the end of a loop instead of a thread rendezvous.
/// </summary>
/// <remarks>
/// Splittable bodies have their barriers as statements at the top level of the body, of nested
/// blocks, or of for/while/do loops that are themselves splittable (loop conditions are group-uniform
/// by contract and evaluated with lane 0's state). Locals referenced from more than one phase move to a
/// per-lane struct; SharedMemory.Allocate declarations at the top level run once per group. Anything else
/// (a barrier under an if, in a helper, break/continue/return across a barrier loop) keeps the
/// thread-per-lane path, which is always correct.
/// </remarks>
internal static partial class RegionSplitter
{
    private const string Ns = "global::GpuDeconv.Compute.";

    public static SplitResult Split(Compilation compilation, IMethodSymbol method, int index)
    {
        if (method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is not MethodDeclarationSyntax { Body: { } body })
            return new SplitResult(null, "the kernel has no block body");
        var model = compilation.GetSemanticModel(body.SyntaxTree);
        try
        {
            var splitter = new Splitter(compilation, model, method, index);
            return new SplitResult(splitter.Run(body), null);
        }
        catch (NotSplittableException e)
        {
            return new SplitResult(null, e.Message);
        }
    }

    private sealed class NotSplittableException(string message) : Exception(message);

    private enum PieceKind
    {
        Statement,      // a statement run per lane
        PopPredicate,   // if (predicate) counter++ (the part of Group.BarrierPopCount/And/Or before the barrier)
        ForInit,        // a barrier loop's declaration and initializers
        ForIncrement,   // a barrier loop's incrementors
    }

    private sealed class Piece(PieceKind kind, SyntaxNode node, int counter = -1)
    {
        public PieceKind Kind { get; } = kind;

        public SyntaxNode Node { get; } = node;

        public int Counter { get; } = counter;
    }

    private abstract class Item;

    private sealed class Phase(int id) : Item
    {
        public int Id { get; } = id;

        public List<Piece> Pieces { get; } = new();
    }

    private sealed class Loop(int conditionRegion, ExpressionSyntax? condition, bool isDo) : Item
    {
        public int ConditionRegion { get; } = conditionRegion;

        public ExpressionSyntax? Condition { get; } = condition;

        public bool IsDo { get; } = isDo;

        public List<Item> Body { get; } = new();
    }

    private sealed partial class Splitter(Compilation compilation, SemanticModel model, IMethodSymbol kernel, int index)
    {
        private int _nextRegion;
        private int _counters;
        private bool _hasReturn;
        private readonly Dictionary<InvocationExpressionSyntax, string> _popResults = new();
        private readonly HashSet<ILocalSymbol> _forceHoist = new(SymbolEqualityComparer.Default);
        private readonly List<LocalDeclarationStatementSyntax> _groupAllocations = new();
        private readonly Dictionary<ILocalSymbol, HashSet<int>> _regions = new(SymbolEqualityComparer.Default);
        private readonly Dictionary<ILocalSymbol, string> _fields = new(SymbolEqualityComparer.Default);
        private readonly HashSet<ILocalSymbol> _groupLocals = new(SymbolEqualityComparer.Default);

        private SemanticModel SemanticModel => model;

        public string Run(BlockSyntax body)
        {
            CheckHelpers(body, new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default));
            foreach (var statement in body.Statements)
            {
                if (IsGroupAllocation(statement) is { } declaration)
                {
                    _groupAllocations.Add(declaration);
                    _groupLocals.Add((ILocalSymbol)model.GetDeclaredSymbol(declaration.Declaration.Variables[0])!);
                }
            }
            foreach (var invocation in body.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (IsSharedAllocation(invocation) && !_groupAllocations.Any(d => d.Span.Contains(invocation.Span)))
                    throw new NotSplittableException("SharedMemory.Allocate is called outside a declaration at the top level of the kernel body");
            }

            var items = new List<Item>();
            var current = NewPhase();
            Sequence(body.Statements.Where(s => !_groupAllocations.Contains(s)), items, ref current, inBarrierLoop: false);
            FlushPhase(items, ref current);

            foreach (var item in items) CollectRegions(item);
            AssignFields();
            return Emit(items);
        }

        // ---- structure ----

        private Phase NewPhase() => new(_nextRegion++);

        private void FlushPhase(List<Item> items, ref Phase current)
        {
            if (current.Pieces.Count == 0) return;
            items.Add(current);
            current = NewPhase();
        }

        private void Sequence(IEnumerable<StatementSyntax> statements, List<Item> items, ref Phase current, bool inBarrierLoop)
        {
            foreach (var statement in statements)
            {
                if (statement is LocalDeclarationStatementSyntax { IsConst: true }) continue;
                if (statement is BlockSyntax block && ContainsBarrier(block))
                {
                    // Flattened: the block's locals become per-lane fields so equal names in sibling blocks cannot clash.
                    foreach (var declaration in block.Statements.OfType<LocalDeclarationStatementSyntax>())
                        foreach (var variable in declaration.Declaration.Variables)
                            _forceHoist.Add((ILocalSymbol)model.GetDeclaredSymbol(variable)!);
                    Sequence(block.Statements, items, ref current, inBarrierLoop);
                    continue;
                }
                if (BarrierStatement(statement) is { } barrier)
                {
                    var (invocation, kind) = barrier;
                    if (kind == "Barrier")
                    {
                        if (invocation.ArgumentList.Arguments.Count != 0) throw new NotSplittableException("Group.Barrier has arguments");
                        FlushPhase(items, ref current);
                        continue;
                    }
                    var predicate = invocation.ArgumentList.Arguments.Single().Expression;
                    if (ContainsBarrier(predicate)) throw new NotSplittableException("a barrier predicate contains a barrier");
                    int counter = _counters++;
                    current.Pieces.Add(new Piece(PieceKind.PopPredicate, predicate, counter));
                    FlushPhase(items, ref current);
                    string c = "__gd_pc" + counter.Invariant();
                    _popResults[invocation] = kind switch
                    {
                        "BarrierPopCount" => c,
                        "BarrierAnd" => "(" + c + " == __gd_n)",
                        _ => "(" + c + " > 0)",
                    };
                    if (statement is not ExpressionStatementSyntax { Expression: InvocationExpressionSyntax })
                        current.Pieces.Add(new Piece(PieceKind.Statement, statement));
                    continue;
                }
                if (statement is ForStatementSyntax or WhileStatementSyntax or DoStatementSyntax && ContainsBarrier(statement))
                {
                    BarrierLoop(statement, items, ref current);
                    continue;
                }
                if (ContainsBarrier(statement))
                    throw new NotSplittableException("a barrier is inside " + Describe(statement) + " (only top-level statements and loop bodies are split)");
                if (inBarrierLoop && statement.DescendantNodesAndSelf().Any(n => n is ReturnStatementSyntax))
                    throw new NotSplittableException("return inside a loop that contains a barrier");
                if (statement.DescendantNodesAndSelf().Any(n => n is ReturnStatementSyntax)) _hasReturn = true;
                if (inBarrierLoop) CheckJumps(statement);
                current.Pieces.Add(new Piece(PieceKind.Statement, statement));
            }
        }

        private void BarrierLoop(StatementSyntax statement, List<Item> items, ref Phase current)
        {
            ExpressionSyntax? condition;
            StatementSyntax body;
            bool isDo = false;
            ForStatementSyntax? forLoop = statement as ForStatementSyntax;
            switch (statement)
            {
                case ForStatementSyntax f:
                    if (f.Declaration != null)
                        foreach (var variable in f.Declaration.Variables) _forceHoist.Add((ILocalSymbol)model.GetDeclaredSymbol(variable)!);
                    if (f.Declaration != null || f.Initializers.Count > 0) current.Pieces.Add(new Piece(PieceKind.ForInit, f));
                    foreach (var incrementor in f.Incrementors)
                        if (ContainsBarrier(incrementor)) throw new NotSplittableException("a for loop incrementor contains a barrier");
                    condition = f.Condition;
                    body = f.Statement;
                    break;
                case WhileStatementSyntax w:
                    condition = w.Condition;
                    body = w.Statement;
                    break;
                default:
                    var d = (DoStatementSyntax)statement;
                    condition = d.Condition;
                    body = d.Statement;
                    isDo = true;
                    break;
            }
            if (condition != null && ContainsBarrier(condition)) throw new NotSplittableException("a loop condition contains a barrier");
            FlushPhase(items, ref current);
            var loop = new Loop(_nextRegion++, condition, isDo);
            var inner = NewPhase();
            var statements = body is BlockSyntax block ? block.Statements.ToList() : new List<StatementSyntax> { body };
            if (body is BlockSyntax)
            {
                foreach (var jump in body.DescendantNodes().Where(n => n is BreakStatementSyntax or ContinueStatementSyntax))
                    if (JumpTarget(jump) == statement) throw new NotSplittableException("break or continue in a loop that contains a barrier");
            }
            Sequence(statements, loop.Body, ref inner, inBarrierLoop: true);
            if (forLoop != null && forLoop.Incrementors.Count > 0) inner.Pieces.Add(new Piece(PieceKind.ForIncrement, forLoop));
            FlushPhase(loop.Body, ref inner);
            items.Add(loop);
        }

        private static SyntaxNode? JumpTarget(SyntaxNode jump)
        {
            for (var n = jump.Parent; n != null; n = n.Parent)
            {
                if (n is ForStatementSyntax or WhileStatementSyntax or DoStatementSyntax or ForEachStatementSyntax) return n;
                if (n is SwitchStatementSyntax && jump is BreakStatementSyntax) return n;
            }
            return null;
        }

        private void CheckJumps(StatementSyntax statement)
        {
            foreach (var jump in statement.DescendantNodesAndSelf().Where(n => n is BreakStatementSyntax or ContinueStatementSyntax))
            {
                var target = JumpTarget(jump);
                if (target == null || !statement.Span.Contains(target.Span))
                    throw new NotSplittableException("break or continue in a loop that contains a barrier");
            }
        }

        private static string Describe(StatementSyntax statement) => statement switch
        {
            IfStatementSyntax => "an if statement",
            SwitchStatementSyntax => "a switch statement",
            _ => "a " + statement.Kind().ToString().Replace("Statement", "").ToLowerInvariant() + " statement",
        };

        /// <summary>The barrier call a statement consists of: <c>Group.Barrier*(...)</c>, <c>x = Group.Barrier*(...)</c> or <c>var x = Group.Barrier*(...)</c>.</summary>
        private (InvocationExpressionSyntax, string)? BarrierStatement(StatementSyntax statement)
        {
            ExpressionSyntax? value = statement switch
            {
                ExpressionStatementSyntax { Expression: InvocationExpressionSyntax call } => call,
                ExpressionStatementSyntax { Expression: AssignmentExpressionSyntax { Left: IdentifierNameSyntax } assignment } when assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) => assignment.Right,
                LocalDeclarationStatementSyntax { Declaration.Variables.Count: 1 } declaration when !declaration.Declaration.Type.IsKind(SyntaxKind.RefType) => declaration.Declaration.Variables[0].Initializer?.Value,
                _ => null,
            };
            if (value is not InvocationExpressionSyntax invocation) return null;
            string? kind = BarrierKind(invocation);
            return kind == null ? null : (invocation, kind);
        }

        private string? BarrierKind(InvocationExpressionSyntax invocation)
        {
            if (model.GetSymbolInfo(invocation).Symbol is not IMethodSymbol target) return null;
            if (!Symbols.Is(target.ContainingType, "Group")) return null;
            return target.Name is "Barrier" or "BarrierPopCount" or "BarrierAnd" or "BarrierOr" ? target.Name : null;
        }

        private bool ContainsBarrier(SyntaxNode node) =>
            node.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(i => BarrierKind(i) != null);

        private bool IsSharedAllocation(InvocationExpressionSyntax invocation) =>
            model.GetSymbolInfo(invocation).Symbol is IMethodSymbol target && Symbols.Is(target.ContainingType, "SharedMemory") && target.Name.StartsWith("Allocate", StringComparison.Ordinal);

        /// <summary>A top-level <c>[ref] var x = [ref] SharedMemory.Allocate*(constants)</c>, run once per group.</summary>
        private LocalDeclarationStatementSyntax? IsGroupAllocation(StatementSyntax statement)
        {
            if (statement is not LocalDeclarationStatementSyntax { Declaration.Variables.Count: 1 } declaration) return null;
            var value = declaration.Declaration.Variables[0].Initializer?.Value;
            if (value is RefExpressionSyntax reference) value = reference.Expression;
            if (value is not InvocationExpressionSyntax invocation || !IsSharedAllocation(invocation)) return null;
            foreach (var name in invocation.ArgumentList.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (model.GetSymbolInfo(name).Symbol is ILocalSymbol { IsConst: false } or IParameterSymbol)
                    throw new NotSplittableException("a SharedMemory.Allocate size depends on a local or parameter");
            }
            return declaration;
        }

        /// <summary>Helpers run inside one phase, so they must not synchronise or allocate shared memory.</summary>
        private void CheckHelpers(SyntaxNode root, HashSet<IMethodSymbol> seen)
        {
            var semantic = compilation.GetSemanticModel(root.SyntaxTree);
            foreach (var invocation in root.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (semantic.GetSymbolInfo(invocation).Symbol is not IMethodSymbol target) continue;
                target = target.ReducedFrom ?? target;
                if (Symbols.NamespaceOf(target.ContainingType) == Symbols.Ns) continue;
                if (target.DeclaringSyntaxReferences.Length == 0) continue;
                if (!seen.Add(target.OriginalDefinition)) continue;
                foreach (var reference in target.DeclaringSyntaxReferences)
                {
                    var syntax = reference.GetSyntax();
                    var helperModel = compilation.GetSemanticModel(syntax.SyntaxTree);
                    foreach (var call in syntax.DescendantNodes().OfType<InvocationExpressionSyntax>())
                    {
                        if (helperModel.GetSymbolInfo(call).Symbol is IMethodSymbol inner &&
                            (Symbols.Is(inner.ContainingType, "Group") && inner.Name.StartsWith("Barrier", StringComparison.Ordinal) ||
                             Symbols.Is(inner.ContainingType, "SharedMemory") && inner.Name.StartsWith("Allocate", StringComparison.Ordinal)))
                            throw new NotSplittableException("helper " + target.Name + " uses Group." + "Barrier or SharedMemory.Allocate");
                    }
                    CheckHelpers(syntax, seen);
                }
            }
        }

        // ---- which locals live across phases ----

        private void CollectRegions(Item item)
        {
            switch (item)
            {
                case Phase phase:
                    foreach (var piece in phase.Pieces)
                    {
                        IEnumerable<SyntaxNode> nodes = piece.Kind switch
                        {
                            PieceKind.ForInit => InitNodes((ForStatementSyntax)piece.Node),
                            PieceKind.ForIncrement => ((ForStatementSyntax)piece.Node).Incrementors,
                            _ => new[] { piece.Node },
                        };
                        foreach (var node in nodes) Record(node, phase.Id);
                    }
                    break;
                case Loop loop:
                    if (loop.Condition != null) Record(loop.Condition, loop.ConditionRegion);
                    foreach (var inner in loop.Body) CollectRegions(inner);
                    break;
            }
        }

        private static IEnumerable<SyntaxNode> InitNodes(ForStatementSyntax f)
        {
            if (f.Declaration != null) yield return f.Declaration;
            foreach (var e in f.Initializers) yield return e;
        }

        private void Record(SyntaxNode node, int region)
        {
            foreach (var n in node.DescendantNodesAndSelf())
            {
                ISymbol? symbol = n switch
                {
                    IdentifierNameSyntax id => model.GetSymbolInfo(id).Symbol,
                    VariableDeclaratorSyntax v => model.GetDeclaredSymbol(v),
                    _ => null,
                };
                if (symbol is not ILocalSymbol { IsConst: false } local || _groupLocals.Contains(local)) continue;
                if (!_regions.TryGetValue(local, out var set)) _regions[local] = set = new HashSet<int>();
                set.Add(region);
            }
        }

        private void AssignFields()
        {
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pair in _regions)
            {
                var local = pair.Key;
                if (pair.Value.Count <= 1 && !_forceHoist.Contains(local)) continue;
                if (local.IsRef) throw new NotSplittableException("ref local '" + local.Name + "' lives across a barrier");
                if (local.Type.IsRefLikeType || !Symbols.IsTypeAccessible(local.Type))
                    throw new NotSplittableException("local '" + local.Name + "' of type '" + local.Type.ToDisplayString() + "' lives across a barrier but cannot be stored by generated code");
                string name = local.Name;
                for (int i = 1; !used.Add(name); i++) name = local.Name + "_" + i.Invariant();
                _fields[local] = name;
            }
        }
    }
}
