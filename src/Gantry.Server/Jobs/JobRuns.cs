using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Strategies;
using Gantry.Runtime.Docker;
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
    private readonly Lazy<DockerEngine> docker = new(DockerEngine.FromEnvironment);

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
                Forget(run);
            }
        }
    }

    /// <summary>Cancels a run (its process killed) and lets go of its token's source once it has ended.</summary>
    private static void Forget(Run run)
    {
        run.Cancel.Cancel();
        _ = (run.Task ?? Task.CompletedTask).ContinueWith(_ => run.Cancel.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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
        env["GANTRY_HOOK"] = hook.ManifestName();
        env["GANTRY_ADDRESSES"] = string.Join(',', addresses);
        return env;
    }

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
                run.Status = new JobStatus(run.Key, false, [.. results], $"{job.At.ManifestName()} job {job.Name}: {outcome.Summary}");
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
            run.Status = new JobStatus(run.Key, false, run.Status.Results, string.Create(CultureInfo.InvariantCulture, $"running the {job.At.ManifestName()} job {job.Name} (try {tries} of {job.Retries + 1})"));
            var started = Stopwatch.GetTimestamp();
            var (exitCode, output, error) = await TryAsync(run, job, env, tries, ct);
            var took = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var ok = error is null && exitCode == 0;
            var summary = error ?? string.Create(CultureInfo.InvariantCulture, $"exited with {exitCode} after {took:0.0} s");
            if (tries > 1)
            {
                summary += string.Create(CultureInfo.InvariantCulture, $" (try {tries} of {job.Retries + 1})");
            }

            LogJob(logger, job.Name, run.Key, summary);
            if (ok || tries > job.Retries)
            {
                return new JobOutcome(job.Name, job.At, attempt, ok, tries, summary, JobOutcome.Tail(output), time.GetUtcNow());
            }
        }
    }

    /// <summary>One try of a job: a command on this machine, or a container of the engine DOCKER_HOST names.</summary>
    private async Task<(int ExitCode, string Output, string? Error)> TryAsync(Run run, JobSpec job, Dictionary<string, string> env, int tries, CancellationToken ct)
    {
        if (job.Image is not { } image)
        {
            var result = await ProgramRunner.RunAsync(job.Args, job.Shell, folder, env, job.Timeout, ct);
            return (result.ExitCode, string.Join('\n', new[] { result.Stdout, result.Stderr }.Select(o => o.TrimEnd('\n')).Where(o => o.Length > 0)), result.Error);
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"gantry-job-{string.Concat(run.Key.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'))}-{job.Name}-{tries}");
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["version"] = env["GANTRY_VERSION"], ["service"] = env["GANTRY_SERVICE"], ["environment"] = env["GANTRY_ENVIRONMENT"] };
        var container = await ContainerJob.RunAsync(docker.Value, name, Placeholders.Expand(image, values), job.Args, env, job.Timeout, time, ct);
        return (container.ExitCode, container.Output, container.Error);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "job {Job} ({Key}): {Summary}")]
    private static partial void LogJob(ILogger logger, string job, string key, string summary);

    public void Dispose()
    {
        stopping.Cancel();
        foreach (var key in runs.Keys)
        {
            if (runs.TryRemove(key, out var run))
            {
                Forget(run);
            }
        }

        stopping.Dispose();
        if (docker.IsValueCreated)
        {
            docker.Value.Dispose();
        }
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
