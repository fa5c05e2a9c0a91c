using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

// Statements: blocks, locals, control flow; each C line carries the C# line it came from.
internal sealed partial class FunctionTranslator
{
    private void Line(string text, SyntaxNode? at = null)
    {
        _out.Append(' ', _indent * 4).Append(text);
        if (at != null) _out.Append(" // ").Append(CText.LineMarker(at));
        _out.Append('\n');
    }

    private void Statement(IOperation op)
    {
        switch (op)
        {
            case IBlockOperation block:
                Line("{");
                _indent++;
                foreach (var s in block.Operations) Statement(s);
                _indent--;
                Line("}");
                break;
            case IVariableDeclarationGroupOperation group:
                foreach (var declaration in group.Declarations)
                {
                    foreach (var declarator in declaration.Declarators) Declare(declarator);
                }
                break;
            case IExpressionStatementOperation expression:
                ExpressionStatement(expression.Operation);
                break;
            case IReturnOperation ret:
                if (ret.ReturnedValue == null) Line(_role == FunctionRole.Constructor ? "return gd_this;" : "return;", ret.Syntax);
                else if (Symbols.ViewRank(ret.ReturnedValue.Type) > 0)
                    Sink.Report(Diagnostics.ViewUse, ret.Syntax, "Device functions cannot return views");
                else Line("return " + Expr(ret.ReturnedValue) + ";", ret.Syntax);
                break;
            case IConditionalOperation conditional:
                Line("if (" + Condition(conditional.Condition) + ")", conditional.Syntax is IfStatementSyntax ifs ? ifs.Condition : conditional.Syntax);
                Nested(conditional.WhenTrue);
                if (conditional.WhenFalse != null)
                {
                    Line("else");
                    Nested(conditional.WhenFalse);
                }
                break;
            case IWhileLoopOperation loop:
                if (loop.ConditionIsTop)
                {
                    string condition = loop.Condition == null ? "true" : Condition(loop.Condition);
                    if (loop.ConditionIsUntil) condition = "!(" + condition + ")";
                    Line("while (" + condition + ")", loop.Condition?.Syntax ?? loop.Syntax);
                    Nested(loop.Body);
                }
                else
                {
                    Line("do", loop.Syntax);
                    Nested(loop.Body);
                    string condition = loop.Condition == null ? "true" : Condition(loop.Condition);
                    if (loop.ConditionIsUntil) condition = "!(" + condition + ")";
                    Line("while (" + condition + ");");
                }
                break;
            case IForLoopOperation loop:
                For(loop);
                break;
            case IBranchOperation branch:
                switch (branch.BranchKind)
                {
                    case BranchKind.Break: Line("break;", branch.Syntax); break;
                    case BranchKind.Continue: Line("continue;", branch.Syntax); break;
                    default:
                        Sink.Report(Diagnostics.UnsupportedControl, branch.Syntax, "'goto'", "use structured loops, break and continue");
                        break;
                }
                break;
            case ISwitchOperation sw:
                Switch(sw);
                break;
            case IEmptyOperation:
                break;
            case ILabeledOperation labeled:
                Sink.Report(Diagnostics.UnsupportedControl, labeled.Syntax, "labels and 'goto'", "use structured loops, break and continue");
                break;
            case IForEachLoopOperation forEach:
                Sink.Report(Diagnostics.ForEach, ((CommonForEachStatementSyntax)forEach.Syntax).ForEachKeyword.Parent);
                break;
            case ITryOperation tryOp:
                Sink.Report(Diagnostics.Exceptions, tryOp.Syntax, "try/catch/finally");
                break;
            case IThrowOperation throwOp:
                Sink.Report(Diagnostics.Exceptions, throwOp.Syntax, "'throw'");
                break;
            case ILocalFunctionOperation local:
                Sink.Report(Diagnostics.Delegates, local.Syntax, "a local function");
                break;
            case ILockOperation lockOp:
                Sink.Report(Diagnostics.UnsupportedControl, lockOp.Syntax, "'lock'", "use Atomic.* or Group.Barrier()");
                break;
            case IUsingOperation or IUsingDeclarationOperation:
                Sink.Report(Diagnostics.UnsupportedControl, op.Syntax, "'using'", "kernels hold no disposable resources");
                break;
            default:
                if (op.Syntax is UnsafeStatementSyntax or CheckedStatementSyntax or FixedStatementSyntax) break; // reported by ScanSyntax
                Sink.Report(Diagnostics.UnsupportedSyntax, op.Syntax, "this statement (" + op.Kind + ")", "write it with if/for/while/switch and assignments");
                break;
        }
    }

    private void Nested(IOperation body)
    {
        if (body is IBlockOperation)
        {
            Statement(body);
            return;
        }
        Line("{");
        _indent++;
        Statement(body);
        _indent--;
        Line("}");
    }

    /// <summary>A condition without the outer parentheses the expression translator adds: C compilers warn on <c>if ((a == b))</c>.</summary>
    private string Condition(IOperation condition)
    {
        string text = Expr(condition);
        if (text.Length < 2 || text[0] != '(' || text[text.Length - 1] != ')') return text;
        int depth = 0;
        for (int i = 0; i < text.Length - 1; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')' && --depth == 0) return text; // the first parenthesis closes before the end
        }
        return text.Substring(1, text.Length - 2);
    }

    private void For(IForLoopOperation loop)
    {
        // The initializers go in an enclosing block so `continue` still runs the increments and scoping is kept.
        Line("{", loop.Syntax is ForStatementSyntax f ? f.ForKeyword.Parent : loop.Syntax);
        _indent++;
        foreach (var before in loop.Before) Statement(before);
        string condition = loop.Condition == null ? "" : Condition(loop.Condition);
        var increments = loop.AtLoopBottom.Select(b => b is IExpressionStatementOperation e ? Expr(e.Operation) : Expr(b));
        Line("for (; " + condition + "; " + string.Join(", ", increments) + ")");
        Nested(loop.Body);
        _indent--;
        Line("}");
    }

    private void Switch(ISwitchOperation sw)
    {
        var valueType = sw.Value.Type;
        if (valueType != null && valueType.SpecialType is SpecialType.System_String or SpecialType.System_Char)
        {
            Sink.Report(Diagnostics.Strings, sw.Value.Syntax, "a switch on '" + valueType.ToDisplayString() + "'");
            return;
        }
        Line("switch (" + Expr(sw.Value) + ")", ((SwitchStatementSyntax)sw.Syntax).Expression);
        Line("{");
        foreach (var section in sw.Cases)
        {
            foreach (var clause in section.Clauses)
            {
                switch (clause)
                {
                    case ISingleValueCaseClauseOperation single when single.Value.ConstantValue.HasValue:
                        Line("case " + Expr(single.Value) + ":");
                        break;
                    case IDefaultCaseClauseOperation:
                        Line("default:");
                        break;
                    default:
                        Sink.Report(Diagnostics.Patterns, clause.Syntax, "a pattern or non-constant case label");
                        break;
                }
            }
            Line("{");
            _indent++;
            foreach (var statement in section.Body) Statement(statement);
            _indent--;
            Line("}");
        }
        Line("}");
    }

    private void Declare(IVariableDeclaratorOperation declarator)
    {
        var local = declarator.Symbol;
        string name = CText.Identifier(local.Name);
        _names[local] = name;
        var initializer = declarator.GetVariableInitializer()?.Value;
        if (local.IsConst) return; // every use is a constant and becomes a literal
        if (Symbols.ViewRank(local.Type) > 0)
        {
            if (initializer == null)
            {
                Sink.Report(Diagnostics.ViewUse, declarator.Syntax, "A view local must be initialized where it is declared");
                return;
            }
            var view = View(initializer);
            if (view == null) return;
            string elementType = _p.StorageType(view.Element, declarator.Syntax, "view element");
            Line(_p.Qualifier(view.Space) + elementType + "* " + name + " = " + view.Pointer + ";", declarator.Syntax);
            Line(_p.LongType + " " + name + "_len = " + view.Length + ";");
            var extents = new string[view.Extents.Length];
            for (int i = 0; i < extents.Length; i++)
            {
                extents[i] = name + "_e" + "xyz"[i];
                Line(_p.LongType + " " + extents[i] + " = " + view.Extents[i] + ";");
            }
            _views[local] = new ViewValue(name, name + "_len", view.Space, view.Rank, extents, view.Element, view.Stride);
            return;
        }
        if (local.IsRef)
        {
            if (initializer == null) return;
            var target = Address(initializer, allowPrivate: true);
            if (target == null) return;
            string type = _p.StorageType(local.Type, declarator.Syntax, "local");
            Line(_p.Qualifier(target.Value.Space) + type + "* " + name + " = " + target.Value.Pointer + ";", declarator.Syntax);
            _refs[local] = (name, target.Value.Space);
            return;
        }
        string ctype = _p.CType(local.Type, declarator.Syntax, "local");
        if (initializer == null)
        {
            Line(ctype + " " + name + ";", declarator.Syntax);
            return;
        }
        Line(ctype + " " + name + " = " + Expr(initializer) + ";", declarator.Syntax);
    }

    private void ExpressionStatement(IOperation op)
    {
        if (op is ISimpleAssignmentOperation assignment && Symbols.ViewRank(assignment.Target.Type) > 0)
        {
            // view = other view: copy pointer, length and extents.
            if (assignment.Target is not ILocalReferenceOperation { Local: var local } || !_views.TryGetValue(local, out var target))
            {
                Sink.Report(Diagnostics.ViewUse, assignment.Syntax, "Only view locals can be assigned");
                return;
            }
            var value = View(assignment.Value);
            if (value == null) return;
            if (!Cuda && value.Space != target.Space)
            {
                Sink.Report(Diagnostics.ViewUse, assignment.Syntax, "A view local cannot switch between global, shared and local memory");
                return;
            }
            Line(target.Pointer + " = " + value.Pointer + ";", assignment.Syntax);
            Line(target.Length + " = " + value.Length + ";");
            for (int i = 0; i < target.Extents.Length && i < value.Extents.Length; i++) Line(target.Extents[i] + " = " + value.Extents[i] + ";");
            return;
        }
        Line(Expr(op) + ";", op.Syntax);
    }
}
