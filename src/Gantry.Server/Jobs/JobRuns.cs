using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Strategies;
using Gantry.Server.Programs;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Jobs;

/// <summary>
/// Runs the jobs rollouts ask for at their hook points, once per request key, in the manifest's folder: each job in the
/// manifest's order, tried again up to its retries, stopping at the first that fails. A run is forgotten (and killed)
/// when no rollout asks for it any more. After a crash the rollout asks again and the jobs run again: at least once.
/// </summary>
public sealed partial class JobRuns(string folder, TimeProvider time, ILogger<JobRuns> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Run> runs = new();
    private readonly CancellationTokenSource stopping = new();

    /// <summary>Where the jobs of <paramref name="request"/> stand, starting them the first time.</summary>
    public JobStatus? Observe(JobRequest? request, RolloutState state, ServiceSpec service, IReadOnlyList<string> addresses)
    {
        if (request is null)
        {
            return null;
        }

        var run = runs.GetOrAdd(request.Key, key =>
        {
            var jobs = request.Names.Select(n => service.Jobs.FirstOrDefault(j => j.Name == n)).OfType<JobSpec>().ToList();
            var r = new Run(key, Environment(state, request.Hook, addresses));
            r.Task = Task.Run(() => RunAsync(r, jobs, state.Attempt, stopping.Token));
            return r;
        });
        return run.Status;
    }

    /// <summary>Forgets (and kills) runs no rollout asks for any more.</summary>
    public void Keep(IReadOnlySet<string> keys)
    {
        foreach (var key in runs.Keys.Where(k => !keys.Contains(k)))
        {
            if (runs.TryRemove(key, out var run))
            {
                run.Cancel.Cancel();
            }
        }
    }

    /// <summary>What a job is told about the release, beside the server's own environment, the release's variables and its own.</summary>
    private static Dictionary<string, string> Environment(RolloutState state, JobHook hook, IReadOnlyList<string> addresses)
    {
        var env = state.Release.Variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
        env["GANTRY_SERVICE"] = state.Service;
        env["GANTRY_ENVIRONMENT"] = state.Environment;
        env["GANTRY_VERSION"] = state.Release.Version;
        env["GANTRY_PREVIOUS_VERSION"] = state.PreviousVersion ?? string.Empty;
        env["GANTRY_ROLLOUT"] = state.Id;
        env["GANTRY_HOOK"] = HookName(hook);
        env["GANTRY_ADDRESSES"] = string.Join(',', addresses);
        return env;
    }

    private static string HookName(JobHook hook) => char.ToLowerInvariant(hook.ToString()[0]) + hook.ToString()[1..];

    private async Task RunAsync(Run run, List<JobSpec> jobs, int attempt, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, run.Cancel.Token);
        var results = new List<JobOutcome>();
        try
        {
            foreach (var job in jobs)
            {
                var outcome = await RunJobAsync(run, job, attempt, linked.Token);
                results.Add(outcome);
                run.Status = new JobStatus(run.Key, false, [.. results], $"{HookName(job.At)} job {job.Name}: {outcome.Summary}");
                if (!outcome.Succeeded)
                {
                    break;
                }
            }

            run.Status = new JobStatus(run.Key, true, [.. results], "done");
        }
        catch (OperationCanceledException)
        {
            // Forgotten or stopping: nothing is recorded; a rollout that still wants it asks again.
        }
    }

    private async Task<JobOutcome> RunJobAsync(Run run, JobSpec job, int attempt, CancellationToken ct)
    {
        var env = new Dictionary<string, string>(run.Environment, StringComparer.Ordinal);
        foreach (var (key, value) in job.Env)
        {
            env[key] = value;
        }

        var tries = 0;
        while (true)
        {
            tries++;
            run.Status = new JobStatus(run.Key, false, run.Status.Results, string.Create(CultureInfo.InvariantCulture, $"running the {HookName(job.At)} job {job.Name} (try {tries} of {job.Retries + 1})"));
            var started = Stopwatch.GetTimestamp();
            var result = await ProgramRunner.RunAsync(job.Args, job.Shell, folder, env, job.Timeout, ct);
            var took = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var ok = result.Error is null && result.ExitCode == 0;
            var summary = result.Error ?? string.Create(CultureInfo.InvariantCulture, $"exited with {result.ExitCode} after {took:0.0} s");
            if (tries > 1)
            {
                summary += string.Create(CultureInfo.InvariantCulture, $" (try {tries} of {job.Retries + 1})");
            }

            LogJob(logger, job.Name, run.Key, summary);
            if (ok || tries > job.Retries)
            {
                var output = JobOutcome.Tail(string.Join('\n', new[] { result.Stdout, result.Stderr }.Select(o => o.TrimEnd('\n')).Where(o => o.Length > 0)));
                return new JobOutcome(job.Name, job.At, attempt, ok, tries, summary, output, time.GetUtcNow());
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job} ({Key}): {Summary}")]
    private static partial void LogJob(ILogger logger, string job, string key, string summary);

    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
    }

    private sealed class Run(string key, Dictionary<string, string> environment)
    {
        public string Key { get; } = key;

        public Dictionary<string, string> Environment { get; } = environment;

        public CancellationTokenSource Cancel { get; } = new();

        public Task? Task { get; set; }

        public JobStatus Status { get; set; } = new(key, false, [], "starting");
    }
}
