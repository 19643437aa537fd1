using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Tests.Manifest.Values;

public sealed class ConditionTests
{
    [Theory(Timeout = 5_000)]
    [InlineData("> 1%", ComparisonOperator.GreaterThan, BaselineRelation.None, 0.01, QuantityKind.Ratio)]
    [InlineData("< 99.9%", ComparisonOperator.LessThan, BaselineRelation.None, 0.999, QuantityKind.Ratio)]
    [InlineData(">= 200ms", ComparisonOperator.GreaterThanOrEqual, BaselineRelation.None, 0.2, QuantityKind.Duration)]
    [InlineData("<=2s", ComparisonOperator.LessThanOrEqual, BaselineRelation.None, 2, QuantityKind.Duration)]
    [InlineData("!= 0", ComparisonOperator.NotEqual, BaselineRelation.None, 0, QuantityKind.Number)]
    [InlineData("== 1.5", ComparisonOperator.Equal, BaselineRelation.None, 1.5, QuantityKind.Number)]
    [InlineData("> baseline", ComparisonOperator.GreaterThan, BaselineRelation.Same, 1, QuantityKind.Number)]
    [InlineData("> baseline * 1.1", ComparisonOperator.GreaterThan, BaselineRelation.Times, 1.1, QuantityKind.Number)]
    [InlineData("> baseline + 100ms", ComparisonOperator.GreaterThan, BaselineRelation.Plus, 0.1, QuantityKind.Duration)]
    [InlineData("< baseline - 5%", ComparisonOperator.LessThan, BaselineRelation.Minus, 0.05, QuantityKind.Ratio)]
    public void TryParse_ConditionForms_GiveTypedCondition(string text, ComparisonOperator op, BaselineRelation relation, double value, QuantityKind kind)
    {
        Condition.TryParse(text, out var condition).Should().BeNull();
        condition!.Operator.Should().Be(op);
        condition.Relation.Should().Be(relation);
        condition.Operand.Value.Should().BeApproximately(value, 1e-12);
        condition.Operand.Kind.Should().Be(kind);
        condition.For.Should().BeNull();
    }

    [Fact(Timeout = 5_000)]
    public void TryParse_Sustained_KeepsTheDuration()
    {
        Condition.TryParse("> 10% for 5m", out var condition).Should().BeNull();
        condition.Should().Be(new Condition(ComparisonOperator.GreaterThan, BaselineRelation.None, new Quantity(0.1, QuantityKind.Ratio), TimeSpan.FromMinutes(5)));
        condition!.ToString().Should().Be("> 10% for 5m");
    }

    [Theory(Timeout = 5_000)]
    [InlineData("1%", 0, "a condition starts with a comparison (>, >=, <, <=, ==, !=), as in '> 1%', got '1%'")]
    [InlineData(">", 1, "expected a value after '>', such as 1%, 200ms or baseline * 1.1")]
    [InlineData("> abc", 2, "expected a number, a percentage (1%) or a duration (200ms), got 'abc'")]
    [InlineData("> baseline / 2", 11, "after 'baseline' expected '* FACTOR', '+ AMOUNT' or '- AMOUNT', got '/ 2'")]
    [InlineData("> baseline * 2ms", 13, "'baseline * F' takes a plain factor such as 1.1, not a duration")]
    [InlineData("> 1% for", 8, "after 'for' expected how long the condition must hold, such as 5m")]
    [InlineData("> 1% for 0s", 9, "the time after 'for' must be longer than 0s")]
    [InlineData("> 1% for 5", 10, "after 'for': the duration '5' needs a unit: ms, s, m, h or d (e.g. 5s)")]
    public void TryParse_Invalid_ReportsOffsetAndMessage(string text, int offset, string message)
    {
        Condition.TryParse(text, out _).Should().Be(new ParseError(offset, message));
    }

    [Theory(Timeout = 5_000)]
    [InlineData("> 1%", 0.011, null, true)]
    [InlineData("> 1%", 0.01, null, false)]
    [InlineData(">= 1%", 0.01, null, true)]
    [InlineData("> baseline * 1.1", 0.112, 0.1, true)]
    [InlineData("> baseline * 1.1", 0.105, 0.1, false)]
    [InlineData("> baseline + 100ms", 0.231, 0.118, true)]
    [InlineData("> baseline + 100ms", 0.2, 0.118, false)]
    [InlineData("< baseline - 5%", 0.9, 0.99, true)]
    public void IsMetBy_Measurement_ComparesAgainstThresholdOrBaseline(string text, double measured, double? baseline, bool expected)
    {
        Condition.TryParse(text, out var condition).Should().BeNull();
        condition!.IsMetBy(measured, baseline).Should().Be(expected);
    }

    [Fact(Timeout = 5_000)]
    public void IsMetBy_BaselineConditionWithoutBaseline_Throws()
    {
        Condition.TryParse("> baseline", out var condition);
        condition!.Invoking(c => c.IsMetBy(1)).Should().Throw<InvalidOperationException>();
    }
}
