using System.Collections.Immutable;

namespace Gantry.Core.Manifest.Schema;

/// <summary>The catalog of every shape, walked from the root.</summary>
public static partial class ManifestShapes
{
    /// <summary>Every shape reachable from the root, each once, in a stable order.</summary>
    /// <remarks>Collected on first use, once every shape of the other file is initialised (the order of static fields across partial files is not defined).</remarks>
    public static ImmutableArray<Shape> All => AllShapes.Value;

    private static readonly Lazy<ImmutableArray<Shape>> AllShapes = new(Collect);

    private static ImmutableArray<Shape> Collect()
    {
        var seen = new List<Shape>();
        void Visit(FieldType type)
        {
            switch (type)
            {
                case ObjectType o when !seen.Contains(o.Shape):
                    seen.Add(o.Shape);
                    foreach (var f in o.Shape.Fields)
                    {
                        Visit(f.Type);
                    }

                    break;
                case ListType l:
                    Visit(l.Item);
                    break;
                case MapType m:
                    Visit(m.Value);
                    break;
                case OneOfType one:
                    foreach (var a in one.Alternatives)
                    {
                        Visit(a);
                    }

                    break;
            }
        }

        Visit(new ObjectType(Root));
        return [.. seen];
    }
}
