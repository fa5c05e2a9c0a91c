using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

// Expressions: names, fields, conversions and operators with C# semantics (wrapping, saturating, promoted).
internal sealed partial class FunctionTranslator
{
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
        if (IntrinsicProperty(property) is { } intrinsic) return intrinsic;
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
        var f = Symbols.Underlying(from);
        var t = Symbols.Underlying(to);
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
            UserDefined(binary.OperatorMethod, binary.Syntax);
            return Fail();
        }
        string left = Expr(binary.LeftOperand);
        string right = Expr(binary.RightOperand);
        if (binary.OperatorKind == BinaryOperatorKind.ExclusiveOr && Symbols.Arithmetic(binary.LeftOperand.Type) == SpecialType.System_Boolean)
            return "(" + left + " != " + right + ")";
        if (Operator(binary.OperatorKind, left, right, Symbols.Arithmetic(binary.Type)) is { } arithmetic) return arithmetic;
        string? symbol = binary.OperatorKind switch
        {
            BinaryOperatorKind.ConditionalAnd => "&&",
            BinaryOperatorKind.ConditionalOr => "||",
            BinaryOperatorKind.Equals => "==",
            BinaryOperatorKind.NotEquals => "!=",
            BinaryOperatorKind.LessThan => "<",
            BinaryOperatorKind.LessThanOrEqual => "<=",
            BinaryOperatorKind.GreaterThan => ">",
            BinaryOperatorKind.GreaterThanOrEqual => ">=",
            _ => null,
        };
        if (symbol != null) return "(" + left + " " + symbol + " " + right + ")";
        Sink.Report(Diagnostics.UnsupportedSyntax, binary.Syntax, "operator " + binary.OperatorKind, "use arithmetic, bitwise, shift or comparison operators on primitives");
        return Fail();
    }

    /// <summary>
    /// <c>l op r</c> computed in <paramref name="type"/> with C# semantics: signed + - * and &lt;&lt; wrap, shift counts are
    /// masked, float % is fmod; null when <paramref name="kind"/> is not arithmetic, bitwise or a shift.
    /// </summary>
    private string? Operator(BinaryOperatorKind kind, string l, string r, SpecialType type)
    {
        bool signedWrap = type is SpecialType.System_Int32 or SpecialType.System_Int64;
        string tag = type == SpecialType.System_Int64 ? "i64" : "i32";
        bool wide = CText.Is64(type);
        string count = "(" + r + " & " + (wide ? "63" : "31") + ")";
        return kind switch
        {
            BinaryOperatorKind.Add when signedWrap => "gd_wadd_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.Subtract when signedWrap => "gd_wsub_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.Multiply when signedWrap => "gd_wmul_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.Add => "(" + l + " + " + r + ")",
            BinaryOperatorKind.Subtract => "(" + l + " - " + r + ")",
            BinaryOperatorKind.Multiply => "(" + l + " * " + r + ")",
            BinaryOperatorKind.Divide => "(" + l + " / " + r + ")",
            BinaryOperatorKind.Remainder when CText.IsFloat(type) => (Cuda && type == SpecialType.System_Single ? "fmodf(" : "fmod(") + l + ", " + r + ")",
            BinaryOperatorKind.Remainder => "(" + l + " % " + r + ")",
            BinaryOperatorKind.And => "(" + l + " & " + r + ")",
            BinaryOperatorKind.Or => "(" + l + " | " + r + ")",
            BinaryOperatorKind.ExclusiveOr => "(" + l + " ^ " + r + ")",
            BinaryOperatorKind.LeftShift when signedWrap => "gd_shl_" + tag + "(" + l + ", " + r + ")",
            BinaryOperatorKind.LeftShift => "(" + l + " << " + count + ")",
            BinaryOperatorKind.RightShift => "(" + l + " >> " + count + ")",
            BinaryOperatorKind.UnsignedRightShift when CText.IsSigned(type) =>
                "((" + CText.Primitive(type, _p.Target) + ")((" + (wide ? "ulong" : "uint") + ")" + l + " >> " + count + "))",
            BinaryOperatorKind.UnsignedRightShift => "(" + l + " >> " + count + ")",
            _ => null,
        };
    }

    /// <summary>Reports a user-defined operator, which is not translatable; false when <paramref name="method"/> is null.</summary>
    private bool UserDefined(IMethodSymbol? method, SyntaxNode at)
    {
        if (method == null) return false;
        Sink.Report(Diagnostics.UntranslatableCall, at, method.ToDisplayString(), "user-defined operators are not translatable");
        return true;
    }

    private string Unary(IUnaryOperation unary)
    {
        if (UserDefined(unary.OperatorMethod, unary.Syntax)) return Fail();
        string operand = Expr(unary.Operand);
        var type = Symbols.Arithmetic(unary.Type);
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
        if (UserDefined(compound.OperatorMethod, compound.Syntax)) return Fail();
        var targetType = compound.Target.Type!;
        string target = Expr(compound.Target);
        string value = Expr(compound.Value);
        var targetSpecial = Symbols.Arithmetic(targetType);
        var valueSpecial = Symbols.Arithmetic(compound.Value.Type);
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
        string r = shift ? value : "((" + opType + ")" + value + ")";
        string? result = Operator(compound.OperatorKind, l, r, operationType);
        if (result == null)
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
}
