using System.Globalization;
using Gantry.Core.Gates;
using Gantry.Core.Gates.Reports;
using Gantry.Core.Manifest;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Gates;

/// <summary>A custom category's JSON file, as read by the client; the gate's jsonPath picks the value.</summary>
public sealed record CustomDocument(string File, System.Text.Json.JsonElement Document);

/// <summary>
/// A request to evaluate a gate for a release, with the reports the client read (tests from JUnit or TRX,
/// coverage from Cobertura or LCOV, findings from SARIF, custom values from JSON files by category).
/// </summary>
public sealed record GateEvaluationRequest(
    string Service,
    string Version,
    string? Gate = null,
    TestSummary? Tests = null,
    CoverageSummary? Coverage = null,
    FindingSummary? Security = null,
    IReadOnlyDictionary<string, CustomDocument>? Custom = null);

/// <summary>Evaluates gates against the manifest's policy and the previous evaluation, stores them, and says whether an environment's gate lets a release in.</summary>
public sealed class GateService(GantryManifest manifest, IGateStore store, TimeProvider time)
{
    public async Task<Result<GateEvaluation>> EvaluateAsync(GateEvaluationRequest request, CancellationToken ct)
    {
        if (manifest.FindService(request.Service) is null)
        {
            return new Problem(404, "Unknown service", $"no service '{request.Service}' in the manifest");
        }

        if (!RolloutService.IsValidVersion(request.Version))
        {
            return new Problem(400, "Invalid request", $"version '{request.Version}' is not valid: letters, digits, '.', '_', '+' and '-', up to 128 characters");
        }

        GateSpec? gate;
        if (request.Gate is { } name)
        {
            gate = manifest.FindGate(name);
            if (gate is null)
            {
                return new Problem(404, "Unknown gate", $"no gate '{name}' in the manifest" + (manifest.Gates.IsEmpty ? "; define one under 'gates'" : $"; it has {string.Join(", ", manifest.Gates.Select(g => g.Name))}"));
            }
        }
        else if (manifest.Gates.Length == 1)
        {
            gate = manifest.Gates[0];
        }
        else
        {
            return new Problem(400, "Which gate?", manifest.Gates.IsEmpty
                ? "the manifest defines no gate; add one under 'gates'"
                : $"the manifest defines several gates ({string.Join(", ", manifest.Gates.Select(g => g.Name))}): name one");
        }

        var custom = new Dictionary<string, (double, string)>(StringComparer.Ordinal);
        foreach (var (category, document) in request.Custom ?? new Dictionary<string, CustomDocument>())
        {
            if (gate.Categories.FirstOrDefault(c => c.Name == category && c.Kind == GateCategoryKind.Custom) is not { JsonPath: { } path })
            {
                return new Problem(400, "Invalid request", $"gate '{gate.Name}' has no custom category '{category}'");
            }

            if (Analysis.Providers.WebMetricProvider.Pick(document.Document, path) is not { } value || !double.IsFinite(value))
            {
                return new Problem(400, "Invalid request", $"{category}: {path} is not a number in {document.File}");
            }

            custom[category] = (value, document.File);
        }

        var previous = await store.LatestEvaluationAsync(gate.Name, request.Service, null, ct);
        var inputs = new GateInputs(request.Tests, request.Coverage, request.Security, custom);
        var evaluation = GateEvaluator.Evaluate(gate, request.Service, request.Version, inputs, previous, time.GetUtcNow());
        await store.SaveEvaluationAsync(evaluation, ct);
        return evaluation;
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
            return new Problem(409, "Gate not passed", $"{environment} requires gate '{gate}' to decide DEPLOY for {service} {version}, and it was never evaluated: run gantry gate evaluate --release {service}:{version} with the build's reports", "gate");
        }

        return latest.Decision == GateDecision.Deploy
            ? null
            : new Problem(409, "Gate not passed", string.Create(CultureInfo.InvariantCulture,
                $"{environment} requires gate '{gate}' to decide DEPLOY for {service} {version}; its latest evaluation ({latest.At:yyyy-MM-dd HH:mm} UTC) decided {latest.Decision.ToString().ToUpperInvariant()}: {latest.Reason}"), "gate");
    }
}
