using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

// Intrinsics: calls and property reads looked up in the Intrinsics table, and the emitters its entries name.
internal sealed partial class FunctionTranslator
{
    /// <summary>Known device functions; null when <paramref name="method"/> is not one (the caller then tries helpers).</summary>
    private string? Intrinsic(IInvocationOperation invocation, IMethodSymbol method, INamedTypeSymbol owner, List<IArgumentOperation> args)
    {
        string display = owner.Name + "." + method.Name;
        if (Intrinsics.OwnerOf(owner, method.IsStatic) is { } families)
        {
            var values = args.Select(a => a.Value).ToList();
            var entry = Intrinsics.Find(families, method.Name, Intrinsics.Operand(method), values.Count);
            if (entry != null) return Spell(entry, new IntrinsicCall(invocation, display, values));
            if (families.MethodHint != null) return Unsupported(invocation.Syntax, display, families.MethodHint);
        }
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
        if (owner.ContainingNamespace?.ToDisplayString() is "System" or "System.Numerics" or "System.Runtime.Intrinsics" && owner.Locations.All(l => !l.IsInSource))
        {
            if (owner.SpecialType is SpecialType.System_String or SpecialType.System_Char || owner.Name == "Console")
                Sink.Report(Diagnostics.Strings, invocation.Syntax, "'" + display + "'");
            else
                Sink.Report(Diagnostics.UntranslatableCall, invocation.Syntax, display, "it is not a mapped intrinsic");
            return Fail();
        }
        return null;
    }

    /// <summary>A static property of an intrinsic type (Grid.IdxX, Group.Dimension); null when the property is no intrinsic.</summary>
    private string? IntrinsicProperty(IPropertyReferenceOperation property)
    {
        var symbol = property.Property;
        if (Intrinsics.OwnerOf(symbol.ContainingType, symbol.IsStatic) is not { } families) return null;
        string display = symbol.ContainingType.Name + "." + symbol.Name;
        var entry = Intrinsics.Find(families, symbol.Name, SpecialType.None, 0);
        if (entry != null) return Spell(entry, new IntrinsicCall(property, display, Array.Empty<IOperation>()));
        return families.PropertyHint == null ? null : Unsupported(property.Syntax, display, families.PropertyHint);
    }

    private string Unsupported(SyntaxNode at, string what, string instead)
    {
        Sink.Report(Diagnostics.UnsupportedIntrinsic, at, what, instead);
        return Fail();
    }

    /// <summary>The C text of a matched intrinsic on this program's target.</summary>
    private string Spell(Intrinsic entry, IntrinsicCall call)
    {
        _p.Features |= entry.Features;
        var spelling = entry.For(_p.Target);
        return spelling.Emitter != null ? spelling.Emitter(this, call) : Fill(spelling.Text!, call);
    }

    /// <summary>Fills a spelling's placeholders (<see cref="Spelling"/>): the view address first, then each other argument in order.</summary>
    private string Fill(string text, IntrinsicCall call)
    {
        var values = call.Arguments;
        int ampersand = text.IndexOf("{&", StringComparison.Ordinal);
        int view = ampersand < 0 ? -1 : text[ampersand + 2] - '0';
        string address = "", suffix = "";
        if (view >= 0)
        {
            if (ViewElementAddress(call, view) is not var (a, s)) return Fail();
            (address, suffix) = (a, s);
        }
        var args = new string[values.Count];
        for (int i = 0; i < args.Length; i++)
        {
            if (view < 0 || i != view && i != view + 1) args[i] = Expr(values[i]);
        }
        var b = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '{')
            {
                b.Append(text[i]);
                continue;
            }
            int close = text.IndexOf('}', i);
            string key = text.Substring(i + 1, close - i - 1);
            b.Append(key switch
            {
                "*" => string.Join(", ", args),
                "s" => suffix,
                _ when key[0] == '&' => address,
                _ => args[key[0] - '0'],
            });
            i = close;
        }
        return b.ToString();
    }

    /// <summary>
    /// The C address of element values[view + 1] of the one-dimensional view values[view], and the suffix of the prelude
    /// function for its address space (g, l or p); null after reporting a view that is not one-dimensional.
    /// </summary>
    private (string Address, string Suffix)? ViewElementAddress(IntrinsicCall call, int view)
    {
        var value = View(call.Arguments[view]);
        if (value == null) return null;
        if (value.Rank != 1)
        {
            Sink.Report(Diagnostics.ViewUse, call.Operation.Syntax, call.Display + " takes a one-dimensional view");
            return null;
        }
        string suffix = value.Space switch { Space.Local => "l", Space.Private => "p", _ => "g" };
        return ("&" + value.Pointer + "[" + Expr(call.Arguments[view + 1]) + "]", suffix);
    }

    /// <summary>
    /// OpenCL's Group.BarrierPopCount/And/Or: OpenCL 1.2 has no counting barrier, so the prelude counts in a
    /// <c>__local</c> slot that the kernel body declares; <paramref name="result"/> turns the count into the value.
    /// </summary>
    internal string BarrierCount(IntrinsicCall call, Func<string, string> result)
    {
        string predicate = Expr(call.Arguments[0]);
        if (_role != FunctionRole.ExplicitKernel)
        {
            Sink.Report(Diagnostics.UnsupportedIntrinsic, call.Operation.Syntax, call.Display + " outside an explicitly grouped kernel's body",
                "OpenCL 1.2 emulates it with a counter in local memory that only the kernel body can declare; call it in the kernel and pass the result");
            return Fail();
        }
        _p.Features |= Feature.SharedMemory;
        UsesBarrierSlot = true;
        return result("gd_barrier_popcount(&gd_barrier_slot, " + predicate + ")");
    }

    /// <summary>Atomic.Op(ref target, values...) → the prelude's <c>gd_atomic_op_type_space(&amp;target, values...)</c>.</summary>
    internal string AtomicCall(IntrinsicCall call, string op)
    {
        var target = call.Arguments[0];
        var targetType = target.Type;
        var special = targetType == null ? SpecialType.None : Symbols.Underlying(targetType).SpecialType;
        var at = call.Operation.Syntax;
        // Atomics exist for the 32- and 64-bit types only.
        string? tag = special is SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64
            or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double
            ? CText.Tag(special)
            : null;
        if (tag == null)
            return Unsupported(at, call.Display + " on '" + targetType?.ToDisplayString() + "'", "atomics work on int, uint, long, ulong, float and double");
        if (CText.IsFloat(special) && op is "and" or "or" or "xor")
            return Unsupported(at, call.Display + " on '" + targetType!.ToDisplayString() + "'", "float atomics support Add, Min, Max, Exchange and CompareExchange");
        var address = Address(target, allowPrivate: false);
        if (address == null) return Fail();
        if (address.Value.Space == Space.Private)
            return Unsupported(at, call.Display + " on private memory", "atomics need a view element or shared memory");
        _p.Features |= Feature.Atomics;
        if (CText.IsFloat(special)) _p.Features |= Feature.FloatAtomics;
        if (CText.Is64(special)) _p.Features |= Feature.Int64Atomics;
        var rest = call.Arguments.Skip(1).Select(Expr);
        return "gd_atomic_" + op + "_" + tag + "_" + _p.AtomicSpace(address.Value.Space) + "(" + address.Value.Pointer + ", " + string.Join(", ", rest) + ")";
    }
}
