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
/// LocalMemory.Allocate → private arrays. Intrinsics (Grid, Group, Atomic, Float8, MemoryFence, Math/MathF/XMath,
/// BitConverter) are looked up in the <see cref="Intrinsics"/> table, which spells each for CUDA and OpenCL.
/// The walk is split by concern: statements, expressions, views, calls and intrinsics each have a file.
/// </remarks>
internal sealed partial class FunctionTranslator
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

    /// <summary>Declares the hidden local used by OpenCL's BarrierPopCount emulation.</summary>
    public string BarrierSlotDeclaration => "__local int gd_barrier_slot;";
}
