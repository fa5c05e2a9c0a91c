using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

/// <summary>What a translated function is: it decides where shared memory may live and how parameters arrive.</summary>
internal enum FunctionRole
{
    /// <summary>The entry of an explicitly grouped kernel: shared memory and barrier counters are hoisted into it.</summary>
    ExplicitKernel,

    /// <summary>The per-index body of an implicitly grouped kernel, called from the entry's grid-stride loop.</summary>
    ImplicitBody,

    Helper,

    Constructor,
}

/// <summary>A view as C sees it: a pointer plus its length (and extents for 2-D/3-D views).</summary>
internal sealed class ViewValue(string pointer, string length, Space space, int rank, string[] extents, ITypeSymbol element, string? stride)
{
    public string Pointer { get; } = pointer;

    public string Length { get; } = length;

    public Space Space { get; } = space;

    public int Rank { get; } = rank;

    public string[] Extents { get; } = extents;

    public ITypeSymbol Element { get; } = element;

    public string? Stride { get; } = stride;
}

/// <summary>
/// Translates one C# method body (kernel, helper or struct constructor) to a C function for one target.
/// Works on the IOperation tree, where conversions, promotions and constants are explicit.
/// </summary>
/// <remarks>
/// Mapping (C# → C), beyond the prelude's helpers:
/// signed + - * → gd_wadd/wsub/wmul_i32/i64; x &lt;&lt; n → gd_shl (signed) or x &lt;&lt; (n &amp; 31|63);
/// x &gt;&gt; n → x &gt;&gt; (n &amp; 31|63); float % → fmod; float→int casts → gd_f32_to_i32 (saturating);
/// constants → literals (NaN/Inf via GD_NAN/GD_INF); views → pointer + length; view[i] → p[i];
/// view2D[x, y] → p[gd_offset_&lt;stride&gt;(x, y, ex, ey)]; SharedMemory.Allocate → hoisted __shared__/__local arrays;
/// LocalMemory.Allocate → private arrays; Atomic.Op(ref t, v) → gd_atomic_op_type_space(&amp;t, v);
/// Grid/Group → GD_GRID_*/GD_GROUP_* macros; Math/MathF/XMath → C math (float names on CUDA end in f).
/// </remarks>
internal sealed class FunctionTranslator
{
    private readonly ProgramBuilder _p;
    private readonly IMethodSymbol _method;
    private readonly FunctionRole _role;
    private readonly Dictionary<ISymbol, ViewValue> _views = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, (string Pointer, Space Space)> _refs = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, string> _names = new(SymbolEqualityComparer.Default);
    private readonly List<string> _hoisted = new();
    private readonly StringBuilder _out = new();
    private readonly Space[] _viewSpaces;
    private int _indent = 1;
    private int _temp;

    public FunctionTranslator(ProgramBuilder program, IMethodSymbol method, FunctionRole role, Space[] viewSpaces)
    {
        _p = program;
        _method = method;
        _role = role;
        _viewSpaces = viewSpaces;
    }

    private bool Cuda => _p.IsCuda;

    private DiagnosticSink Sink => _p.Sink;

    /// <summary>Hoisted declarations that must open the function (shared memory in kernels, local arrays).</summary>
    public IReadOnlyList<string> Hoisted => _hoisted;

    public bool UsesBarrierSlot { get; private set; }

    // ---------------------------------------------------------------- parameters and bodies

    /// <summary>The C parameter list of a helper/body function (views expand to pointer, length and extents).</summary>
    public List<string> DeclareParameters(int skip)
    {
        var list = new List<string>();
        int viewIndex = 0;
        foreach (var parameter in _method.Parameters.Skip(skip))
        {
            var at = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
            string name = CText.Identifier(parameter.Name);
            _names[parameter] = name;
            int rank = Symbols.ViewRank(parameter.Type);
            if (rank > 0)
            {
                var space = viewIndex < _viewSpaces.Length ? _viewSpaces[viewIndex] : Space.Global;
                viewIndex++;
                var element = Symbols.ViewElement(parameter.Type);
                string elementType = _p.StorageType(element, at, "view element");
                list.Add(_p.Qualifier(space) + elementType + "* " + name);
                list.Add(_p.LongType + " " + name + "_len");
                var extents = new string[rank > 1 ? rank : 0];
                for (int i = 0; i < extents.Length; i++)
                {
                    extents[i] = name + "_e" + "xyz"[i];
                    list.Add(_p.LongType + " " + extents[i]);
                }
                _views[parameter] = new ViewValue(name, name + "_len", space, rank, extents, element, rank > 1 ? Symbols.StrideName(parameter.Type) : null);
                continue;
            }
            if (parameter.RefKind is RefKind.Ref or RefKind.Out)
            {
                Sink.Report(Diagnostics.RefParameter, at, _method.Name, parameter.RefKind == RefKind.Out ? "out" : "ref", parameter.Name);
            }
            list.Add(_p.CType(parameter.Type, at, "parameter") + " " + name);
        }
        return list;
    }

    /// <summary>Registers a kernel parameter whose C value arrives under a different name (bool via uchar).</summary>
    public void SetName(IParameterSymbol parameter, string name) => _names[parameter] = name;

    /// <summary>Translates the method body into statements (without the enclosing braces).</summary>
    public string TranslateBody()
    {
        var syntax = _method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
        if (syntax == null)
        {
            Sink.Report(Diagnostics.UntranslatableCall, (SyntaxNode?)null, _method.ToDisplayString(), "its source is not in this project");
            return "";
        }
        ScanSyntax(syntax);
        var model = _p.Model(syntax.SyntaxTree);
        var operation = model.GetOperation(syntax);
        switch (operation)
        {
            case IMethodBodyOperation body:
                EmitBody(body.BlockBody, body.ExpressionBody);
                break;
            case IConstructorBodyOperation ctor:
                if (ctor.Initializer != null)
                    Sink.Report(Diagnostics.UnsupportedSyntax, ctor.Initializer.Syntax, "constructor initializers (': this(...)')", "assign the fields in the constructor body");
                EmitBody(ctor.BlockBody, ctor.ExpressionBody);
                break;
            default:
                Sink.Report(Diagnostics.UnsupportedSyntax, syntax, "this kind of method body", "write a block-bodied static method");
                break;
        }
        return _out.ToString();
    }

    private void EmitBody(IBlockOperation? block, IBlockOperation? expression)
    {
        var body = block ?? expression;
        if (body == null) return;
        foreach (var statement in body.Operations) Statement(statement);
    }

    // Constructs without an IOperation of their own (or whose operation hides them) are found on the syntax.
    private void ScanSyntax(SyntaxNode root)
    {
        foreach (var node in root.DescendantNodesAndSelf())
        {
            switch (node)
            {
                case CheckedExpressionSyntax c when c.Keyword.IsKind(SyntaxKind.CheckedKeyword):
                case CheckedStatementSyntax s when s.Keyword.IsKind(SyntaxKind.CheckedKeyword):
                    Sink.Report(Diagnostics.UnsupportedControl, node, "'checked'", "devices cannot trap on overflow; compare explicitly");
                    break;
                case UnsafeStatementSyntax:
                    Sink.Report(Diagnostics.UnsupportedControl, node, "'unsafe' blocks", "use views instead of pointers");
                    break;
                case FixedStatementSyntax:
                    Sink.Report(Diagnostics.UnsupportedControl, node, "'fixed'", "use views instead of pointers");
                    break;
                case StackAllocArrayCreationExpressionSyntax:
                    Sink.Report(Diagnostics.UnsupportedControl, node, "'stackalloc'", "use LocalMemory.Allocate<T>(n)");
                    break;
                case YieldStatementSyntax:
                    Sink.Report(Diagnostics.UnsupportedControl, node, "'yield'", "write results to a view");
                    break;
                case AwaitExpressionSyntax:
                    Sink.Report(Diagnostics.UnsupportedControl, node, "'await'", "kernels are synchronous; launch separate kernels");
                    break;
                case PointerTypeSyntax:
                    Sink.Report(Diagnostics.UnsupportedControl, node, "pointer types", "use views instead of pointers");
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- statements

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

    // ---------------------------------------------------------------- expressions

    private string Fail() => "0";

    /// <summary>Translates an expression to C text of the expression's C# type.</summary>
    public string Expr(IOperation op)
    {
        if (op.ConstantValue.HasValue && op.Type != null)
        {
            var type = op.Type.TypeKind == TypeKind.Enum ? ((INamedTypeSymbol)op.Type).EnumUnderlyingType! : op.Type;
            if (type.SpecialType is SpecialType.System_String or SpecialType.System_Char)
            {
                Sink.Report(Diagnostics.Strings, op.Syntax, "a " + (type.SpecialType == SpecialType.System_Char ? "char" : "string") + " constant");
                return Fail();
            }
            if (op.ConstantValue.Value == null)
            {
                Sink.Report(Diagnostics.ManagedType, op.Syntax, "null", op.Type.ToDisplayString());
                return Fail();
            }
            string? literal = CText.Literal(ProgramBuilder.ConvertConstant(op.ConstantValue.Value, type.SpecialType), type.SpecialType, _p.Target);
            if (literal != null)
            {
                if (type.SpecialType == SpecialType.System_Double) _p.Features |= Feature.Double;
                return literal;
            }
        }
        switch (op)
        {
            case ILiteralOperation literalOp:
                Sink.Report(Diagnostics.UnsupportedSyntax, literalOp.Syntax, "this literal", "use a primitive constant");
                return Fail();
            case ILocalReferenceOperation local:
                return LocalName(local.Local, local.Syntax);
            case IParameterReferenceOperation parameter:
                if (Symbols.ViewRank(parameter.Type) > 0)
                {
                    Sink.Report(Diagnostics.ViewUse, parameter.Syntax, "A view can only be indexed, sliced, measured or passed to a helper");
                    return Fail();
                }
                return _names.TryGetValue(parameter.Parameter, out string? pn) ? pn : CText.Identifier(parameter.Parameter.Name);
            case IInstanceReferenceOperation instance:
                if (_role == FunctionRole.Constructor) return "gd_this";
                Sink.Report(Diagnostics.UntranslatableCall, instance.Syntax, "this", "instance members are not translatable");
                return Fail();
            case IFieldReferenceOperation field:
                return Field(field);
            case IPropertyReferenceOperation property:
                return Property(property);
            case IArrayElementReferenceOperation element:
                return ArrayElement(element);
            case IConversionOperation conversion:
                return Conversion(conversion);
            case IBinaryOperation binary:
                return Binary(binary);
            case IUnaryOperation unary:
                return Unary(unary);
            case IConditionalOperation conditional when conditional.WhenFalse != null:
                if (Symbols.ViewRank(conditional.Type) > 0)
                {
                    Sink.Report(Diagnostics.ViewUse, conditional.Syntax, "A conditional expression cannot choose between views");
                    return Fail();
                }
                return "(" + Expr(conditional.Condition) + " ? " + Expr(conditional.WhenTrue) + " : " + Expr(conditional.WhenFalse) + ")";
            case ISimpleAssignmentOperation assignment:
                if (assignment.IsRef)
                {
                    Sink.Report(Diagnostics.UnsupportedSyntax, assignment.Syntax, "ref reassignment", "declare a new ref local");
                    return Fail();
                }
                return "(" + Expr(assignment.Target) + " = " + Expr(assignment.Value) + ")";
            case ICompoundAssignmentOperation compound:
                return CompoundAssignment(compound);
            case IIncrementOrDecrementOperation increment:
            {
                string target = Expr(increment.Target);
                string symbol = increment.Kind == OperationKind.Increment ? "++" : "--";
                return increment.IsPostfix ? "(" + target + symbol + ")" : "(" + symbol + target + ")";
            }
            case IInvocationOperation invocation:
                return Invocation(invocation);
            case IObjectCreationOperation creation:
                return ObjectCreation(creation);
            case IDefaultValueOperation defaultValue when defaultValue.Type != null:
                return _p.Zero(defaultValue.Type, defaultValue.Syntax);
            case ISizeOfOperation sizeOf:
                return "((int)sizeof(" + _p.StorageType(sizeOf.TypeOperand, sizeOf.Syntax, "sizeof operand") + "))";
            case IParenthesizedOperation parenthesized:
                return "(" + Expr(parenthesized.Operand) + ")";
            case IArrayCreationOperation or ICollectionExpressionOperation:
                Sink.Report(Diagnostics.ArrayCreation, op.Syntax, "'" + op.Syntax + "'");
                return Fail();
            case IAnonymousFunctionOperation or IDelegateCreationOperation or IMethodReferenceOperation:
                Sink.Report(Diagnostics.Delegates, op.Syntax, op is IAnonymousFunctionOperation ? "a lambda" : "a delegate");
                return Fail();
            case ITupleOperation or IIsPatternOperation or ISwitchExpressionOperation or IIsTypeOperation or IDeconstructionAssignmentOperation:
                Sink.Report(Diagnostics.Patterns, op.Syntax, op switch
                {
                    ITupleOperation or IDeconstructionAssignmentOperation => "tuples",
                    ISwitchExpressionOperation => "switch expressions",
                    _ => "'is' patterns",
                });
                return Fail();
            case ICoalesceOperation or ICoalesceAssignmentOperation:
                Sink.Report(Diagnostics.NullOperators, op.Syntax, "??");
                return Fail();
            case IConditionalAccessOperation:
                Sink.Report(Diagnostics.NullOperators, op.Syntax, "?.");
                return Fail();
            case IThrowOperation:
                Sink.Report(Diagnostics.Exceptions, op.Syntax, "'throw'");
                return Fail();
            case IInterpolatedStringOperation:
                Sink.Report(Diagnostics.Strings, op.Syntax, "an interpolated string");
                return Fail();
            case ITypeOfOperation or INameOfOperation:
                Sink.Report(Diagnostics.ManagedType, op.Syntax, "typeof/nameof", "System.Type");
                return Fail();
            case IAwaitOperation:
                return Fail(); // reported by ScanSyntax
            default:
                if (op.Syntax is CheckedExpressionSyntax or StackAllocArrayCreationExpressionSyntax) return Fail(); // reported by ScanSyntax
                if (op.Type != null && op.Type.IsReferenceType)
                {
                    Sink.Report(Diagnostics.ManagedType, op.Syntax, "a value", op.Type.ToDisplayString());
                    return Fail();
                }
                Sink.Report(Diagnostics.UnsupportedSyntax, op.Syntax, "this expression (" + op.Kind + ")", "write it with locals, operators and calls to static methods");
                return Fail();
        }
    }

    private string LocalName(ILocalSymbol local, SyntaxNode at)
    {
        if (_refs.TryGetValue(local, out var pointer)) return "(*" + pointer.Pointer + ")";
        if (_views.ContainsKey(local))
        {
            Sink.Report(Diagnostics.ViewUse, at, "A view can only be indexed, sliced, measured or passed to a helper");
            return Fail();
        }
        return _names.TryGetValue(local, out string? name) ? name : CText.Identifier(local.Name);
    }

    private string Field(IFieldReferenceOperation field)
    {
        var symbol = field.Field;
        if (symbol.IsStatic)
        {
            if (symbol.IsReadOnly && symbol.Type is IArrayTypeSymbol)
            {
                Sink.Report(Diagnostics.MutableStatic, field.Syntax, symbol.Name, "an array; index it (Table[i]) or read Table.Length");
                return Fail();
            }
            if (symbol.IsReadOnly && symbol.Type.SpecialType != SpecialType.None)
            {
                // static readonly scalar with a constant initializer: emit the value.
                var declarator = symbol.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() as VariableDeclaratorSyntax;
                if (declarator?.Initializer?.Value is { } init)
                {
                    var constant = _p.Model(declarator.SyntaxTree).GetConstantValue(init);
                    if (constant.HasValue && constant.Value != null)
                    {
                        string? literal = CText.Literal(ProgramBuilder.ConvertConstant(constant.Value, symbol.Type.SpecialType), symbol.Type.SpecialType, _p.Target);
                        if (literal != null) return literal;
                    }
                }
                Sink.Report(Diagnostics.MutableStatic, field.Syntax, symbol.Name, "not initialized with a constant");
                return Fail();
            }
            Sink.Report(Diagnostics.MutableStatic, field.Syntax, symbol.Name, symbol.IsReadOnly ? "not a primitive constant" : "mutable");
            return Fail();
        }
        if (field.Instance == null) return Fail();
        if (Symbols.ViewRank(field.Field.Type) > 0)
        {
            Sink.Report(Diagnostics.ViewUse, field.Syntax, "Views cannot be stored in struct fields");
            return Fail();
        }
        string name = CText.Identifier(symbol.AssociatedSymbol is IPropertySymbol p ? p.Name : symbol.Name);
        return Expr(field.Instance) + "." + name;
    }

    private string ArrayElement(IArrayElementReferenceOperation element)
    {
        if (element.ArrayReference is IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: true } field } && element.Indices.Length == 1)
        {
            var table = _p.Table(field, element.Syntax);
            if (table == null) return Fail();
            return table.Value.Name + "[" + Expr(element.Indices[0]) + "]";
        }
        Sink.Report(Diagnostics.ManagedType, element.ArrayReference.Syntax, "an array", element.ArrayReference.Type?.ToDisplayString() ?? "array");
        return Fail();
    }

    private string Property(IPropertyReferenceOperation property)
    {
        var symbol = property.Property;
        var owner = symbol.ContainingType;
        // Static readonly table length.
        if (symbol.Name == "Length" && property.Instance is IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: true, Type: IArrayTypeSymbol } tableField })
        {
            var table = _p.Table(tableField, property.Syntax);
            return table == null ? Fail() : table.Value.Length.Invariant();
        }
        if (property.Instance != null && Symbols.ViewRank(property.Instance.Type) > 0) return ViewProperty(property);
        if (Symbols.Is(owner, "Grid") || Symbols.Is(owner, "Group")) return GroupProperty(property);
        if (Symbols.Is(owner, "Warp"))
        {
            Sink.Report(Diagnostics.UnsupportedIntrinsic, property.Syntax, "Warp." + symbol.Name, "warp intrinsics are not portable; use shared memory and Group.Barrier()");
            return Fail();
        }
        int indexRank = Symbols.IndexRank(owner, out bool isLong);
        if (indexRank > 0 && property.Instance != null)
        {
            string instance = Expr(property.Instance);
            string size = indexRank switch
            {
                1 => instance,
                2 => "((" + (isLong ? _p.LongType : "int") + ")" + instance + ".X * " + instance + ".Y)",
                _ => "((" + (isLong ? _p.LongType : "int") + ")" + instance + ".X * " + instance + ".Y * " + instance + ".Z)",
            };
            switch (symbol.Name)
            {
                case "X": return indexRank == 1 ? instance : instance + ".X";
                case "Y" when indexRank > 1: return instance + ".Y";
                case "Z" when indexRank > 2: return instance + ".Z";
                case "Size": return size;
                case "LongSize": return "((" + _p.LongType + ")" + size + ")";
                case "XY" when indexRank == 3: return (isLong ? "gd_make_lindex2(" : "gd_make_index2(") + instance + ".X, " + instance + ".Y)";
            }
        }
        // Auto-properties of user structs read their backing field, which the C struct names after the property.
        if (property.Instance != null && owner.TypeKind == TypeKind.Struct && !symbol.IsIndexer &&
            owner.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, symbol)))
        {
            return Expr(property.Instance) + "." + CText.Identifier(symbol.Name);
        }
        if (owner.SpecialType == SpecialType.None && owner.TypeKind != TypeKind.Struct && owner.IsReferenceType && property.Instance != null)
        {
            Sink.Report(Diagnostics.ManagedType, property.Instance.Syntax, "a value", owner.ToDisplayString());
            return Fail();
        }
        Sink.Report(Diagnostics.UntranslatableCall, property.Syntax, owner.Name + "." + symbol.Name,
            "computed properties are not translatable (only auto-properties of structs and the documented intrinsics are)");
        return Fail();
    }

    private string GroupProperty(IPropertyReferenceOperation property)
    {
        _p.Features |= Feature.GroupIntrinsics;
        bool grid = property.Property.ContainingType.Name == "Grid";
        string name = property.Property.Name;
        string? result = (grid, name) switch
        {
            (_, "IdxX") => grid ? "GD_GRID_IDX_X" : "GD_GROUP_IDX_X",
            (_, "IdxY") => grid ? "GD_GRID_IDX_Y" : "GD_GROUP_IDX_Y",
            (_, "IdxZ") => grid ? "GD_GRID_IDX_Z" : "GD_GROUP_IDX_Z",
            (_, "DimX") => grid ? "GD_GRID_DIM_X" : "GD_GROUP_DIM_X",
            (_, "DimY") => grid ? "GD_GRID_DIM_Y" : "GD_GROUP_DIM_Y",
            (_, "DimZ") => grid ? "GD_GRID_DIM_Z" : "GD_GROUP_DIM_Z",
            (_, "Index") => grid ? "GD_GRID_INDEX" : "GD_GROUP_INDEX",
            (_, "Dimension") => grid ? "GD_GRID_DIMENSION" : "GD_GROUP_DIMENSION",
            (true, "GlobalIndex") => "GD_GLOBAL_INDEX",
            (true, "GlobalDimension") => "GD_GLOBAL_DIMENSION",
            (true, "GlobalLinearIndex") => "GD_GLOBAL_LINEAR_INDEX",
            (true, "LinearIndex") => "GD_GRID_LINEAR_INDEX",
            (false, "LinearIndex") => "GD_GROUP_LINEAR_INDEX",
            (false, "IsFirstThread") => "(GD_GROUP_LINEAR_INDEX == 0)",
            (false, "IsLastThread") => "(GD_GROUP_LINEAR_INDEX == GD_GROUP_SIZE - 1)",
            _ => null,
        };
        if (result != null) return result;
        Sink.Report(Diagnostics.UnsupportedIntrinsic, property.Syntax, (grid ? "Grid." : "Group.") + name, "use IdxX/Y/Z, DimX/Y/Z, Index, Dimension or the linear indices");
        return Fail();
    }

    private string ViewProperty(IPropertyReferenceOperation property)
    {
        var view = View(property.Instance!);
        if (view == null) return Fail();
        string name = property.Property.Name;
        if (property.Property.IsIndexer) return Element(view, property.Arguments, property.Syntax);
        string longType = _p.LongType;
        switch (name)
        {
            case "Length": return view.Length;
            case "IntLength": return "((int)" + view.Length + ")";
            case "LengthInBytes": return "(" + view.Length + " * (" + longType + ")sizeof(" + _p.StorageType(view.Element, property.Syntax, "view element") + "))";
            case "IsValid": return "(" + view.Length + " > 0)";
            case "Extent" when view.Rank == 1: return view.Length;
            case "IntExtent" when view.Rank == 1: return "((int)" + view.Length + ")";
            case "Extent" when view.Rank == 2: return "gd_make_lindex2(" + view.Extents[0] + ", " + view.Extents[1] + ")";
            case "IntExtent" when view.Rank == 2: return "gd_make_index2((int)" + view.Extents[0] + ", (int)" + view.Extents[1] + ")";
            case "Extent" when view.Rank == 3: return "gd_make_lindex3(" + string.Join(", ", view.Extents) + ")";
            case "IntExtent" when view.Rank == 3: return "gd_make_index3((int)" + view.Extents[0] + ", (int)" + view.Extents[1] + ", (int)" + view.Extents[2] + ")";
        }
        Sink.Report(Diagnostics.ViewUse, property.Syntax, "View member '" + name + "' is not translatable here");
        return Fail();
    }

    /// <summary>The element lvalue <c>p[i]</c> of a view indexer access.</summary>
    private string Element(ViewValue view, IEnumerable<IArgumentOperation> arguments, SyntaxNode at)
    {
        var args = arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).Select(a => a.Value).ToList();
        if (view.Rank == 1 && args.Count == 1) return view.Pointer + "[" + Expr(args[0]) + "]";
        var components = new List<string>();
        if (args.Count == 1 && Symbols.IndexRank(args[0].Type, out _) == view.Rank)
        {
            string index = Expr(args[0]);
            for (int i = 0; i < view.Rank; i++) components.Add(index + "." + "XYZ"[i]);
        }
        else if (args.Count == view.Rank)
        {
            components.AddRange(args.Select(Expr));
        }
        else
        {
            Sink.Report(Diagnostics.ViewUse, at, "This view indexer is not translatable");
            return Fail();
        }
        if (view.Stride == null || view.Stride == "dense")
        {
            Sink.Report(Diagnostics.ViewUse, at, "Only the dense strides (Stride2D.DenseX/DenseY, Stride3D.DenseXY/DenseZY) are translatable");
            return Fail();
        }
        return view.Pointer + "[gd_offset_" + view.Stride + "(" + string.Join(", ", components) + ", " + string.Join(", ", view.Extents) + ")]";
    }

    private string Conversion(IConversionOperation conversion)
    {
        var from = conversion.Operand.Type;
        var to = conversion.Type;
        if (from == null || to == null) return Expr(conversion.Operand);
        if (Symbols.ViewRank(to) > 0)
        {
            Sink.Report(Diagnostics.ViewUse, conversion.Syntax, "A view can only be indexed, sliced, measured or passed to a helper");
            return Fail();
        }
        if (to.IsReferenceType)
        {
            Sink.Report(Diagnostics.ManagedType, conversion.Syntax, "a conversion to", to.ToDisplayString());
            return Fail();
        }
        string operand = Expr(conversion.Operand);
        return Convert(operand, from, to, conversion.Syntax);
    }

    /// <summary>C text converting <paramref name="value"/> from one C# type to another with C# (unchecked, saturating) semantics.</summary>
    private string Convert(string value, ITypeSymbol from, ITypeSymbol to, SyntaxNode at)
    {
        var f = Underlying(from);
        var t = Underlying(to);
        if (SymbolEqualityComparer.Default.Equals(f, t)) return value;
        int fromIndex = Symbols.IndexRank(f, out bool fromLong);
        int toIndex = Symbols.IndexRank(t, out bool toLong);
        string toType = _p.CType(t, at, "value");
        if (fromIndex > 1 || toIndex > 1)
        {
            if (fromIndex == toIndex && fromIndex > 1)
            {
                string maker = (toLong ? "gd_make_lindex" : "gd_make_index") + toIndex.Invariant();
                string cast = toLong ? "(" + _p.LongType + ")" : "(int)";
                return maker + "(" + string.Join(", ", Enumerable.Range(0, toIndex).Select(i => cast + value + "." + "XYZ"[i])) + ")";
            }
            if (fromIndex == 1 && toIndex > 1)
            {
                string maker = (toLong ? "gd_make_lindex" : "gd_make_index") + toIndex.Invariant();
                return maker + "(" + value + (toIndex == 2 ? ", 1)" : ", 1, 1)");
            }
            Sink.Report(Diagnostics.UnsupportedSyntax, at, "this index conversion", "build the index with new IndexND(...)");
            return Fail();
        }
        var fs = fromIndex == 1 ? (fromLong ? SpecialType.System_Int64 : SpecialType.System_Int32) : f.SpecialType;
        var ts = toIndex == 1 ? (toLong ? SpecialType.System_Int64 : SpecialType.System_Int32) : t.SpecialType;
        if (fs == ts) return value;
        if (CText.IsFloat(fs) && CText.IsInteger(ts))
        {
            // C leaves out-of-range float-to-int casts undefined; .NET 9+ saturates and maps NaN to 0.
            return "gd_" + CText.Tag(fs) + "_to_" + CText.Tag(ts) + "(" + value + ")";
        }
        if (ts == SpecialType.System_Boolean || fs == SpecialType.System_Boolean)
        {
            return "((" + toType + ")(" + value + "))";
        }
        if (CText.Primitive(fs, _p.Target) == null || CText.Primitive(ts, _p.Target) == null)
        {
            Sink.Report(Diagnostics.UnsupportedSyntax, at, "a conversion from '" + from.ToDisplayString() + "' to '" + to.ToDisplayString() + "'", "convert between primitive types");
            return Fail();
        }
        return "((" + toType + ")" + value + ")";
    }

    private static ITypeSymbol Underlying(ITypeSymbol type) =>
        type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } u } ? u : type;

    /// <summary>The special type of an operand for operator purposes (Index1D acts as int, enums as their underlying type).</summary>
    private static SpecialType Arithmetic(ITypeSymbol? type)
    {
        if (type == null) return SpecialType.None;
        type = Underlying(type);
        int rank = Symbols.IndexRank(type, out bool isLong);
        if (rank == 1) return isLong ? SpecialType.System_Int64 : SpecialType.System_Int32;
        return type.SpecialType;
    }

    private string Binary(IBinaryOperation binary)
    {
        if (binary.OperatorMethod != null && Symbols.IndexRank(binary.OperatorMethod.ContainingType, out _) != 1)
        {
            int rank = Symbols.IndexRank(binary.OperatorMethod.ContainingType, out bool isLong);
            if (rank > 1 && binary.OperatorKind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract)
            {
                string l = Expr(binary.LeftOperand), r = Expr(binary.RightOperand), op = binary.OperatorKind == BinaryOperatorKind.Add ? " + " : " - ";
                string maker = (isLong ? "gd_make_lindex" : "gd_make_index") + rank.Invariant();
                return maker + "(" + string.Join(", ", Enumerable.Range(0, rank).Select(i => l + "." + "XYZ"[i] + op + r + "." + "XYZ"[i])) + ")";
            }
            Sink.Report(Diagnostics.UntranslatableCall, binary.Syntax, binary.OperatorMethod.ToDisplayString(), "user-defined operators are not translatable");
            return Fail();
        }
        string left = Expr(binary.LeftOperand);
        string right = Expr(binary.RightOperand);
        var operandType = Arithmetic(binary.LeftOperand.Type);
        var resultType = Arithmetic(binary.Type);
        bool signedWrap = resultType is SpecialType.System_Int32 or SpecialType.System_Int64;
        string tag = resultType == SpecialType.System_Int64 ? "i64" : "i32";
        switch (binary.OperatorKind)
        {
            case BinaryOperatorKind.Add when signedWrap: return "gd_wadd_" + tag + "(" + left + ", " + right + ")";
            case BinaryOperatorKind.Subtract when signedWrap: return "gd_wsub_" + tag + "(" + left + ", " + right + ")";
            case BinaryOperatorKind.Multiply when signedWrap: return "gd_wmul_" + tag + "(" + left + ", " + right + ")";
            case BinaryOperatorKind.Add: return "(" + left + " + " + right + ")";
            case BinaryOperatorKind.Subtract: return "(" + left + " - " + right + ")";
            case BinaryOperatorKind.Multiply: return "(" + left + " * " + right + ")";
            case BinaryOperatorKind.Divide: return "(" + left + " / " + right + ")";
            case BinaryOperatorKind.Remainder when CText.IsFloat(resultType):
                return (Cuda && resultType == SpecialType.System_Single ? "fmodf(" : "fmod(") + left + ", " + right + ")";
            case BinaryOperatorKind.Remainder: return "(" + left + " % " + right + ")";
            case BinaryOperatorKind.LeftShift:
            case BinaryOperatorKind.RightShift:
            case BinaryOperatorKind.UnsignedRightShift:
            {
                bool wide = CText.Is64(resultType);
                string count = "(" + right + " & " + (wide ? "63" : "31") + ")";
                if (binary.OperatorKind == BinaryOperatorKind.LeftShift)
                    return signedWrap ? "gd_shl_" + tag + "(" + left + ", " + right + ")" : "(" + left + " << " + count + ")";
                if (binary.OperatorKind == BinaryOperatorKind.UnsignedRightShift && CText.IsSigned(resultType))
                    return "((" + _p.CType(binary.Type!, binary.Syntax, "value") + ")((" + (wide ? "ulong" : "uint") + ")" + left + " >> " + count + "))";
                return "(" + left + " >> " + count + ")";
            }
            case BinaryOperatorKind.And: return "(" + left + " & " + right + ")";
            case BinaryOperatorKind.Or: return "(" + left + " | " + right + ")";
            case BinaryOperatorKind.ExclusiveOr:
                return operandType == SpecialType.System_Boolean ? "(" + left + " != " + right + ")" : "(" + left + " ^ " + right + ")";
            case BinaryOperatorKind.ConditionalAnd: return "(" + left + " && " + right + ")";
            case BinaryOperatorKind.ConditionalOr: return "(" + left + " || " + right + ")";
            case BinaryOperatorKind.Equals: return "(" + left + " == " + right + ")";
            case BinaryOperatorKind.NotEquals: return "(" + left + " != " + right + ")";
            case BinaryOperatorKind.LessThan: return "(" + left + " < " + right + ")";
            case BinaryOperatorKind.LessThanOrEqual: return "(" + left + " <= " + right + ")";
            case BinaryOperatorKind.GreaterThan: return "(" + left + " > " + right + ")";
            case BinaryOperatorKind.GreaterThanOrEqual: return "(" + left + " >= " + right + ")";
            default:
                Sink.Report(Diagnostics.UnsupportedSyntax, binary.Syntax, "operator " + binary.OperatorKind, "use arithmetic, bitwise, shift or comparison operators on primitives");
                return Fail();
        }
    }

    private string Unary(IUnaryOperation unary)
    {
        if (unary.OperatorMethod != null)
        {
            Sink.Report(Diagnostics.UntranslatableCall, unary.Syntax, unary.OperatorMethod.ToDisplayString(), "user-defined operators are not translatable");
            return Fail();
        }
        string operand = Expr(unary.Operand);
        var type = Arithmetic(unary.Type);
        switch (unary.OperatorKind)
        {
            case UnaryOperatorKind.Minus when type is SpecialType.System_Int32 or SpecialType.System_Int64:
                return "gd_wneg_" + (type == SpecialType.System_Int64 ? "i64" : "i32") + "(" + operand + ")";
            case UnaryOperatorKind.Minus: return "(-" + operand + ")";
            case UnaryOperatorKind.Plus: return "(+" + operand + ")";
            case UnaryOperatorKind.BitwiseNegation: return "(~" + operand + ")";
            case UnaryOperatorKind.Not: return "(!" + operand + ")";
            default:
                Sink.Report(Diagnostics.UnsupportedSyntax, unary.Syntax, "operator " + unary.OperatorKind, "use -, +, ~ or !");
                return Fail();
        }
    }

    private string CompoundAssignment(ICompoundAssignmentOperation compound)
    {
        if (compound.OperatorMethod != null)
        {
            Sink.Report(Diagnostics.UntranslatableCall, compound.Syntax, compound.OperatorMethod.ToDisplayString(), "user-defined operators are not translatable");
            return Fail();
        }
        var targetType = compound.Target.Type!;
        string target = Expr(compound.Target);
        string value = Expr(compound.Value);
        var targetSpecial = Arithmetic(targetType);
        var valueSpecial = Arithmetic(compound.Value.Type);
        bool shift = compound.OperatorKind is BinaryOperatorKind.LeftShift or BinaryOperatorKind.RightShift or BinaryOperatorKind.UnsignedRightShift;
        var operationType = shift ? Promote(targetSpecial, targetSpecial) : Promote(targetSpecial, valueSpecial);
        bool wraps = compound.OperatorKind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract or BinaryOperatorKind.Multiply &&
                     operationType is SpecialType.System_Int32 or SpecialType.System_Int64;
        bool simple = !shift && !wraps && compound.OperatorKind != BinaryOperatorKind.Remainder &&
                      !(CText.IsFloat(operationType) && !CText.IsFloat(targetSpecial));
        if (simple)
        {
            string symbol = compound.OperatorKind switch
            {
                BinaryOperatorKind.Add => "+=",
                BinaryOperatorKind.Subtract => "-=",
                BinaryOperatorKind.Multiply => "*=",
                BinaryOperatorKind.Divide => "/=",
                BinaryOperatorKind.And => "&=",
                BinaryOperatorKind.Or => "|=",
                BinaryOperatorKind.ExclusiveOr => "^=",
                _ => "",
            };
            if (symbol.Length > 0) return "(" + target + " " + symbol + " " + value + ")";
        }
        // General form: target = (T)(target op value) with the same rules as the binary operator.
        string opType = CText.Primitive(operationType, _p.Target) ?? "int";
        string l = "((" + opType + ")" + target + ")";
        string r = compound.OperatorKind is BinaryOperatorKind.LeftShift or BinaryOperatorKind.RightShift or BinaryOperatorKind.UnsignedRightShift
            ? value : "((" + opType + ")" + value + ")";
        bool wide = CText.Is64(operationType);
        string tag = operationType == SpecialType.System_Int64 ? "i64" : "i32";
        bool signedWrap = operationType is SpecialType.System_Int32 or SpecialType.System_Int64;
        string count = "(" + value + " & " + (wide ? "63" : "31") + ")";
        string result = compound.OperatorKind switch
        {
            BinaryOperatorKind.Add when signedWrap => "gd_wadd_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.Subtract when signedWrap => "gd_wsub_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.Multiply when signedWrap => "gd_wmul_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.Add => "(" + l + " + " + r + ")",
            BinaryOperatorKind.Subtract => "(" + l + " - " + r + ")",
            BinaryOperatorKind.Multiply => "(" + l + " * " + r + ")",
            BinaryOperatorKind.Divide => "(" + l + " / " + r + ")",
            BinaryOperatorKind.Remainder when CText.IsFloat(operationType) => (Cuda && operationType == SpecialType.System_Single ? "fmodf(" : "fmod(") + l + ", " + r + ")",
            BinaryOperatorKind.Remainder => "(" + l + " % " + r + ")",
            BinaryOperatorKind.And => "(" + l + " & " + r + ")",
            BinaryOperatorKind.Or => "(" + l + " | " + r + ")",
            BinaryOperatorKind.ExclusiveOr => "(" + l + " ^ " + r + ")",
            BinaryOperatorKind.LeftShift when signedWrap => "gd_shl_" + tag + "(" + l + ", " + value + ")",
            BinaryOperatorKind.LeftShift => "(" + l + " << " + count + ")",
            BinaryOperatorKind.RightShift => "(" + l + " >> " + count + ")",
            BinaryOperatorKind.UnsignedRightShift when CText.IsSigned(operationType) => "((" + opType + ")((" + (wide ? "ulong" : "uint") + ")" + l + " >> " + count + "))",
            BinaryOperatorKind.UnsignedRightShift => "(" + l + " >> " + count + ")",
            _ => "",
        };
        if (result.Length == 0)
        {
            Sink.Report(Diagnostics.UnsupportedSyntax, compound.Syntax, "compound operator " + compound.OperatorKind, "write target = target op value");
            return Fail();
        }
        var opSymbolType = _p.Compilation.GetSpecialType(operationType);
        return "(" + target + " = " + Convert(result, opSymbolType, targetType, compound.Syntax) + ")";
    }

    /// <summary>C#'s binary numeric promotion of two operand types.</summary>
    private static SpecialType Promote(SpecialType a, SpecialType b)
    {
        if (a == SpecialType.System_Boolean || b == SpecialType.System_Boolean) return SpecialType.System_Boolean;
        if (a == SpecialType.System_Double || b == SpecialType.System_Double) return SpecialType.System_Double;
        if (a == SpecialType.System_Single || b == SpecialType.System_Single) return SpecialType.System_Single;
        if (a == SpecialType.System_UInt64 || b == SpecialType.System_UInt64) return SpecialType.System_UInt64;
        if (a == SpecialType.System_Int64 || b == SpecialType.System_Int64) return SpecialType.System_Int64;
        if (a == SpecialType.System_UInt32 || b == SpecialType.System_UInt32)
        {
            var other = a == SpecialType.System_UInt32 ? b : a;
            return CText.IsSigned(other) ? SpecialType.System_Int64 : SpecialType.System_UInt32;
        }
        return SpecialType.System_Int32;
    }

    // ---------------------------------------------------------------- views and addresses

    /// <summary>Translates an expression of view type; null after reporting when it is not translatable.</summary>
    public ViewValue? View(IOperation op)
    {
        switch (op)
        {
            case IConversionOperation conversion when Symbols.ViewRank(conversion.Operand.Type) > 0:
                return View(conversion.Operand);
            case IParameterReferenceOperation parameter when _views.TryGetValue(parameter.Parameter, out var pv):
                return pv;
            case ILocalReferenceOperation local when _views.TryGetValue(local.Local, out var lv):
                return lv;
            case IPropertyReferenceOperation { Property.Name: "BaseView" or "AsLinearView" } property when property.Instance != null:
            {
                var baseView = View(property.Instance);
                return baseView == null ? null : new ViewValue(baseView.Pointer, baseView.Length, baseView.Space, 1, Array.Empty<string>(), baseView.Element, null);
            }
            case IDefaultValueOperation defaultView when defaultView.Type != null:
            {
                int rank = Symbols.ViewRank(defaultView.Type);
                var element = Symbols.ViewElement(defaultView.Type);
                return new ViewValue("0", "((" + _p.LongType + ")0)", Space.Global, rank, Enumerable.Repeat("((" + _p.LongType + ")0)", rank > 1 ? rank : 0).ToArray(), element, rank > 1 ? Symbols.StrideName(defaultView.Type) : null);
            }
            case IInvocationOperation invocation:
                return ViewInvocation(invocation);
        }
        Sink.Report(Diagnostics.ViewUse, op.Syntax, "This view expression is not translatable");
        return null;
    }

    private ViewValue? ViewInvocation(IInvocationOperation invocation)
    {
        var method = invocation.TargetMethod;
        var owner = method.ContainingType;
        var args = invocation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).Select(a => a.Value).ToList();
        if (invocation.Instance != null && Symbols.ViewRank(invocation.Instance.Type) > 0)
        {
            var view = View(invocation.Instance);
            if (view == null) return null;
            switch (method.Name)
            {
                case "SubView" when view.Rank == 1 && args.Count is 1 or 2:
                {
                    string offset = Expr(args[0]);
                    string length = args.Count == 2 ? Expr(args[1]) : "(" + view.Length + " - " + offset + ")";
                    return new ViewValue("(" + view.Pointer + " + " + offset + ")", "((" + _p.LongType + ")" + length + ")", view.Space, 1, Array.Empty<string>(), view.Element, null);
                }
                case "Cast" when method.TypeArguments.Length == 1:
                {
                    var element = method.TypeArguments[0];
                    string from = _p.StorageType(view.Element, invocation.Syntax, "view element");
                    string to = _p.StorageType(element, invocation.Syntax, "view element");
                    return new ViewValue("((" + _p.Qualifier(view.Space) + to + "*)" + view.Pointer + ")",
                        "((" + view.Length + " * (" + _p.LongType + ")sizeof(" + from + ")) / (" + _p.LongType + ")sizeof(" + to + "))",
                        view.Space, 1, Array.Empty<string>(), element, null);
                }
                case "AsContiguous" or "AsDense" or "ToArrayView" or "AsLinearView" or "AsGeneral":
                    return view;
            }
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "View method '" + method.Name + "' is not translatable");
            return null;
        }
        if (Symbols.Is(owner, "SharedMemory") || Symbols.Is(owner, "LocalMemory"))
        {
            bool shared = owner.Name == "SharedMemory";
            var element = method.TypeArguments.FirstOrDefault();
            if (element == null) return null;
            string elementType = _p.StorageType(element, invocation.Syntax, "memory element");
            if (method.Name == "GetDynamic" && shared)
            {
                if (_role != FunctionRole.ExplicitKernel)
                {
                    Sink.Report(Diagnostics.SharedMemory, invocation.Syntax, "SharedMemory.GetDynamic is only allowed in the body of an explicitly grouped kernel");
                    return null;
                }
                _p.UsesDynamicShared = true;
                _p.Features |= Feature.DynamicSharedMemory;
                return new ViewValue("((" + _p.Qualifier(Space.Local) + elementType + "*)gd_dynamic_shared)", "(gd_dynamic_bytes / (" + _p.LongType + ")sizeof(" + elementType + "))",
                    Space.Local, 1, Array.Empty<string>(), element, null);
            }
            var sizes = new List<long>();
            foreach (var arg in args)
            {
                if (Symbols.IndexRank(arg.Type, out _) > 1 && arg is IObjectCreationOperation creation)
                {
                    foreach (var component in creation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0))
                    {
                        if (!component.Value.ConstantValue.HasValue) { sizes.Clear(); sizes.Add(-1); break; }
                        sizes.Add(System.Convert.ToInt64(component.Value.ConstantValue.Value, System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
                else if (Symbols.StrideName(owner) == null && Symbols.NestedMetadataName(arg.Type!).StartsWith("Stride", StringComparison.Ordinal))
                {
                    continue; // the stride instance of Allocate2D carries no size
                }
                else if (arg.ConstantValue.HasValue && arg.ConstantValue.Value != null)
                {
                    sizes.Add(System.Convert.ToInt64(arg.ConstantValue.Value, System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    sizes.Add(-1);
                }
            }
            if (sizes.Count == 0 || sizes.Any(s => s <= 0))
            {
                Sink.Report(Diagnostics.SharedMemory, invocation.Syntax,
                    (shared ? "SharedMemory." : "LocalMemory.") + method.Name + " needs positive compile-time constant sizes");
                return null;
            }
            long total = sizes.Aggregate(1L, (a, b) => a * b);
            string name;
            if (shared)
            {
                if (_role != FunctionRole.ExplicitKernel)
                {
                    Sink.Report(Diagnostics.SharedMemory, invocation.Syntax, "SharedMemory." + method.Name + " is only allowed in the body of an explicitly grouped kernel, not in " +
                                                                            (_role == FunctionRole.ImplicitBody ? "an implicitly grouped kernel" : "helper '" + _method.Name + "'"));
                    return null;
                }
                name = "gd_shared" + (_temp++).Invariant();
                _hoisted.Add((Cuda ? "__shared__ " : "__local ") + elementType + " " + name + "[" + total.Invariant() + "]; // " + CText.LineMarker(invocation.Syntax));
                _p.Features |= Feature.SharedMemory;
            }
            else
            {
                name = "gd_local" + (_temp++).Invariant();
                _hoisted.Add(elementType + " " + name + "[" + total.Invariant() + "]; // " + CText.LineMarker(invocation.Syntax));
                _p.Features |= Feature.LocalMemory;
            }
            var space = shared ? Space.Local : Space.Private;
            var resultType = method.ReturnType;
            int rank = Math.Max(1, Symbols.ViewRank(resultType));
            string longType = _p.LongType;
            var extents = rank > 1 ? sizes.Take(rank).Select(s => "((" + longType + ")" + s.Invariant() + ")").ToArray() : Array.Empty<string>();
            return new ViewValue(name, "((" + longType + ")" + total.Invariant() + ")", space, rank, extents, element, rank > 1 ? Symbols.StrideName(resultType) : null);
        }
        if (method.IsStatic && method.Locations.Any(l => l.IsInSource))
        {
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "Helper '" + method.Name + "' returns a view, which device functions cannot do");
            return null;
        }
        Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "Call '" + method.Name + "' does not produce a translatable view");
        return null;
    }

    /// <summary>The C address (<c>&amp;lvalue</c>) and address space of a ref expression (atomic targets, ref locals).</summary>
    private (string Pointer, Space Space)? Address(IOperation op, bool allowPrivate)
    {
        switch (op)
        {
            case IInvocationOperation invocation when Symbols.Is(invocation.TargetMethod.ContainingType, "SharedMemory") && invocation.TargetMethod.Name == "Allocate" &&
                                                      invocation.Arguments.Length == 0:
            {
                var element = invocation.TargetMethod.TypeArguments[0];
                if (_role != FunctionRole.ExplicitKernel)
                {
                    Sink.Report(Diagnostics.SharedMemory, invocation.Syntax, "SharedMemory.Allocate is only allowed in the body of an explicitly grouped kernel, not in " +
                                                                            (_role == FunctionRole.ImplicitBody ? "an implicitly grouped kernel" : "helper '" + _method.Name + "'"));
                    return null;
                }
                string name = "gd_shared" + (_temp++).Invariant();
                _hoisted.Add((Cuda ? "__shared__ " : "__local ") + _p.StorageType(element, invocation.Syntax, "shared element") + " " + name + "; // " + CText.LineMarker(invocation.Syntax));
                _p.Features |= Feature.SharedMemory;
                return ("&" + name, Space.Local);
            }
            case ILocalReferenceOperation local when _refs.TryGetValue(local.Local, out var pointer):
                return (pointer.Pointer, pointer.Space);
            case IPropertyReferenceOperation property when property.Property.IsIndexer && property.Instance != null && Symbols.ViewRank(property.Instance.Type) > 0:
            {
                var view = View(property.Instance);
                if (view == null) return null;
                return ("&" + Element(view, property.Arguments, property.Syntax), view.Space);
            }
            case IFieldReferenceOperation field when field.Instance != null:
            {
                var inner = Address(field.Instance, allowPrivate);
                if (inner == null) return null;
                return ("&" + Expr(field), inner.Value.Space);
            }
            case IPropertyReferenceOperation property when property.Instance != null && !property.Property.IsIndexer:
            {
                var inner = Address(property.Instance, allowPrivate);
                if (inner == null) return null;
                return ("&" + Expr(property), inner.Value.Space);
            }
            case ILocalReferenceOperation or IParameterReferenceOperation when allowPrivate:
                return ("&" + Expr(op), Space.Private);
        }
        Sink.Report(Diagnostics.UnsupportedSyntax, op.Syntax, "this ref target", "pass a view element (view[i]), a field of one, or a shared memory ref local");
        return null;
    }

    // ---------------------------------------------------------------- calls

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

    // ---------------------------------------------------------------- intrinsics

    /// <summary>Float8 operations → the prelude's gd_f8_* (float8 and vload8/vstore8/fma on OpenCL).</summary>
    private string Float8Call(IInvocationOperation invocation, string name, List<IOperation> values)
    {
        switch (name)
        {
            case "Splat" when values.Count == 1: return "gd_f8_splat(" + Expr(values[0]) + ")";
            case "FusedMultiplyAdd" when values.Count == 3: return "gd_f8_fma(" + Expr(values[0]) + ", " + Expr(values[1]) + ", " + Expr(values[2]) + ")";
            case "Add" when values.Count == 2: return "gd_f8_add(" + Expr(values[0]) + ", " + Expr(values[1]) + ")";
            case "Multiply" when values.Count == 2: return "gd_f8_mul(" + Expr(values[0]) + ", " + Expr(values[1]) + ")";
            case "SelectIfAbove" when values.Count == 4:
                return "gd_f8_select_above(" + Expr(values[0]) + ", " + Expr(values[1]) + ", " + Expr(values[2]) + ", " + Expr(values[3]) + ")";
            case "StoreIndices" when values.Count == 6:
            {
                // Float8 of positions -> a view of 64-bit indices (argmax switches).
                if (Float8Address(invocation, name, values, 3) is not (var address, var suffix)) return Fail();
                return "gd_f8_store_indices_" + suffix + "(" + Expr(values[0]) + ", " + Expr(values[1]) + ", " + Expr(values[2]) + ", " + address + ", " + Expr(values[5]) + ")";
            }
            case "LoadOffsets" when values.Count == 4:
            {
                if (Float8Address(invocation, name, values, 0) is not (var address, var suffix)) return Fail();
                return "gd_f8_load_offsets_" + suffix + "(" + address + ", " + Expr(values[2]) + ", " + Expr(values[3]) + ")";
            }
            case "Load" or "LoadPartial" or "Store" or "StorePartial":
            {
                bool store = name.StartsWith("Store", StringComparison.Ordinal);
                if (Float8Address(invocation, name, values, store ? 1 : 0) is not (var address, var suffix)) return Fail();
                return name switch
                {
                    "Load" => "gd_f8_load(" + address + ")",
                    "LoadPartial" => "gd_f8_load_part_" + suffix + "(" + address + ", " + Expr(values[2]) + ")",
                    "Store" => "gd_f8_store(" + Expr(values[0]) + ", " + address + ")",
                    _ => "gd_f8_store_part_" + suffix + "(" + Expr(values[0]) + ", " + address + ", " + Expr(values[3]) + ")",
                };
            }
        }
        return Unsupported(invocation, "Float8." + name, "use Splat, Load, LoadPartial, Store, StorePartial, StoreIndices, LoadOffsets, FusedMultiplyAdd, Add, Multiply or SelectIfAbove");
    }

    /// <summary>
    /// The C address of element values[at + 1] of the one-dimensional view values[at], and the suffix of the prelude
    /// function for its address space (g, l or p); null after reporting a view Float8 cannot take.
    /// </summary>
    private (string Address, string Suffix)? Float8Address(IInvocationOperation invocation, string name, List<IOperation> values, int at)
    {
        var view = View(values[at]);
        if (view == null) return null;
        if (view.Rank != 1)
        {
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "Float8." + name + " takes a one-dimensional view");
            return null;
        }
        string suffix = view.Space switch { Space.Local => "l", Space.Private => "p", _ => "g" };
        return ("&" + view.Pointer + "[" + Expr(values[at + 1]) + "]", suffix);
    }

    /// <summary>Known device functions; null when <paramref name="method"/> is not one (the caller then tries helpers).</summary>
    private string? Intrinsic(IInvocationOperation invocation, IMethodSymbol method, INamedTypeSymbol owner, List<IArgumentOperation> args)
    {
        string name = method.Name;
        var values = args.Select(a => a.Value).ToList();
        if (Symbols.Is(owner, "Group") || Symbols.Is(owner, "Grid"))
        {
            _p.Features |= Feature.GroupIntrinsics;
            switch (name)
            {
                case "Barrier":
                    _p.Features |= Feature.Barrier;
                    return "GD_BARRIER()";
                case "BarrierPopCount" or "BarrierAnd" or "BarrierOr" when values.Count == 1:
                {
                    _p.Features |= Feature.Barrier;
                    string predicate = Expr(values[0]);
                    if (Cuda)
                    {
                        return name switch
                        {
                            "BarrierPopCount" => "__syncthreads_count(" + predicate + ")",
                            "BarrierAnd" => "(__syncthreads_and(" + predicate + ") != 0)",
                            _ => "(__syncthreads_or(" + predicate + ") != 0)",
                        };
                    }
                    if (_role != FunctionRole.ExplicitKernel)
                    {
                        Sink.Report(Diagnostics.UnsupportedIntrinsic, invocation.Syntax, "Group." + name + " outside an explicitly grouped kernel's body",
                            "OpenCL 1.2 emulates it with a counter in local memory that only the kernel body can declare; call it in the kernel and pass the result");
                        return Fail();
                    }
                    _p.Features |= Feature.SharedMemory;
                    UsesBarrierSlot = true;
                    string count = "gd_barrier_popcount(&gd_barrier_slot, " + predicate + ")";
                    return name switch
                    {
                        "BarrierPopCount" => count,
                        "BarrierAnd" => "(" + count + " == GD_GROUP_SIZE)",
                        _ => "(" + count + " > 0)",
                    };
                }
            }
            Sink.Report(Diagnostics.UnsupportedIntrinsic, invocation.Syntax, owner.Name + "." + name, "use Barrier, BarrierPopCount, BarrierAnd or BarrierOr");
            return Fail();
        }
        if (Symbols.Is(owner, "MemoryFence"))
        {
            return name switch
            {
                "GroupLevel" => "GD_FENCE_GROUP()",
                "DeviceLevel" => "GD_FENCE_DEVICE()",
                "SystemLevel" => "GD_FENCE_SYSTEM()",
                _ => Unsupported(invocation, "MemoryFence." + name, "use GroupLevel, DeviceLevel or SystemLevel"),
            };
        }
        if (Symbols.Is(owner, "Warp"))
            return Unsupported(invocation, "Warp." + name, "warp intrinsics are not portable to OpenCL 1.2; use shared memory and Group.Barrier()");
        if (Symbols.Is(owner, "Atomic")) return Atomic(invocation, name, args);
        if (Symbols.Is(owner, "Float8")) return Float8Call(invocation, name, values);
        if (Symbols.Is(owner, "SharedMemory") || Symbols.Is(owner, "LocalMemory"))
        {
            if (method.ReturnsByRef)
            {
                Sink.Report(Diagnostics.SharedMemory, invocation.Syntax, "SharedMemory.Allocate<T>() must initialize a ref local ('ref T x = ref SharedMemory.Allocate<T>();')");
                return Fail();
            }
            Sink.Report(Diagnostics.ViewUse, invocation.Syntax, "A view can only be indexed, sliced, measured or passed to a helper");
            return Fail();
        }
        bool math = owner.ContainingNamespace?.ToDisplayString() == "System" && owner.Name is "Math" or "MathF"
                    || Symbols.Is(owner, "XMath") || Symbols.Is(owner, "IntrinsicMath");
        if (math) return MathCall(invocation, owner.Name + "." + name, name, values, method);
        if (Symbols.IsSystem(owner, "BitConverter"))
        {
            string arg = values.Count == 1 ? Expr(values[0]) : "";
            return name switch
            {
                "SingleToInt32Bits" => "GD_F32_BITS(" + arg + ")",
                "SingleToUInt32Bits" => "GD_F32_UBITS(" + arg + ")",
                "Int32BitsToSingle" => "GD_BITS_F32(" + arg + ")",
                "UInt32BitsToSingle" => "GD_BITS_F32((int)" + arg + ")",
                "DoubleToInt64Bits" => "GD_F64_BITS(" + arg + ")",
                "DoubleToUInt64Bits" => "GD_F64_UBITS(" + arg + ")",
                "Int64BitsToDouble" => "GD_BITS_F64(" + arg + ")",
                "UInt64BitsToDouble" => "GD_BITS_F64(" + arg + ")",
                _ => Unsupported(invocation, "BitConverter." + name, "use SingleToInt32Bits, Int32BitsToSingle, DoubleToInt64Bits or Int64BitsToDouble"),
            };
        }
        if (owner.SpecialType is SpecialType.System_Single or SpecialType.System_Double && method.IsStatic)
        {
            string tag = owner.SpecialType == SpecialType.System_Single ? "f32" : "f64";
            string inf = owner.SpecialType == SpecialType.System_Single ? "GD_INF_F" : "GD_INF";
            string arg = values.Count == 1 ? Expr(values[0]) : "";
            return name switch
            {
                "IsNaN" => "gd_isnan_" + tag + "(" + arg + ")",
                "IsInfinity" => "gd_isinf_" + tag + "(" + arg + ")",
                "IsFinite" => "gd_isfinite_" + tag + "(" + arg + ")",
                "IsPositiveInfinity" => "(" + arg + " == " + inf + ")",
                "IsNegativeInfinity" => "(" + arg + " == -" + inf + ")",
                "IsNegative" => "(GD_" + (tag == "f32" ? "F32" : "F64") + "_BITS(" + arg + ") < 0)",
                _ => MathCall(invocation, owner.Name + "." + name, name, values, method),
            };
        }
        if (CText.IsInteger(owner.SpecialType) && method.IsStatic && name is "Min" or "Max" or "Clamp" or "Abs" or "Sign")
            return MathCall(invocation, owner.Name + "." + name, name, values, method);
        if (owner.ContainingNamespace?.ToDisplayString() is "System" or "System.Numerics" or "System.Runtime.Intrinsics" && owner.Locations.All(l => !l.IsInSource))
        {
            if (owner.SpecialType is SpecialType.System_String or SpecialType.System_Char || owner.Name == "Console")
                Sink.Report(Diagnostics.Strings, invocation.Syntax, "'" + owner.Name + "." + name + "'");
            else
                Sink.Report(Diagnostics.UntranslatableCall, invocation.Syntax, owner.Name + "." + name, "it is not a mapped intrinsic");
            return Fail();
        }
        return null;
    }

    private string Unsupported(IInvocationOperation invocation, string what, string instead)
    {
        Sink.Report(Diagnostics.UnsupportedIntrinsic, invocation.Syntax, what, instead);
        return Fail();
    }

    private string Atomic(IInvocationOperation invocation, string name, List<IArgumentOperation> args)
    {
        string? op = name switch
        {
            "Add" => "add",
            "Sub" => "sub",
            "Min" => "min",
            "Max" => "max",
            "And" => "and",
            "Or" => "or",
            "Xor" => "xor",
            "Exchange" => "exchange",
            "CompareExchange" => "cas",
            _ => null,
        };
        if (op == null || args.Count < 2) return Unsupported(invocation, "Atomic." + name, "use Add, Sub, Min, Max, And, Or, Xor, Exchange or CompareExchange");
        var targetType = args[0].Value.Type;
        var special = targetType == null ? SpecialType.None : Underlying(targetType).SpecialType;
        // Atomics exist for the 32- and 64-bit types only.
        string? tag = special is SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64
            or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double
            ? CText.Tag(special)
            : null;
        if (tag == null)
            return Unsupported(invocation, "Atomic." + name + " on '" + targetType?.ToDisplayString() + "'", "atomics work on int, uint, long, ulong, float and double");
        if (CText.IsFloat(special) && op is "and" or "or" or "xor" or "sub")
            return Unsupported(invocation, "Atomic." + name + " on '" + targetType!.ToDisplayString() + "'", "float atomics support Add, Min, Max, Exchange and CompareExchange");
        var address = Address(args[0].Value, allowPrivate: false);
        if (address == null) return Fail();
        if (address.Value.Space == Space.Private)
            return Unsupported(invocation, "Atomic." + name + " on private memory", "atomics need a view element or shared memory");
        _p.Features |= Feature.Atomics;
        if (CText.IsFloat(special)) _p.Features |= Feature.FloatAtomics;
        if (CText.Is64(special)) _p.Features |= Feature.Int64Atomics;
        var rest = args.Skip(1).Select(a => Expr(a.Value));
        return "gd_atomic_" + op + "_" + tag + "_" + _p.AtomicSpace(address.Value.Space) + "(" + address.Value.Pointer + ", " + string.Join(", ", rest) + ")";
    }

    private string MathCall(IInvocationOperation invocation, string display, string name, List<IOperation> values, IMethodSymbol method)
    {
        var type = method.Parameters.Length > 0 ? Arithmetic(method.Parameters[0].Type) : Arithmetic(method.ReturnType);
        var args = values.Select(Expr).ToList();
        bool isFloat = type == SpecialType.System_Single;
        bool isDouble = type == SpecialType.System_Double;
        if (isDouble) _p.Features |= Feature.Double;
        string Call(string baseName) => (Cuda && isFloat ? baseName + "f" : baseName) + "(" + string.Join(", ", args) + ")";
        if (isFloat || isDouble)
        {
            string tag = isFloat ? "f32" : "f64";
            switch (name)
            {
                case "Abs": return Call("fabs");
                case "Sqrt": return Call("sqrt");
                case "Exp": return Call("exp");
                case "Exp2": return Call("exp2");
                case "Log" when args.Count == 1: return Call("log");
                case "Log" when args.Count == 2:
                    return "(" + (Cuda && isFloat ? "logf(" : "log(") + args[0] + ") / " + (Cuda && isFloat ? "logf(" : "log(") + args[1] + "))";
                case "Log2": return Call("log2");
                case "Log10": return Call("log10");
                case "Pow": return Call("pow");
                case "Sin": return Call("sin");
                case "Cos": return Call("cos");
                case "Tan": return Call("tan");
                case "Asin": return Call("asin");
                case "Acos": return Call("acos");
                case "Atan": return Call("atan");
                case "Atan2": return Call("atan2");
                case "Sinh": return Call("sinh");
                case "Cosh": return Call("cosh");
                case "Tanh": return Call("tanh");
                case "Asinh": return Call("asinh");
                case "Acosh": return Call("acosh");
                case "Atanh": return Call("atanh");
                case "Floor": return Call("floor");
                case "Ceiling": return Call("ceil");
                case "Truncate": return Call("trunc");
                case "Round" when args.Count == 1: return Call("rint"); // half to even, like .NET's default
                case "RoundToEven": return Call("rint");
                case "Cbrt": return Call("cbrt");
                case "CopySign": return Call("copysign");
                case "FusedMultiplyAdd" or "FMA": return Call("fma");
                case "IEEERemainder": return Call("remainder");
                case "Rsqrt": return (isFloat ? "GD_RSQRT_F(" : "GD_RSQRT(") + args[0] + ")";
                case "Rcp": return "(" + (isFloat ? "1.0f" : "1.0") + " / " + args[0] + ")";
                case "Min": return "gd_min_" + tag + "(" + string.Join(", ", args) + ")";
                case "Max": return "gd_max_" + tag + "(" + string.Join(", ", args) + ")";
                case "Clamp": return "gd_clamp_" + tag + "(" + string.Join(", ", args) + ")";
                case "Sign": return "gd_sign_" + tag + "(" + args[0] + ")";
                case "IsNaN": return "gd_isnan_" + tag + "(" + args[0] + ")";
                case "IsInfinity": return "gd_isinf_" + tag + "(" + args[0] + ")";
                case "IsFinite": return "gd_isfinite_" + tag + "(" + args[0] + ")";
            }
        }
        else if (CText.IsInteger(type))
        {
            bool small = type is SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16;
            string tag = small ? "i32" : CText.Tag(type)!;
            string cast = small ? "(" + CText.Primitive(type, _p.Target) + ")" : "";
            switch (name)
            {
                case "Abs" when CText.IsSigned(type): return cast + "gd_abs_" + (tag == "i64" ? "i64" : "i32") + "(" + args[0] + ")";
                case "Abs": return args[0];
                case "Min": return "(" + cast + "gd_min_" + tag + "(" + string.Join(", ", args) + "))";
                case "Max": return "(" + cast + "gd_max_" + tag + "(" + string.Join(", ", args) + "))";
                case "Clamp": return "(" + cast + "gd_clamp_" + tag + "(" + string.Join(", ", args) + "))";
                case "Sign": return "gd_sign_" + tag + "(" + args[0] + ")";
            }
        }
        return Unsupported(invocation, display, "see the translator's Math table (Abs, Sqrt, Exp, Log, Pow, trigonometry, Floor/Ceiling/Truncate/Round, Min/Max/Clamp, FusedMultiplyAdd, ...)");
    }

    /// <summary>Declares the hidden local used by OpenCL's BarrierPopCount emulation.</summary>
    public string BarrierSlotDeclaration => "__local int gd_barrier_slot;";
}
