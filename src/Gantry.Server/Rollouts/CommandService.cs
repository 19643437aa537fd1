using Gantry.Core.Admission;
using Gantry.Core.Audit;
using Gantry.Core.Strategies;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>
/// A person's commands to a rollout (promote, abort, pause, resume, retry) and rollbacks: decided by the pure
/// engine and rollback rules under the target's lock, committed with their events and audit record.
/// </summary>
public sealed class CommandService(GantryManifest manifest, IRolloutStore store, RolloutCreator creator, ReconcilerSignals signals, TimeProvider time)
{
    public async Task<Result<RolloutState>> CommandAsync(string rolloutId, CommandKind kind, CommandRequest request, AuditContext who, CancellationToken ct)
    {
        if (Requests.TooLong(request.Reason) is { } tooLong)
        {
            return tooLong;
        }

        var found = await store.GetAsync(rolloutId, ct);
        if (found is null)
        {
            return ProblemCodes.UnknownRollout.With($"there is no rollout '{rolloutId}'");
        }

        if (manifest.FindService(found.Service) is not { } service)
        {
            return ProblemCodes.ServiceRemoved.With($"service '{found.Service}' is no longer in the manifest");
        }

        var spec = EffectiveService.For(manifest, service, found.Environment);
        var gate = signals.LockFor(found.Target);
        await gate.WaitAsync(ct);
        try
        {
            var state = (await store.GetAsync(rolloutId, ct))!;
            if (kind == CommandKind.Retry)
            {
                var latest = (await store.ListAsync(new RolloutQuery(state.Service, state.Environment, Limit: 1), ct))[0];
                if (latest.Id != state.Id)
                {
                    return ProblemCodes.CommandRefused.With($"rollout {state.Id} is not the newest of {state.Service} in {state.Environment} ({latest.Id} is): deploy again instead");
                }
            }

            var kindOf = kind == CommandKind.Promote && request.Full ? CommandKind.PromoteFull : kind;
            var result = RolloutEngine.Apply(spec, state, new RolloutCommand(kindOf, who.Actor, request.Reason), time.GetUtcNow());
            if (result.Decision is not { } decision)
            {
                return ProblemCodes.CommandRefused.With(result.Refusal!);
            }

            var outcome = await store.SaveAsync(decision.State, state.Revision, decision.Events, ct, who with { Reason = request.Reason });
            if (outcome != CommitOutcome.Committed)
            {
                return ProblemCodes.CommandRefused.With(outcome == CommitOutcome.Busy
                    ? $"another rollout of {state.Service} in {state.Environment} is active"
                    : $"rollout {state.Id} changed meanwhile: try again");
            }

            signals.AfterCommit();
            return decision.State;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Goes back to an earlier release (<see cref="RollbackTarget"/> says which), at once while its instances still run.</summary>
    public async Task<Result<RolloutState>> RollbackAsync(string serviceName, RollbackRequest request, AuditContext who, CancellationToken ct)
    {
        if (Requests.TooLong(request.Reason) is { } tooLong)
        {
            return tooLong;
        }

        if (Requests.Resolve(manifest, serviceName, request.Environment, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        GradualRollback? gradual = null;
        if (request.Steps is { } steps && (gradual = GradualRollback.Parse(steps, request.Every, out var badSteps)) is null)
        {
            return ProblemCodes.InvalidRequest.With(badSteps!);
        }

        if (request.Steps is null && (request.Every ?? request.Analysis) is not null)
        {
            return ProblemCodes.InvalidRequest.With($"{(request.Every is null ? "analysis" : "every")}: only with steps (a rollback in steps)");
        }

        if (gradual is not null && request.Analysis is { } analysis)
        {
            var templates = analysis.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (templates.Length == 0 || templates.Any(t => manifest.FindAnalysis(t) is null))
            {
                var missing = templates.FirstOrDefault(t => manifest.FindAnalysis(t) is null);
                return ProblemCodes.InvalidRequest.With(missing is null ? "analysis: name at least one analysis template" : $"analysis: there is no analysis template '{missing}' in the manifest");
            }

            gradual = gradual with { Analysis = [.. templates] };
        }

        var history = await store.ListAsync(new RolloutQuery(service.Name, environment, Limit: 500), ct);
        var choice = RollbackTarget.Choose(service.Name, environment, history, request.To);
        if (choice.Target is not { } target)
        {
            return (choice.Refusal switch
            {
                RollbackRefusal.NothingRunning => ProblemCodes.NothingToRollBack,
                RollbackRefusal.InProgress => ProblemCodes.RolloutInProgress,
                RollbackRefusal.NotATarget => ProblemCodes.NotARollbackTarget,
                RollbackRefusal.NothingToRollBackTo => ProblemCodes.NothingToRollBackTo,
                _ => ProblemCodes.AlreadyRunning,
            }).With(choice.Message);
        }

        return await creator.CreateAsync(new NewRollout(service, environment, target, RolloutKind.Rollback, who, request.Reason, choice.Replaced) { Gradual = gradual }, ct);
    }

    /// <summary>The newest rollout of a service in an environment (the default one when not named).</summary>
    public async Task<Result<RolloutState>> LatestAsync(string serviceName, string? environmentName, CancellationToken ct)
    {
        if (Requests.Resolve(manifest, serviceName, environmentName, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        return Requests.First(await store.ListAsync(new RolloutQuery(service.Name, environment, Limit: 1), ct)) is { } latest
            ? latest
            : ProblemCodes.NoRollout.With($"{service.Name} has never been deployed to {environment}");
    }
}
