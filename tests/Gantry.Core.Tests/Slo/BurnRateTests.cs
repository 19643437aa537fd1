using Gantry.Core.Manifest;
using Gantry.Core.Slo;
using Severity = Gantry.Core.Incidents.Severity;

namespace Gantry.Core.Tests.Slo;

/// <summary>Error budgets and multiwindow burn rates against cases worked by hand, on a clock the test sets.</summary>
public sealed class BurnRateTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 15, 12, 30, 0, TimeSpan.Zero);

    // 99.9% over 30 days: a budget of 0.1% of requests; the workbook's two paging alerts.
    private static readonly SloSpec Availability = new("availability", SliKind.Availability, 0.999, TimeSpan.FromDays(30), null, SloSpec.DefaultAlerts(Severity.P1), null);

    private static SloLedger Ledger(params SloCount[] counts) => counts.Aggregate(SloLedger.Empty, (l, c) => l.Add(c, Availability));

    [Fact(Timeout = 10_000)]
    public void FastBurn_BothWindowsOver14Point4_Fires()
    {
        // In the hour: 1,000,000 requests, 15,000 bad = 1.5% = 15x the 0.1% budget. In the last 5 minutes:
        // 100,000 requests, 2,000 bad = 2% = 20x. Both at least 14.4x: the fast alert fires.
        var status = BurnRates.Evaluate(Availability, Ledger(new SloCount(Now.AddMinutes(-50), 900_000, 13_000), new SloCount(Now.AddMinutes(-2), 100_000, 2_000)), Now);
        var fast = status.Alerts[0];
        fast.LongWindow.BurnRate.Should().BeApproximately(15, 1e-9);
        fast.ShortWindow.BurnRate.Should().BeApproximately(20, 1e-9);
        fast.Firing.Should().BeTrue();
        fast.Rule.Severity.Should().Be(Severity.P1);
    }

    [Fact(Timeout = 10_000)]
    public void Recovered_LongWindowStillHigh_ShortWindowClean_DoesNotFire()
    {
        // The hour is at 15x, but the last 5 minutes had no bad request: the burning stopped, the alert ends.
        var status = BurnRates.Evaluate(Availability, Ledger(new SloCount(Now.AddMinutes(-50), 900_000, 15_000), new SloCount(Now.AddMinutes(-2), 100_000, 0)), Now);
        status.Alerts[0].LongWindow.BurnRate.Should().BeApproximately(15, 1e-9);
        status.Alerts[0].ShortWindow.BurnRate.Should().Be(0);
        status.Alerts.Should().OnlyContain(a => !a.Firing);
    }

    [Fact(Timeout = 10_000)]
    public void ShortBurst_TooLittleForTheFastAlert_EnoughForTheSlowOne()
    {
        // 10,000 bad of 1,000,000 in the hour (and in six hours) = 1% = 10x: under 14.4, over 6. The last 5 and 30
        // minutes: 10,000 bad of 100,000 = 10% = 100x. Only the slow alert (6h and 30m at 6x) fires.
        var status = BurnRates.Evaluate(Availability, Ledger(new SloCount(Now.AddMinutes(-50), 900_000, 0), new SloCount(Now.AddMinutes(-2), 100_000, 10_000)), Now);
        status.Alerts[0].Firing.Should().BeFalse();
        status.Alerts[0].LongWindow.BurnRate.Should().BeApproximately(10, 1e-9);
        status.Alerts[1].Firing.Should().BeTrue();
        status.Alerts[1].LongWindow.Window.Should().Be(TimeSpan.FromHours(6));
        status.Alerts[1].ShortWindow.BurnRate.Should().BeApproximately(100, 1e-9);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(5_000, 0.9995, 0.5)] // 0.05% bad: half the 0.1% budget spent
    [InlineData(0, 1.0, 1.0)]
    [InlineData(20_000, 0.998, -1.0)] // 0.2% bad: the budget spent twice
    public void Budget_OverThePeriod(long bad, double attained, double left)
    {
        var counts = Enumerable.Range(0, 10).Select(d => new SloCount(Now.AddDays(-d * 2), 1_000_000, d == 3 ? bad : 0)).ToArray();
        var status = BurnRates.Evaluate(Availability, Ledger(counts), Now);
        status.Total.Should().Be(10_000_000);
        status.Attained.Should().BeApproximately(attained, 1e-12);
        status.BudgetLeft.Should().BeApproximately(left, 1e-9);
    }

    [Fact(Timeout = 10_000)]
    public void NoRequests_NoBurn_TheWholeBudgetLeft()
    {
        var status = BurnRates.Evaluate(Availability, SloLedger.Empty, Now);
        status.Attained.Should().BeNull();
        status.BudgetLeft.Should().Be(1);
        status.Alerts.Should().OnlyContain(a => a.LongWindow.BurnRate == null && !a.Firing);
    }

    [Fact(Timeout = 10_000)]
    public void Ledger_KeepsFineCountsForTheLongestWindow_AndHourlyCountsForThePeriod()
    {
        var ledger = SloLedger.Empty;
        for (var minute = 0; minute <= 8 * 60; minute += 10)
        {
            ledger = ledger.Add(new SloCount(Now.AddMinutes(minute), 100, 1), Availability);
        }

        var last = Now.AddHours(8);
        ledger.Fine.Should().OnlyContain(c => c.At > last.AddHours(-6), "the longest alert window is 6 hours");
        ledger.Fine.Should().HaveCount(36);
        ledger.Hourly.Should().HaveCount(9, "12:30 to 20:30 touches nine hours");
        ledger.Hourly[0].Should().Be(new SloCount(new DateTimeOffset(2026, 6, 15, 12, 0, 0, TimeSpan.Zero), 300, 3), "12:30, 12:40 and 12:50");
        ledger.Hourly.Sum(c => c.Total).Should().Be(4_900);
    }
}
