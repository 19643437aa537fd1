using Gantry.Core.Manifest;

namespace Gantry.Core.Slo;

/// <summary>Requests counted over the interval that ends at <see cref="At"/>: how many, and how many were bad.</summary>
public sealed record SloCount(DateTimeOffset At, long Total, long Bad);

/// <summary>
/// What an objective has seen: fine counts (one per look) as far back as its longest alert window, and hourly counts as
/// far back as its period. Immutable; every look makes a new ledger.
/// </summary>
public sealed record SloLedger(ValueList<SloCount> Fine, ValueList<SloCount> Hourly)
{
    public static SloLedger Empty { get; } = new([], []);

    /// <summary>The ledger with <paramref name="count"/> added, counts older than <paramref name="slo"/> needs dropped.</summary>
    public SloLedger Add(SloCount count, SloSpec slo)
    {
        var longest = slo.Alerts.Select(a => a.LongWindow).DefaultIfEmpty(TimeSpan.Zero).Max();
        var fine = Fine.Where(c => c.At > count.At - longest).Append(count);
        var hour = new DateTimeOffset(count.At.Year, count.At.Month, count.At.Day, count.At.Hour, 0, 0, TimeSpan.Zero);
        var hourly = Hourly.Where(c => c.At > count.At - slo.Period - TimeSpan.FromHours(1)).ToList();
        if (hourly.Count > 0 && hourly[^1].At == hour)
        {
            hourly[^1] = hourly[^1] with { Total = hourly[^1].Total + count.Total, Bad = hourly[^1].Bad + count.Bad };
        }
        else
        {
            hourly.Add(count with { At = hour });
        }

        return new SloLedger([.. fine], [.. hourly]);
    }
}

/// <summary>One window's requests, their bad share, and how fast that burns the error budget (1 = exactly as allowed).</summary>
public sealed record BurnWindow(TimeSpan Window, long Total, long Bad, double? BadRatio, double? BurnRate);

/// <summary>Where one burn-rate alert stands: both windows, and whether it fires (both at or above its rate).</summary>
public sealed record BurnRateVerdict(BurnRateAlert Rule, BurnWindow LongWindow, BurnWindow ShortWindow, bool Firing);

/// <summary>An objective now: the requests of its period, the good share attained, the budget left (negative: overspent), its alerts.</summary>
public sealed record SloStatus(string Name, SliKind Sli, double Objective, TimeSpan Period, long Total, long Bad, double? Attained, double BudgetLeft, ValueList<BurnRateVerdict> Alerts);

/// <summary>The arithmetic of error budgets and multiwindow burn rates, on counts and a clock given to it.</summary>
public static class BurnRates
{
    /// <summary>The counts of <paramref name="window"/> up to <paramref name="now"/> (a count belongs to the window when its interval ends inside it).</summary>
    public static BurnWindow Window(IEnumerable<SloCount> counts, DateTimeOffset now, TimeSpan window, double budget)
    {
        long total = 0, bad = 0;
        foreach (var c in counts)
        {
            if (c.At > now - window && c.At <= now)
            {
                total += c.Total;
                bad += c.Bad;
            }
        }

        double? ratio = total == 0 ? null : (double)bad / total;
        return new BurnWindow(window, total, bad, ratio, ratio is { } r && budget > 0 ? r / budget : null);
    }

    /// <summary>Where <paramref name="slo"/> stands at <paramref name="now"/> given what <paramref name="ledger"/> holds.</summary>
    public static SloStatus Evaluate(SloSpec slo, SloLedger ledger, DateTimeOffset now)
    {
        var period = Window(ledger.Hourly, now, slo.Period + TimeSpan.FromHours(1), slo.Budget);
        var attained = period.Total == 0 ? (double?)null : 1 - ((double)period.Bad / period.Total);
        var left = period.BadRatio is { } spent ? 1 - (spent / slo.Budget) : 1;
        var alerts = slo.Alerts.Select(a =>
        {
            var longWindow = Window(ledger.Fine, now, a.LongWindow, slo.Budget);
            var shortWindow = Window(ledger.Fine, now, a.ShortWindow, slo.Budget);
            return new BurnRateVerdict(a, longWindow, shortWindow, longWindow.BurnRate >= a.BurnRate && shortWindow.BurnRate >= a.BurnRate);
        });
        return new SloStatus(slo.Name, slo.Sli, slo.Objective, slo.Period, period.Total, period.Bad, attained, left, [.. alerts]);
    }
}
