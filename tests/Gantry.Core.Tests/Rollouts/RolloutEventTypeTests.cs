using Gantry.Core.Rollouts;

namespace Gantry.Core.Tests.Rollouts;

public sealed class RolloutEventTypeTests
{
    [Fact(Timeout = 10_000)]
    public void Parse_KnowsEveryTypeByItsStoredName_AndNothingElse()
    {
        foreach (var type in Enum.GetValues<RolloutEventType>())
        {
            RolloutEventTypes.Parse(type.ToString()).Should().Be(type);
        }

        RolloutEventTypes.Parse("aborted").Should().BeNull("names are case-sensitive, as stored");
        RolloutEventTypes.Parse("3").Should().BeNull("a number is not a name");
        RolloutEventTypes.Parse("-1").Should().BeNull();
        RolloutEventTypes.Parse(string.Empty).Should().BeNull();
        RolloutEventTypes.Parse("Exploded").Should().BeNull();
    }

    [Fact(Timeout = 10_000)]
    public void EndsRollout_IsTrueForTheFourEndings()
    {
        Enum.GetValues<RolloutEventType>().Where(t => t.EndsRollout()).Should().BeEquivalentTo(
            [RolloutEventType.Succeeded, RolloutEventType.Aborted, RolloutEventType.Failed, RolloutEventType.RolledBack]);
        var stored = new StoredEvent(1, "r", 1, 1, DateTimeOffset.UnixEpoch, "shop", "production", "Aborted", "m");
        stored.Is(RolloutEventType.Aborted).Should().BeTrue();
        stored.Is(RolloutEventType.Failed).Should().BeFalse();
    }
}
