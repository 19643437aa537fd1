using System.Collections.Immutable;

namespace Gantry.Core.Manifest;

/// <summary>Cross-references between sections, checked once everything is read.</summary>
internal sealed partial class ManifestReader
{
    // ---------------------------------------------------------------- cross-references

    private void CheckReferences(List<(string Name, SourcePosition At)> refs, IEnumerable<string> defined, string what, string section)
    {
        var names = defined.ToList();
        foreach (var (name, at) in refs.Where(r => !names.Contains(r.Name)))
        {
            var hint = Suggestions.Closest(name, names);
            ctx.Error(at, $"unknown {what} '{name}'" + (hint is null ? $"; define it under '{section}'" : $"; did you mean '{hint}'?"));
        }
    }

    private void CheckListenAddresses()
    {
        for (var i = 0; i < listens.Count; i++)
        {
            var first = listens.Take(i).FirstOrDefault(l =>
                l.Address.Port == listens[i].Address.Port && string.Equals(l.Address.Host, listens[i].Address.Host, StringComparison.OrdinalIgnoreCase));
            if (first.Owner is not null)
            {
                ctx.Error(listens[i].At, $"{listens[i].Address} is already the address of {first.Owner} (at {first.At})");
            }
        }
    }

    /// <summary>Environments on one host cannot share a service's front door: said at validation, refused at deploy.</summary>
    private void CheckSharedFrontDoors(ImmutableArray<ServiceSpec> services, ImmutableArray<EnvironmentSpec> environments)
    {
        foreach (var service in services)
        {
            var sharing = environments.Where(e => e.Overrides.FirstOrDefault(o => o.Service == service.Name)?.Listen is null).Select(e => e.Name).ToList();
            if (sharing.Count > 1 && listens.FirstOrDefault(l => l.Owner == $"service '{service.Name}'") is { Owner: not null } at)
            {
                ctx.Warning(at.At, $"service '{service.Name}' has the front door {service.Listen} in {string.Join(", ", sharing)}: environments on one host cannot share it, "
                    + $"so a deploy to a second one is refused; give each its own with environments.ENV.overrides.{service.Name}.listen");
            }
        }
    }

    private void CheckPromotions(ImmutableArray<EnvironmentSpec> environments)
    {
        var byName = environments.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var env in environments.Where(e => e.Promotion is not null))
        {
            var at = ctx.Positions.Find($"environments.{env.Name}.promotion.from") ?? SourcePosition.Start;
            var from = env.Promotion!.From;
            if (from == env.Name)
            {
                ctx.Error(at, $"environment '{env.Name}' cannot promote from itself");
                continue;
            }

            if (!byName.ContainsKey(from))
            {
                var hint = Suggestions.Closest(from, byName.Keys);
                ctx.Error(at, $"unknown environment '{from}'" + (hint is null ? "; define it under 'environments'" : $"; did you mean '{hint}'?"));
                continue;
            }

            var chain = new List<string> { env.Name };
            for (var current = from; current is not null; current = byName.GetValueOrDefault(current)?.Promotion?.From)
            {
                if (current == env.Name)
                {
                    if (chain.TrueForAll(reported.Add))
                    {
                        ctx.Error(at, $"promotion forms a cycle: {string.Join(" <- ", chain.Append(env.Name))}");
                    }

                    break;
                }

                if (chain.Contains(current) || !byName.ContainsKey(current))
                {
                    break;
                }

                chain.Add(current);
            }
        }
    }
}
