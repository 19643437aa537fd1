using System.Globalization;
using Gantry.Core.Gates;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Gates;

/// <summary>Evaluates gates against the manifest's policy and the previous evaluation, stores them, and says whether an environment's gate lets a release in.</summary>
public sealed class GateService(GantryManifest manifest, IGateStore store, TimeProvider time)
{
    public async Task<Result<GateEvaluation>> EvaluateAsync(GateEvaluationRequest request, Core.Audit.AuditContext who, CancellationToken ct)
    {
        if (manifest.FindService(request.Service) is null)
        {
            return ProblemCodes.UnknownService.With($"no service '{request.Service}' in the manifest");
        }

        if (!Rollouts.DeployService.IsValidVersion(request.Version))
        {
            return ProblemCodes.InvalidRequest.With($"version '{request.Version}' is not valid: letters, digits, '.', '_', '+' and '-', up to 128 characters");
        }

        GateSpec? gate;
        if (request.Gate is { } name)
        {
            gate = manifest.FindGate(name);
            if (gate is null)
            {
                return ProblemCodes.UnknownGate.With($"no gate '{name}' in the manifest" + (manifest.Gates.IsEmpty ? "; define one under 'gates'" : $"; it has {string.Join(", ", manifest.Gates.Select(g => g.Name))}"));
            }
        }
        else if (manifest.Gates.Length == 1)
        {
            gate = manifest.Gates[0];
        }
        else
        {
            return ProblemCodes.GateNotNamed.With(manifest.Gates.IsEmpty
                ? "the manifest defines no gate; add one under 'gates'"
                : $"the manifest defines several gates ({string.Join(", ", manifest.Gates.Select(g => g.Name))}): name one");
        }

        var custom = new Dictionary<string, (double, string)>(StringComparer.Ordinal);
        foreach (var (category, document) in request.Custom ?? new Dictionary<string, CustomDocument>())
        {
            if (gate.Categories.FirstOrDefault(c => c.Name == category && c.Kind == GateCategoryKind.Custom) is not { JsonPath: { } path })
            {
                return ProblemCodes.InvalidRequest.With($"gate '{gate.Name}' has no custom category '{category}'");
            }

            if (Core.Manifest.Values.JsonPick.Number(document.Document, path) is not { } value || !double.IsFinite(value))
            {
                return ProblemCodes.InvalidRequest.With($"{category}: {path} is not a number in {document.File}");
            }

            custom[category] = (value, document.File);
        }

        var previous = await store.LatestEvaluationAsync(gate.Name, request.Service, null, ct);
        var inputs = new GateInputs(request.Tests, request.Coverage, request.Security, custom);
        var evaluation = GateEvaluator.Evaluate(gate, request.Service, request.Version, inputs, previous, time.GetUtcNow()) with { By = who.Actor };
        await store.SaveEvaluationAsync(evaluation, who, ct);
        return evaluation;
    }

    /// <summary>Lets a REMEDIATE release through, recorded with who and why. BLOCK and DEPLOY are refused (nothing to override, or not allowed).</summary>
    public async Task<Result<GateEvaluation>> OverrideAsync(GateOverrideRequest request, Core.Audit.AuditContext who, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            return ProblemCodes.InvalidRequest.With("an override needs a reason (--reason)");
        }

        var gate = request.Gate ?? (manifest.Gates.Length == 1 ? manifest.Gates[0].Name : null);
        if (gate is null || manifest.FindGate(gate) is null)
        {
            return ProblemCodes.UnknownGate.With(gate is null ? "name the gate: the manifest has none or several" : $"no gate '{gate}' in the manifest");
        }

        var latest = await store.LatestEvaluationAsync(gate, request.Service, request.Version, ct);
        if (latest is null)
        {
            return ProblemCodes.NotEvaluated.With($"gate '{gate}' was never evaluated for {request.Service} {request.Version}");
        }

        if (latest.Decision != GateDecision.Remediate)
        {
            return ProblemCodes.CannotOverride.With(latest.Decision == GateDecision.Block
                ? $"{request.Service} {request.Version} is blocked by gate '{gate}' ({latest.Reason}): a BLOCK cannot be overridden, only fixed"
                : $"{request.Service} {request.Version} already passed gate '{gate}': nothing to override");
        }

        return (await store.OverrideAsync(gate, request.Service, request.Version, new GateOverride(who.Actor, request.Reason.Trim(), time.GetUtcNow()), ct, who with { Reason = request.Reason.Trim() }))!;
    }

    /// <summary>Null when the environment has no gate or the release's newest evaluation of it is DEPLOY; otherwise why not.</summary>
    public async Task<Problem?> CheckAsync(string environment, string service, string version, CancellationToken ct)
    {
        if (manifest.FindEnvironment(environment)?.Gate is not { } gate)
        {
            return null;
        }

        var latest = await store.LatestEvaluationAsync(gate, service, version, ct);
        if (latest is null)
        {
            return ProblemCodes.GateNotPassed.With($"{environment} requires gate '{gate}' to decide DEPLOY for {service} {version}, and it was never evaluated: run gantry gate evaluate --release {service}:{version} with the build's reports");
        }

        return latest.LetsThrough
            ? null
            : ProblemCodes.GateNotPassed.With(string.Create(CultureInfo.InvariantCulture,
                $"{environment} requires gate '{gate}' to decide DEPLOY for {service} {version}; its latest evaluation ({latest.At:yyyy-MM-dd HH:mm} UTC{(latest.By is null ? string.Empty : ", posted by " + latest.By)}) decided {latest.Decision.ToString().ToUpperInvariant()}: {latest.Reason}"));
    }
}
