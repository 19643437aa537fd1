using Gantry.Core.Access;
using Gantry.Core.Admission;
using Gantry.Core.Policies;

namespace Gantry.Server.Rollouts;

/// <summary>
/// Gathers what admission needs (the environment's rules, declared freezes, the history where the release is
/// promoted from, the gate's standing) and asks the pure <see cref="AdmissionRules"/>.
/// </summary>
public sealed class AdmissionGate(GantryManifest manifest, IRolloutStore store, IFreezeStore freezes, Gates.GateService gates, TimeProvider time)
{
    public async Task<AdmissionDecision> DecideAsync(string service, string environment, string version, CancellationToken ct, Principal? caller = null, bool emergency = false, string? reason = null, bool queue = false)
    {
        var rules = manifest.FindEnvironment(environment);
        var source = rules?.Promotion is { } promotion ? await store.ListAsync(new RolloutQuery(service, promotion.From, Limit: 1000), ct) : [];
        var gate = await gates.CheckAsync(environment, service, version, ct);
        return AdmissionRules.Decide(new AdmissionRequest(service, environment, version, time.GetUtcNow(), rules, await freezes.FreezesAsync(environment, ct), source,
            gate?.Detail, caller, emergency, reason, queue));
    }

    /// <summary>A refusal as the API says it.</summary>
    public static Problem Problem(AdmissionDecision refused) => (refused.Refusal switch
    {
        AdmissionRule.Gate => ProblemCodes.GateNotPassed,
        AdmissionRule.EmergencyRole => ProblemCodes.Forbidden,
        AdmissionRule.DeclaredFreeze or AdmissionRule.Freeze => ProblemCodes.Frozen,
        AdmissionRule.Window => ProblemCodes.OutsideWindow,
        AdmissionRule.Promotion => ProblemCodes.NotPromoted,
        _ => ProblemCodes.InvalidRequest,
    }).With(refused.Message);
}
