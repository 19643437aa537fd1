using System.Globalization;
using System.Text.RegularExpressions;
using Gantry.Core.Manifest.Schema;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Manifest.Yaml;
using NodaTime;
using NodaTime.Text;

namespace Gantry.Core.Manifest;

/// <summary>Shared state of one read: diagnostics, positions, and (for tests) which shape keys were read.</summary>
internal sealed partial class ReadContext(DiagnosticBag diagnostics, SourceMap positions, ISet<string>? consumed)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    public SourceMap Positions { get; } = positions;

    /// <summary>What the configured traffic router can do.</summary>
    public Traffic.RouterCapabilities Router { get; init; } = Traffic.RouterCapability.Builtin;

    public void Consumed(Shape shape, string key) => consumed?.Add(shape.Name + "." + key);

    public void Error(SourcePosition at, string message) => Diagnostics.Error(at, message);

    public void Warning(SourcePosition at, string message) => Diagnostics.Warning(at, message);

    private static readonly LocalTimePattern TimeOfDay = LocalTimePattern.CreateWithInvariantCulture("HH:mm");

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvNamePattern();

    private static string Quote(YamlScalar s) => s.IsNull ? "null" : $"{s.KindName} '{Truncate(s.Value)}'";

    private static string Truncate(string s) => s.Length <= 60 ? s.ReplaceLineEndings(" ") : s[..57].ReplaceLineEndings(" ") + "...";

    /// <summary>Checks a name chosen by the user (service, template, environment, metric, group).</summary>
    public bool CheckName(YamlScalar key, string what)
    {
        if (key.IsNull || !NamePattern().IsMatch(key.Value))
        {
            Error(key.Start, $"{what} '{Truncate(key.Value)}' must be {NameRule}");
            return false;
        }

        return true;
    }

    private const string NameRule = "lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit)";

    /// <summary>Reads a scalar-valued field of any scalar type; reports and returns null when it does not fit.</summary>
    public object? ReadScalar(FieldType type, YamlNode node, string label)
    {
        if (node is not YamlScalar s || s.IsNull)
        {
            Error(node.Start, $"{label} must be {type.Expected}, got {(node is YamlScalar n ? Quote(n) : node.KindName)}");
            return null;
        }

        ParseError? pe;
        switch (type)
        {
            case UrlType when s.Value.Length == 0:
                Error(s.Start, $"{label} must not be empty");
                return null;
            case StringType:
                return s.Value;
            case NameType:
                if (NamePattern().IsMatch(s.Value))
                {
                    return s.Value;
                }

                Error(s.Start, $"{label} must be {NameRule}, got '{Truncate(s.Value)}'");
                return null;
            case UrlType:
                if (Uri.TryCreate(s.Value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    return uri;
                }

                Error(s.Start, $"{label} must be an http:// or https:// URL, got '{Truncate(s.Value)}'");
                return null;
            case IntegerType it:
                if (!s.IsPlain || !long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    Error(s.Start, $"{label} must be an integer, got {Quote(s)}");
                    return null;
                }

                if (l < it.Min || l > it.Max)
                {
                    Error(s.Start, it.Min == it.Max
                        ? $"{label} must be {it.Min}, got {l}"
                        : $"{label} must be from {it.Min} to {it.Max}, got {l}");
                    return null;
                }

                return (int)l;
            case NumberType nt:
                if (!s.IsPlain || !double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                {
                    Error(s.Start, $"{label} must be a number, got {Quote(s)}");
                    return null;
                }

                if (d < nt.Min || d > nt.Max)
                {
                    Error(s.Start, $"{label} must be from {nt.Min.ToString(CultureInfo.InvariantCulture)} to {nt.Max.ToString(CultureInfo.InvariantCulture)}, got {s.Value}");
                    return null;
                }

                return d;
            case BooleanType:
                if (s.IsPlain && s.Value is "true" or "false" or "True" or "False" or "TRUE" or "FALSE")
                {
                    return bool.Parse(s.Value);
                }

                Error(s.Start, $"{label} must be true or false, got {Quote(s)}");
                return null;
            case DurationType:
                pe = DurationSyntax.TryParse(s.Value, out var span);
                if (pe is null)
                {
                    return span;
                }

                Error(s.PositionOf(pe.Offset), $"{label}: {pe.Message}");
                return null;
            case PercentType pt:
                pe = Percentage.TryParse(s.Value, out var pct);
                if (pe is not null)
                {
                    Error(s.Start, $"{label} must be a percentage such as 10%, got {Quote(s)}");
                    return null;
                }

                if (pct.Percent < pt.Min || pct.Percent > pt.Max)
                {
                    Error(s.Start, $"{label} must be from {pt.Min.ToString(CultureInfo.InvariantCulture)}% to {pt.Max.ToString(CultureInfo.InvariantCulture)}%, got {pct}");
                    return null;
                }

                return pct;
            case WeightType:
                return ReadWeight(s, label);
            case CountOrPercentType:
                if (s.IsPlain && int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count))
                {
                    if (count < 0)
                    {
                        Error(s.Start, $"{label} cannot be negative, got {count}");
                        return null;
                    }

                    return CountOrPercent.FromCount(count);
                }

                if (Percentage.TryParse(s.Value, out var share) is null && share.Percent is >= 0 and <= 100)
                {
                    return CountOrPercent.FromShare(share);
                }

                Error(s.Start, $"{label} must be {type.Expected} (0% to 100%), got {Quote(s)}");
                return null;
            case ConditionType or GateConditionType:
                pe = Condition.TryParse(s.Value, out var condition, type is GateConditionType ? Values.Condition.Previous : Values.Condition.Baseline);
                if (pe is null)
                {
                    return condition;
                }

                Error(s.PositionOf(pe.Offset), $"{label}: {pe.Message}");
                return null;
            case EndpointType endpointType:
                var (scheme, skip) = endpointType.Schemes ? EndpointType.SchemeOf(s.Value) : (null, 0);
                pe = Endpoint.TryParse(s.Value[skip..], out var endpoint);
                if (pe is null)
                {
                    return endpoint;
                }

                Error(s.PositionOf(pe.Offset + skip), $"{label}: {pe.Message}");
                return null;
            case TimeOfDayType:
                var time = TimeOfDay.Parse(s.Value);
                if (time.Success)
                {
                    return time.Value;
                }

                Error(s.Start, $"{label} must be a time of day from 00:00 to 23:59 (HH:mm), got {Quote(s)}");
                return null;
            case DateType:
                var date = LocalDatePattern.Iso.Parse(s.Value);
                if (date.Success)
                {
                    return date.Value;
                }

                Error(s.Start, $"{label} must be a date written YYYY-MM-DD, got {Quote(s)}");
                return null;
            case ZoneType:
                var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(s.Value);
                if (zone is not null)
                {
                    return zone;
                }

                var hint = Suggestions.Closest(s.Value, DateTimeZoneProviders.Tzdb.Ids);
                Error(s.Start, $"{label}: unknown time zone '{Truncate(s.Value)}'" + (hint is null ? "; use an IANA name such as Europe/Berlin" : $"; did you mean '{hint}'?"));
                return null;
            case EnumType et:
                if (et.Values.Contains(s.Value))
                {
                    return s.Value;
                }

                var close = Suggestions.Closest(s.Value, et.Values);
                Error(s.Start, $"{label} must be one of {string.Join(", ", et.Values)}, got {Quote(s)}" + (close is null ? string.Empty : $"; did you mean '{close}'?"));
                return null;
            default:
                throw new InvalidOperationException($"{type} is not a scalar type");
        }
    }

    private int? ReadWeight(YamlScalar s, string label)
    {
        double value;
        if (s.IsPlain && int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var w))
        {
            value = w;
        }
        else if (Percentage.TryParse(s.Value, out var p) is null)
        {
            value = p.Percent;
        }
        else
        {
            Error(s.Start, $"{label} must be a weight from 0 to 100 (or 0% to 100%), got {Quote(s)}");
            return null;
        }

        if (value is < 0 or > 100)
        {
            Error(s.Start, $"{label} must be from 0 to 100, got {s.Value}");
            return null;
        }

        if (value != Math.Floor(value))
        {
            Error(s.Start, $"{label} must be a whole percentage, got {s.Value}");
            return null;
        }

        return (int)value;
    }

    /// <summary>Checks the key of a user-named mapping entry against the map's key type.</summary>
    public bool CheckMapKey(FieldType keyType, YamlScalar key, string what)
    {
        switch (keyType)
        {
            case NameType:
                return CheckName(key, what);
            case StringType when keyType.Expected.StartsWith("a variable name", StringComparison.Ordinal):
                if (EnvNamePattern().IsMatch(key.Value))
                {
                    return true;
                }

                Error(key.Start, $"'{Truncate(key.Value)}' is not a valid variable name (letters, digits and '_', not starting with a digit)");
                return false;
            case EnumType known:
                if (known.Values.Contains(key.Value))
                {
                    return true;
                }

                // Two characters are too few to guess from ('P5' is no more 'P0' than 'P3').
                var hint = key.Value.Length > 2 ? Suggestions.Closest(key.Value, known.Values) : null;
                Error(key.Start, $"'{Truncate(key.Value)}' is not a {what}: {string.Join(", ", known.Values)}" + (hint is null ? string.Empty : $"; did you mean '{hint}'?"));
                return false;
            default:
                return true;
        }
    }
}
