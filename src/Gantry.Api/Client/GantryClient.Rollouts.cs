using System.Globalization;
using System.Net;
using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using static Gantry.Api.ApiRoutes;

namespace Gantry.Api;

/// <summary>What a deploy led to: a rollout that started, or a deploy that waits in the queue.</summary>
public sealed record DeployOutcome(RolloutView? Rollout, QueuedDeploy? Queued)
{
    /// <summary>The answer as the server wrote it (after the client's text filter), for output that only shows it.</summary>
    public string Json { get; init; } = string.Empty;
}

/// <summary>Services, rollouts, their commands, the queue and instance logs.</summary>
public sealed partial class GantryClient
{
    public Task<List<ServiceView>> ServicesAsync(CancellationToken ct) => GetAsync<List<ServiceView>>(Fill(Services), ct);

    /// <summary>Starts a rollout (201) or, with <see cref="DeployRequest.Queue"/> while another runs, queues the deploy (202).</summary>
    public async Task<DeployOutcome> DeployAsync(DeployRequest request, CancellationToken ct)
    {
        var path = Fill(Rollouts);
        using var response = await CallAsync(HttpMethod.Post, path, request, HttpCompletionOption.ResponseContentRead, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var outcome = response.StatusCode == HttpStatusCode.Accepted
            ? new DeployOutcome(null, Read<QueuedDeploy>(text, path))
            : new DeployOutcome(Read<RolloutView>(text, path), null);
        return outcome with { Json = Filter(text) };
    }

    /// <summary>A deploy that must start now (the demo, tests): a queued answer is an error.</summary>
    public async Task<RolloutView> StartAsync(DeployRequest request, CancellationToken ct) =>
        (await DeployAsync(request with { Queue = false }, ct)).Rollout ?? throw new ApiCallException(ApiFailure.Malformed, "the deploy was queued, not started");

    public Task<RolloutView> RolloutAsync(string id, CancellationToken ct) => GetAsync<RolloutView>(Fill(Rollout, [id]), ct);

    /// <summary>The newest rollout of a service in an environment (the default one when not given).</summary>
    public Task<RolloutView> ServiceRolloutAsync(string service, string? environment, CancellationToken ct) =>
        GetAsync<RolloutView>(Fill(ServiceRollout, [service], ("environment", environment)), ct);

    /// <summary>The service's newest rollout as the server wrote it (a <see cref="RolloutView"/> in JSON), for output that only shows it: no types are built, which is most of what a command costs.</summary>
    public Task<string> ServiceRolloutJsonAsync(string service, string? environment, CancellationToken ct) =>
        GetTextAsync(Fill(ServiceRollout, [service], ("environment", environment)), ct);

    public Task<List<RolloutState>> RolloutsAsync(string? service, string? environment, int limit, CancellationToken ct) =>
        GetAsync<List<RolloutState>>(Fill(Rollouts, ("service", service), ("environment", environment), ("limit", limit.ToString(CultureInfo.InvariantCulture))), ct);

    public Task<List<AnalysisRunRecord>> AnalysisAsync(string rolloutId, CancellationToken ct) => GetAsync<List<AnalysisRunRecord>>(Fill(RolloutAnalysis, [rolloutId]), ct);

    public Task<List<StoredEvent>> RolloutEventsAsync(string rolloutId, CancellationToken ct) => GetAsync<List<StoredEvent>>(Fill(RolloutEvents, [rolloutId]), ct);

    /// <summary>A page of a rollout's events: up to <paramref name="limit"/> after the event whose id is <paramref name="after"/>.</summary>
    public Task<List<StoredEvent>> RolloutEventsAsync(string rolloutId, long after, int limit, CancellationToken ct) =>
        GetAsync<List<StoredEvent>>(Fill(RolloutEvents, [rolloutId], ("after", after.ToString(CultureInfo.InvariantCulture)), ("limit", limit.ToString(CultureInfo.InvariantCulture))), ct);

    /// <summary>A command (one of <see cref="ApiRoutes.RolloutCommands"/>) to the newest rollout of a service.</summary>
    public Task<RolloutView> CommandAsync(string service, string command, string? environment, CommandRequest request, CancellationToken ct) =>
        PostAsync<RolloutView>(Fill(ServiceCommand, [service, Known(command, ApiRoutes.RolloutCommands)], ("environment", environment)), request, ct);

    /// <summary>A command (one of <see cref="ApiRoutes.RolloutCommands"/>) to one rollout.</summary>
    public Task<RolloutView> RolloutCommandAsync(string rolloutId, string command, CommandRequest request, CancellationToken ct) =>
        PostAsync<RolloutView>(Fill(RolloutCommand, [rolloutId, Known(command, ApiRoutes.RolloutCommands)]), request, ct);

    public Task<RolloutView> RollbackAsync(string service, RollbackRequest request, CancellationToken ct) =>
        PostAsync<RolloutView>(Fill(ServiceRollback, [service]), request, ct);

    public Task<List<QueuedDeploy>> QueueAsync(string? service, string? environment, CancellationToken ct) =>
        GetAsync<List<QueuedDeploy>>(Fill(ApiRoutes.Queue, ("service", service), ("environment", environment)), ct);

    public Task<QueuedDeploy> CancelQueuedAsync(long id, string? reason, CancellationToken ct) =>
        DeleteAsync<QueuedDeploy>(Fill(QueueEntry, [id.ToString(CultureInfo.InvariantCulture)], ("reason", (string?)reason)), ct);

    public Task<List<InstanceLogs>> LogsAsync(string service, string? environment, string? version, int lines, CancellationToken ct) =>
        GetAsync<List<InstanceLogs>>(Fill(ServiceLogs, [service], ("lines", lines.ToString(CultureInfo.InvariantCulture)), ("environment", environment), ("version", version)), ct);

    private static string Known(string name, IReadOnlyList<string> names) =>
        names.Contains(name, StringComparer.Ordinal) ? name : throw new ArgumentException($"'{name}' is not one of {string.Join(", ", names)}", nameof(name));
}
