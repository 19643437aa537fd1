using System.Globalization;

namespace Gantry.Core.Manifest.Values;

public enum ComparisonOperator
{
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    Equal,
    NotEqual,
}

/// <summary>How the right-hand side relates to the stable baseline measured at the same time.</summary>
public enum BaselineRelation
{
    /// <summary>No baseline: the operand is an absolute quantity.</summary>
    None,

    /// <summary><c>baseline</c> alone.</summary>
    Same,

    /// <summary><c>baseline * F</c>.</summary>
    Times,

    /// <summary><c>baseline + Q</c>.</summary>
    Plus,

    /// <summary><c>baseline - Q</c>.</summary>
    Minus,
}

/// <summary>
/// A typed analysis condition: <c>&gt; 1%</c>, <c>&lt;= 200ms</c>, <c>&gt; baseline * 1.1</c>,
/// <c>&gt; baseline + 100ms</c>, optionally sustained: <c>&gt; 10% for 5m</c>. In a quality gate the
/// reference is the previous evaluation instead: <c>&lt; previous - 2%</c>.
/// </summary>
public sealed record Condition(ComparisonOperator Operator, BaselineRelation Relation, Quantity Operand, TimeSpan? For, string Reference = Condition.Baseline)
{
    /// <summary>The word naming the stable baseline in analysis conditions.</summary>
    public const string Baseline = "baseline";

    /// <summary>The word naming the previous evaluation in gate conditions.</summary>
    public const string Previous = "previous";

    public bool UsesBaseline => Relation != BaselineRelation.None;

    /// <summary>The kind of value the condition compares against, when it says (null for <c>baseline</c> and <c>baseline * F</c>).</summary>
    public QuantityKind? ValueKind => Relation switch
    {
        BaselineRelation.None or BaselineRelation.Plus or BaselineRelation.Minus => Operand.Kind,
        _ => null,
    };

    public static ParseError? TryParse(string text, out Condition? value, string reference = Baseline)
    {
        value = null;
        var s = text;
        var i = SkipSpace(s, 0);
        var opStart = i;
        ComparisonOperator? op = null;
        foreach (var (token, kind) in Operators)
        {
            if (string.CompareOrdinal(s, i, token, 0, token.Length) == 0)
            {
                op = kind;
                i += token.Length;
                break;
            }
        }

        if (op is null)
        {
            return new ParseError(opStart, $"a condition starts with a comparison (>, >=, <, <=, ==, !=), as in '> 1%', got '{text.Trim()}'");
        }

        i = SkipSpace(s, i);
        var forAt = FindWord(s, "for", i);
        var rhsEnd = forAt ?? s.Length;
        var rhs = s[i..rhsEnd].TrimEnd();
        if (rhs.Length == 0)
        {
            return new ParseError(i, $"expected a value after '{OperatorText(op.Value)}', such as 1%, 200ms or {reference} * 1.1");
        }

        TimeSpan? sustained = null;
        if (forAt is int f)
        {
            var durStart = SkipSpace(s, f + 3);
            var durText = s[durStart..].TrimEnd();
            if (durText.Length == 0)
            {
                return new ParseError(durStart, "after 'for' expected how long the condition must hold, such as 5m");
            }

            var de = DurationSyntax.TryParse(durText, out var d);
            if (de is not null)
            {
                return new ParseError(durStart + de.Offset, durText.Length > 0 && char.IsAsciiDigit(durText[0])
                    ? $"after 'for': {de.Message}"
                    : $"after 'for' expected how long the condition must hold, such as 5m, got '{durText}'");
            }

            if (d <= TimeSpan.Zero)
            {
                return new ParseError(durStart, "the time after 'for' must be longer than 0s");
            }

            sustained = d;
        }

        if (rhs.StartsWith(reference, StringComparison.Ordinal))
        {
            var rest = rhs[reference.Length..];
            var restStart = i + reference.Length;
            var j = SkipSpace(rest, 0);
            if (j == rest.Length)
            {
                value = new Condition(op.Value, BaselineRelation.Same, new Quantity(1, QuantityKind.Number), sustained, reference);
                return null;
            }

            BaselineRelation? relation = rest[j] switch
            {
                '*' => BaselineRelation.Times,
                '+' => BaselineRelation.Plus,
                '-' => BaselineRelation.Minus,
                _ => null,
            };
            if (relation is null)
            {
                return new ParseError(restStart + j, $"after '{reference}' expected '* FACTOR', '+ AMOUNT' or '- AMOUNT', got '{rest.Trim()}'");
            }

            var qStart = SkipSpace(rest, j + 1);
            var qe = Quantity.TryParse(rest[qStart..], out var q);
            if (qe is not null)
            {
                return new ParseError(restStart + qStart + qe.Offset, qe.Message);
            }

            if (relation == BaselineRelation.Times && q.Kind != QuantityKind.Number)
            {
                return new ParseError(restStart + qStart, $"'{reference} * F' takes a plain factor such as 1.1, not {Quantity.KindName(q.Kind)}");
            }

            if (q.Value < 0)
            {
                return new ParseError(restStart + qStart, $"the amount after {reference} cannot be negative");
            }

            value = new Condition(op.Value, relation.Value, q, sustained, reference);
            return null;
        }

        var e = Quantity.TryParse(rhs, out var absolute);
        if (e is not null)
        {
            return new ParseError(i + e.Offset, e.Message);
        }

        value = new Condition(op.Value, BaselineRelation.None, absolute, sustained);
        return null;
    }

    private static readonly (string Token, ComparisonOperator Op)[] Operators =
    [
        (">=", ComparisonOperator.GreaterThanOrEqual),
        ("<=", ComparisonOperator.LessThanOrEqual),
        ("==", ComparisonOperator.Equal),
        ("!=", ComparisonOperator.NotEqual),
        (">", ComparisonOperator.GreaterThan),
        ("<", ComparisonOperator.LessThan),
    ];

    public static string OperatorText(ComparisonOperator op) => Operators.First(o => o.Op == op).Token;

    private static int SkipSpace(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }

        return i;
    }

    private static int? FindWord(string s, string word, int from)
    {
        for (var i = from; i + word.Length <= s.Length; i++)
        {
            if (string.CompareOrdinal(s, i, word, 0, word.Length) == 0
                && i > 0 && char.IsWhiteSpace(s[i - 1])
                && (i + word.Length == s.Length || char.IsWhiteSpace(s[i + word.Length])))
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>Whether a measured value meets the condition, given the baseline when the condition uses one.</summary>
    public bool IsMetBy(double measured, double? baseline = null)
    {
        if (UsesBaseline && baseline is null)
        {
            throw new InvalidOperationException("this condition needs a baseline value");
        }

        var b = baseline ?? 0;
        var threshold = Relation switch
        {
            BaselineRelation.None => Operand.Value,
            BaselineRelation.Same => b,
            BaselineRelation.Times => b * Operand.Value,
            BaselineRelation.Plus => b + Operand.Value,
            BaselineRelation.Minus => b - Operand.Value,
            _ => throw new InvalidOperationException("unknown relation"),
        };
        return Operator switch
        {
            ComparisonOperator.GreaterThan => measured > threshold,
            ComparisonOperator.GreaterThanOrEqual => measured >= threshold,
            ComparisonOperator.LessThan => measured < threshold,
            ComparisonOperator.LessThanOrEqual => measured <= threshold,
            ComparisonOperator.Equal => measured.Equals(threshold),
            ComparisonOperator.NotEqual => !measured.Equals(threshold),
            _ => throw new InvalidOperationException("unknown operator"),
        };
    }

    public override string ToString()
    {
        var rhs = Relation switch
        {
            BaselineRelation.None => Operand.ToString(),
            BaselineRelation.Same => Reference,
            BaselineRelation.Times => Reference + " * " + Operand,
            BaselineRelation.Plus => Reference + " + " + Operand,
            BaselineRelation.Minus => Reference + " - " + Operand,
            _ => "?",
        };
        var text = $"{OperatorText(Operator)} {rhs}";
        return For is { } f ? string.Create(CultureInfo.InvariantCulture, $"{text} for {DurationSyntax.Format(f)}") : text;
    }
}
