using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace GpuDeconv.Compute.Generator;

// Views and addresses: a view is a pointer, a length and extents; shared and local memory are hoisted arrays.
internal sealed partial class FunctionTranslator
{
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
}
