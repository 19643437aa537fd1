using System.Globalization;
using Gantry.Core.Audit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Backups;

/// <summary>Backups the server writes on its own: into <see cref="Folder"/> every <see cref="Every"/>, those older than <see cref="Keep"/> removed (the runbooks: daily, kept 30 days).</summary>
public sealed record BackupSchedule(string Folder, TimeSpan Every, TimeSpan Keep)
{
    /// <summary>The name of a scheduled backup written at <paramref name="at"/>; its time is read back from it for retention.</summary>
    public static string NameAt(DateTimeOffset at) => $"gantry-{at.UtcDateTime:yyyyMMdd-HHmmss}.db";

    /// <summary>When a scheduled backup's file was written, from its name; null for any other file.</summary>
    public static DateTimeOffset? TimeOf(string fileName) =>
        fileName.StartsWith("gantry-", StringComparison.Ordinal) && fileName.EndsWith(".db", StringComparison.Ordinal)
        && DateTime.TryParseExact(fileName["gantry-".Length..^".db".Length], "yyyyMMdd-HHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : null;
}

/// <summary>The schedule of <see cref="BackupSchedule"/>: a backup at each interval (audited as Gantry's), then the expired ones removed.</summary>
public sealed partial class ScheduledBackups(BackupService backups, BackupSchedule schedule, TimeProvider time, ILogger<ScheduledBackups> logger) : BackgroundService
{
    /// <summary>When the next backup is due: one interval after the server started, then on that grid (a late one does not shift the rest).</summary>
    private DateTimeOffset next = time.GetUtcNow() + schedule.Every;

    /// <summary>The backup service, and the schedule's loop when there is one (among replicas, run by the leader only: one backup per interval, not one per replica).</summary>
    public static void Add(IServiceCollection services, BackupSchedule? schedule, Cluster.Leadership? leadership = null)
    {
        services.AddSingleton<BackupService>();
        if (schedule is null)
        {
            return;
        }

        services.AddSingleton(schedule);
        if (leadership is { Clustered: true })
        {
            services.AddSingleton<ScheduledBackups>();
            services.AddHostedService(sp => new Cluster.LeaderOnlyServices(leadership, [sp.GetRequiredService<ScheduledBackups>()], sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Cluster.LeaderOnlyServices>>()));
        }
        else
        {
            services.AddHostedService<ScheduledBackups>();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(schedule.Folder);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (next - time.GetUtcNow() is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }

                while (next <= time.GetUtcNow())
                {
                    next += schedule.Every;
                }

                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
            {
                LogFailed(logger, ex.Message);
            }
        }
    }

    /// <summary>One backup now, then the files past their keep removed; returns the new file.</summary>
    public async Task<string> RunOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var file = Path.Combine(schedule.Folder, BackupSchedule.NameAt(now));
        await backups.WriteAsync(file, $"scheduled backup {file}", AuditContext.System, ct);
        foreach (var old in Directory.EnumerateFiles(schedule.Folder).Where(f => BackupSchedule.TimeOf(Path.GetFileName(f)) is { } at && now - at > schedule.Keep))
        {
            File.Delete(old);
        }

        return file;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "scheduled backup failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
