using Gantry.Core.Manifest;
using Gantry.Core.Policies;

namespace Gantry.Core.Tests.Policies;

public sealed class DeployCalendarTests
{
    private static EnvironmentSpec Environment(string rules)
    {
        var text = $"""
            version: 1
            services:
              web: {"{"} process: {"{"} command: app {"}"}, listen: 127.0.0.1:8080 {"}"}
            environments:
              production:
            {string.Join("\n", rules.Split('\n').Select(l => "    " + l))}
            """;
        var loaded = ManifestLoader.LoadText(text);
        return loaded.Manifest?.Environments[0] ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
    }

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text + "Z", System.Globalization.CultureInfo.InvariantCulture);

    private static readonly EnvironmentSpec NewYork = Environment("""
        windows:
          - { days: [Tue, Thu], from: "10:00", to: "12:00", zone: America/New_York }
        """);

    [Theory(Timeout = 10_000)]
    [InlineData("2026-03-03T15:30", true)] // Tue 10:30 EST, before the spring change
    [InlineData("2026-03-03T14:30", false)] // Tue 09:30 EST
    [InlineData("2026-03-10T14:30", true)] // Tue 10:30 EDT: the same UTC hour was outside a week earlier
    [InlineData("2026-03-10T16:30", false)] // Tue 12:30 EDT
    [InlineData("2026-11-03T15:00", true)] // Tue 10:00 EST, after the autumn change
    [InlineData("2026-11-03T14:30", false)] // Tue 09:30 EST (10:30 a week earlier, in EDT)
    [InlineData("2026-10-27T14:30", true)] // Tue 10:30 EDT
    [InlineData("2026-03-05T16:59", true)] // Thu 11:59 EST
    [InlineData("2026-03-04T15:30", false)] // Wed
    public void Check_NewYorkWindowAcrossBothDstChanges_FollowsLocalTime(string utc, bool allowed)
    {
        DeployCalendar.Check(NewYork, Utc(utc)).Allowed.Should().Be(allowed);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("2026-03-27T08:00", true)] // Fri 09:00 CET
    [InlineData("2026-03-30T07:00", true)] // Mon 09:00 CEST, after the change of 29 March
    [InlineData("2026-03-30T06:59", false)] // Mon 08:59 CEST
    [InlineData("2026-10-23T14:59", true)] // Fri 16:59 CEST
    [InlineData("2026-10-26T08:00", true)] // Mon 09:00 CET, after the change of 25 October
    [InlineData("2026-10-26T07:30", false)] // Mon 08:30 CET
    [InlineData("2026-10-25T10:00", false)] // Sunday
    public void Check_BerlinWindowAcrossBothDstChanges_FollowsLocalTime(string utc, bool allowed)
    {
        var berlin = Environment("""
            windows:
              - { days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "17:00", zone: Europe/Berlin }
            """);
        DeployCalendar.Check(berlin, Utc(utc)).Allowed.Should().Be(allowed);
    }

    [Fact(Timeout = 10_000)]
    public void Check_OutsideTheWindow_SaysWhichRuleAndWhenTheNextWindowOpens()
    {
        var verdict = DeployCalendar.Check(NewYork, Utc("2026-11-03T14:30"));
        verdict.Rule.Should().Be("window");
        verdict.NextAllowed.Should().Be(Utc("2026-11-03T15:00"));
        verdict.Message.Should().Be("2026-11-03 14:30 UTC is outside the deployment windows of production (Tue, Thu 10:00-12:00 America/New_York); next allowed at 2026-11-03 10:00 America/New_York (Tue)");
        DeployCalendar.Check(NewYork, Utc("2026-11-03T17:00")).NextAllowed.Should().Be(Utc("2026-11-05T15:00"), "Thursday, 10:00 EST");
    }

    [Fact(Timeout = 10_000)]
    public void NextAllowed_WindowOpeningInTheSkippedSpringHour_IsTheNextWeeksOpening()
    {
        var night = Environment("""
            windows:
              - { days: [Sun], from: "02:00", to: "03:00", zone: America/New_York }
            """);
        DeployCalendar.Check(night, Utc("2026-03-01T07:30")).Allowed.Should().BeTrue("Sun 02:30 EST exists on 1 March");
        DeployCalendar.NextAllowed(night, Utc("2026-03-08T05:00")).Should().Be(Utc("2026-03-15T06:00"), "02:00-03:00 does not exist on 8 March");
    }

    [Fact(Timeout = 10_000)]
    public void Check_WindowInTheRepeatedAutumnHour_HoldsBothTimes()
    {
        var night = Environment("""
            windows:
              - { days: [Sun], from: "01:00", to: "02:00", zone: America/New_York }
            """);
        DeployCalendar.Check(night, Utc("2026-11-01T05:30")).Allowed.Should().BeTrue("01:30 EDT");
        DeployCalendar.Check(night, Utc("2026-11-01T06:30")).Allowed.Should().BeTrue("01:30 EST, the hour again");
        DeployCalendar.Check(night, Utc("2026-11-01T07:30")).Allowed.Should().BeFalse("02:30 EST");
    }

    [Fact(Timeout = 10_000)]
    public void Check_WindowCrossingMidnight_CoversTheNextMorning()
    {
        var late = Environment("""
            windows:
              - { days: [Fri], from: "22:00", to: "02:00" }
            """);
        DeployCalendar.Check(late, Utc("2026-11-20T23:00")).Allowed.Should().BeTrue();
        DeployCalendar.Check(late, Utc("2026-11-21T01:59")).Allowed.Should().BeTrue("Saturday morning belongs to Friday's window");
        DeployCalendar.Check(late, Utc("2026-11-21T02:00")).Allowed.Should().BeFalse();
        DeployCalendar.Check(late, Utc("2026-11-22T01:00")).Allowed.Should().BeFalse("Sunday morning follows Saturday, which has no window");
    }

    private static readonly EnvironmentSpec MonthEnd = Environment("""
        freezes:
          - { monthly: { fromDay: 28, toDay: 3 }, zone: Europe/Berlin, reason: month-end close }
        """);

    [Theory(Timeout = 10_000)]
    [InlineData("2026-02-27T12:00", true)]
    [InlineData("2026-02-27T23:30", false)] // 00:30 on the 28th in Berlin
    [InlineData("2026-03-01T12:00", false)]
    [InlineData("2026-03-03T22:59", false)] // 23:59 on the 3rd
    [InlineData("2026-03-03T23:00", true)] // midnight of the 4th in Berlin
    [InlineData("2028-02-29T12:00", false)] // leap day
    [InlineData("2026-12-31T12:00", false)]
    [InlineData("2027-01-02T12:00", false)]
    [InlineData("2027-01-04T12:00", true)]
    public void Check_MonthlyFreezeWrappingTheMonthEnd_FreezesTheLastAndFirstDays(string utc, bool allowed)
    {
        DeployCalendar.Check(MonthEnd, Utc(utc)).Allowed.Should().Be(allowed);
    }

    [Fact(Timeout = 10_000)]
    public void Check_InAFreeze_NamesItsSpanAndReasonAndTheFirstAllowedTime()
    {
        var december = DeployCalendar.Check(MonthEnd, Utc("2026-12-30T12:00"));
        december.Rule.Should().Be("freeze");
        december.Message.Should().Be("deploys to production are frozen from 2026-12-28 to 2027-01-03 Europe/Berlin (month-end close); next allowed at 2027-01-04 00:00 Europe/Berlin (Mon)");
        DeployCalendar.Check(MonthEnd, Utc("2028-02-28T12:00")).Message.Should().StartWith("deploys to production are frozen from 2028-02-28 to 2028-03-03 Europe/Berlin");
    }

    [Fact(Timeout = 10_000)]
    public void Check_FreezeDaysBeyondAShortMonth_MeanItsLastDay()
    {
        var late = Environment("""
            freezes:
              - { monthly: { fromDay: 30, toDay: 31 } }
            """);
        DeployCalendar.Check(late, Utc("2027-02-27T12:00")).Allowed.Should().BeTrue();
        DeployCalendar.Check(late, Utc("2027-02-28T12:00")).Allowed.Should().BeFalse("30 and 31 mean the 28th in a February of 28 days");
        DeployCalendar.Check(late, Utc("2027-04-30T12:00")).Allowed.Should().BeFalse();
        DeployCalendar.Check(late, Utc("2027-04-29T12:00")).Allowed.Should().BeTrue();
    }

    [Fact(Timeout = 10_000)]
    public void NextAllowed_HolidayFreezeAndWindows_IsTheFirstWindowAfterTheFreeze()
    {
        var production = Environment("""
            windows:
              - { days: [Tue, Thu], from: "10:00", to: "12:00", zone: America/New_York }
            freezes:
              - { from: 2026-12-20, to: 2027-01-05, zone: America/New_York, reason: holidays }
            """);
        var verdict = DeployCalendar.Check(production, Utc("2026-12-22T16:00"));
        verdict.Rule.Should().Be("freeze");
        verdict.NextAllowed.Should().Be(Utc("2027-01-07T15:00"), "Thursday 7 January, 10:00 EST: the 5th is still frozen");
    }

    [Fact(Timeout = 10_000)]
    public void HoldingFreeze_OnlyFreezesThatHoldRunningRollouts_AreReported()
    {
        var production = Environment("""
            freezes:
              - { monthly: { fromDay: 28, toDay: 3 }, reason: month-end close, running: finish }
              - { from: 2026-12-20, to: 2027-01-02, reason: holidays, running: hold }
            """);
        DeployCalendar.HoldingFreeze(production, Utc("2026-11-29T12:00")).Should().BeNull("month-end lets running rollouts finish");
        DeployCalendar.HoldingFreeze(production, Utc("2026-12-24T12:00")).Should().Be("the freeze of production from 2026-12-20 to 2027-01-02 (holidays)");
        DeployCalendar.HoldingFreeze(production, Utc("2027-01-03T12:00")).Should().BeNull();
    }
}
