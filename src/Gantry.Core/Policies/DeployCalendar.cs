using System.Globalization;
using Gantry.Core.Manifest;
using NodaTime;
using NodaTime.Text;

namespace Gantry.Core.Policies;

/// <summary>Whether a deploy may start now: allowed, or refused by a named rule with the next time it would be allowed.</summary>
public sealed record CalendarVerdict(bool Allowed, string? Rule, DateTimeOffset? NextAllowed, string Message);

/// <summary>
/// An environment's deployment windows and freezes, evaluated in their own time zones with NodaTime, so that
/// "Tuesday 10:00 in New York" stays 10:00 across daylight-saving changes (an hour skipped in spring is
/// simply not in any window; an hour repeated in autumn is in it twice). A monthly freeze's days beyond the
/// end of a short month mean its last day (28 to 3 in February freezes the 28th, or the 28th and 29th in a
/// leap year, through the 3rd). Date freezes include both ends.
/// </summary>
public static class DeployCalendar
{
    private static readonly LocalDateTimePattern Shown = LocalDateTimePattern.CreateWithInvariantCulture("yyyy-MM-dd HH:mm");

    /// <summary>How far ahead the next allowed time is looked for.</summary>
    public const int HorizonDays = 400;

    public static CalendarVerdict Check(EnvironmentSpec environment, DateTimeOffset now, IReadOnlyList<FreezeSpec>? declared = null)
    {
        var refusal = Refusal(environment, now, declared);
        if (refusal is null)
        {
            return new CalendarVerdict(true, null, null, $"deploys to {environment.Name} are allowed now");
        }

        var next = NextAllowed(environment, now, declared);
        var when = next is { } n ? $"; next allowed at {Describe(n, ZoneOf(environment))}" : $"; no allowed time in the next {HorizonDays} days";
        return new CalendarVerdict(false, refusal.Value.Rule, next, refusal.Value.Message + when);
    }

    /// <summary>Whether a deploy may start now, without looking for the next allowed time (for checks made every pass).</summary>
    public static bool Allows(EnvironmentSpec environment, DateTimeOffset now, IReadOnlyList<FreezeSpec>? declared = null) =>
        Refusal(environment, now, declared) is null;

    /// <summary>The rule that refuses a deploy at <paramref name="at"/>, or null when it is allowed.</summary>
    private static (string Rule, string Message)? Refusal(EnvironmentSpec environment, DateTimeOffset at, IReadOnlyList<FreezeSpec>? declared)
    {
        var instant = Instant.FromDateTimeOffset(at);
        foreach (var freeze in environment.Freezes.Concat(declared ?? []))
        {
            var date = instant.InZone(freeze.Zone).Date;
            if (IsFrozen(freeze, date))
            {
                var (from, to) = FreezeSpan(freeze, date);
                var why = freeze.Reason is { Length: > 0 } r ? $" ({r})" : string.Empty;
                return ("freeze", string.Create(CultureInfo.InvariantCulture,
                    $"deploys to {environment.Name} are frozen from {from:yyyy-MM-dd} to {to:yyyy-MM-dd} {freeze.Zone.Id}{why}"));
            }
        }

        if (environment.Windows.IsEmpty || environment.Windows.Any(w => InWindow(w, instant)))
        {
            return null;
        }

        return ("window", $"{at.ToUniversalTime():yyyy-MM-dd HH:mm} UTC is outside the deployment windows of {environment.Name} ({string.Join("; ", environment.Windows.Select(DescribeWindow))})");
    }

    /// <summary>The active freeze of the environment that holds running rollouts (<c>running: hold</c>), described, or null.</summary>
    public static string? HoldingFreeze(EnvironmentSpec environment, DateTimeOffset now)
    {
        var instant = Instant.FromDateTimeOffset(now);
        foreach (var freeze in environment.Freezes.Where(f => f.Running == FreezeRunningRollouts.Hold))
        {
            var date = instant.InZone(freeze.Zone).Date;
            if (IsFrozen(freeze, date))
            {
                var (from, to) = FreezeSpan(freeze, date);
                return string.Create(CultureInfo.InvariantCulture, $"the freeze of {environment.Name} from {from:yyyy-MM-dd} to {to:yyyy-MM-dd}{(freeze.Reason is { Length: > 0 } r ? $" ({r})" : string.Empty)}");
            }
        }

        return null;
    }

    public static bool InWindow(DeploymentWindow window, Instant instant)
    {
        var local = instant.InZone(window.Zone).LocalDateTime;
        var time = local.TimeOfDay;
        if (window.From == window.To)
        {
            return window.Days.Contains(local.DayOfWeek);
        }

        if (window.From < window.To)
        {
            return window.Days.Contains(local.DayOfWeek) && time >= window.From && time < window.To;
        }

        // Crosses midnight: from its day's evening to the next morning.
        return (window.Days.Contains(local.DayOfWeek) && time >= window.From)
            || (window.Days.Contains(local.Date.PlusDays(-1).DayOfWeek) && time < window.To);
    }

    public static bool IsFrozen(FreezeSpec freeze, LocalDate date)
    {
        if (freeze.Monthly is { } monthly)
        {
            var last = date.Calendar.GetDaysInMonth(date.Year, date.Month);
            var from = Math.Min(monthly.FromDay, last);
            var to = Math.Min(monthly.ToDay, last);
            return monthly.WrapsMonthEnd ? date.Day >= from || date.Day <= to : date.Day >= from && date.Day <= to;
        }

        return freeze.From is { } start && freeze.To is { } end && date >= start && date <= end;
    }

    /// <summary>The first and last frozen dates of the freeze period that holds <paramref name="date"/>.</summary>
    private static (LocalDate From, LocalDate To) FreezeSpan(FreezeSpec freeze, LocalDate date)
    {
        var from = date;
        var to = date;
        while (IsFrozen(freeze, from.PlusDays(-1)) && from > date.PlusDays(-62))
        {
            from = from.PlusDays(-1);
        }

        while (IsFrozen(freeze, to.PlusDays(1)) && to < date.PlusDays(366))
        {
            to = to.PlusDays(1);
        }

        return (from, to);
    }

    /// <summary>
    /// The first time from <paramref name="now"/> at which a deploy is allowed: tried at every window opening and
    /// every midnight after a frozen day within the horizon, in order.
    /// </summary>
    public static DateTimeOffset? NextAllowed(EnvironmentSpec environment, DateTimeOffset now, IReadOnlyList<FreezeSpec>? declared = null)
    {
        var start = Instant.FromDateTimeOffset(now);
        var candidates = new SortedSet<Instant> { start };
        var zones = environment.Windows.Select(w => w.Zone).Concat(environment.Freezes.Concat(declared ?? []).Select(f => f.Zone)).Distinct().ToList();
        foreach (var zone in zones)
        {
            var today = start.InZone(zone).Date;
            for (var d = 0; d <= HorizonDays; d++)
            {
                var date = today.PlusDays(d);
                candidates.Add(date.AtStartOfDayInZone(zone).ToInstant());
                foreach (var window in environment.Windows.Where(w => w.Zone == zone && w.Days.Contains(date.DayOfWeek)))
                {
                    // An opening inside a skipped hour starts when the hour does exist.
                    candidates.Add(zone.ResolveLocal(date + window.From, NodaTime.TimeZones.Resolvers.LenientResolver).ToInstant());
                }
            }
        }

        foreach (var candidate in candidates)
        {
            if (candidate < start)
            {
                continue;
            }

            var at = candidate.ToDateTimeOffset();
            if (Refusal(environment, at, declared) is null)
            {
                return at;
            }
        }

        return null;
    }

    private static DateTimeZone ZoneOf(EnvironmentSpec environment) =>
        environment.Windows.Select(w => w.Zone).Concat(environment.Freezes.Select(f => f.Zone)).FirstOrDefault() ?? DateTimeZone.Utc;

    private static string Describe(DateTimeOffset at, DateTimeZone zone)
    {
        var local = Instant.FromDateTimeOffset(at).InZone(zone).LocalDateTime;
        return $"{Shown.Format(local)} {zone.Id} ({local.DayOfWeek.ToString()[..3]})";
    }

    private static string DescribeWindow(DeploymentWindow w) =>
        $"{string.Join(", ", w.Days.Select(d => d.ToString()[..3]))} {w.From:HH:mm}-{w.To:HH:mm} {w.Zone.Id}";
}
