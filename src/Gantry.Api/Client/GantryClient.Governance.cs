using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Gantry.Core.Checklists;
using Gantry.Core.Gates;
using Gantry.Core.Policies;
using Gantry.Core.Traffic;
using static Gantry.Api.ApiRoutes;

namespace Gantry.Api;

/// <summary>Identity and tokens, approvals, checklists, freezes, the audit trail and gates.</summary>
public sealed partial class GantryClient
{
    public Task<Principal> WhoAmIAsync(CancellationToken ct) => GetAsync<Principal>(Fill(WhoAmI), ct);

    /// <summary>Which replica of the store leads, as the server asked sees it.</summary>
    public Task<ClusterView> ClusterAsync(CancellationToken ct) => GetAsync<ClusterView>(Fill(Cluster), ct);

    public Task<CreatedToken> CreateTokenAsync(TokenRequest request, CancellationToken ct) => PostAsync<CreatedToken>(Fill(Tokens), request, ct);

    public Task<List<TokenView>> TokensAsync(CancellationToken ct) => GetAsync<List<TokenView>>(Fill(Tokens), ct);

    public Task<TokenView> RevokeTokenAsync(string id, CancellationToken ct) => DeleteAsync<TokenView>(Fill(Token, [id]), ct);

    /// <summary>The rollouts waiting for approval, with whether the caller may decide each.</summary>
    public Task<List<ApprovalView>> ApprovalsAsync(CancellationToken ct) => GetAsync<List<ApprovalView>>(Fill(Approvals), ct);

    public Task<ApprovalView> ApprovalAsync(string rolloutId, CancellationToken ct) => GetAsync<ApprovalView>(Fill(RolloutApproval, [rolloutId]), ct);

    /// <summary>Approves or rejects (one of <see cref="ApiRoutes.ApprovalDecisions"/>) a rollout waiting for approval.</summary>
    public Task<ApprovalView> DecideAsync(string rolloutId, string decision, CommandRequest request, CancellationToken ct) =>
        PostAsync<ApprovalView>(Fill(RolloutCommand, [rolloutId, Known(decision, ApprovalDecisions)]), request, ct);

    public Task<ChecklistRecord> ChecklistAsync(string rolloutId, CancellationToken ct) => GetAsync<ChecklistRecord>(Fill(RolloutChecklist, [rolloutId]), ct);

    public Task<ChecklistRecord> SignOffAsync(string rolloutId, string item, CancellationToken ct) =>
        PostAsync<ChecklistRecord>(Fill(RolloutSignOff, [rolloutId, item]), new CommandRequest(), ct);

    public Task<DeclaredFreeze> FreezeAsync(string environment, FreezeRequest request, CancellationToken ct) =>
        PostAsync<DeclaredFreeze>(Fill(EnvironmentFreeze, [environment]), request, ct);

    public Task<List<DeclaredFreeze>> UnfreezeAsync(string environment, CancellationToken ct) => DeleteAsync<List<DeclaredFreeze>>(Fill(EnvironmentFreeze, [environment]), ct);

    /// <summary>Audit records, newest last: of one target (service, or service/environment) when given, from <paramref name="since"/> on.</summary>
    public Task<List<AuditEvent>> AuditAsync(string? target, DateTimeOffset? since, int limit, CancellationToken ct) =>
        GetAsync<List<AuditEvent>>(Fill(ApiRoutes.Audit, ("limit", limit.ToString(CultureInfo.InvariantCulture)), ("target", target), ("since", since?.ToString("O", CultureInfo.InvariantCulture))), ct);

    public Task<AuditVerification> VerifyAuditAsync(CancellationToken ct) => GetAsync<AuditVerification>(Fill(AuditVerify), ct);

    /// <summary>Every audit record as JSON lines, oldest first, as a stream to copy.</summary>
    public Task<Stream> ExportAuditAsync(CancellationToken ct) => OpenAsync(Fill(AuditExport), ct);

    /// <summary>A consistent copy of the server's store (a SQLite database), streamed (admins only).</summary>
    public Task<Stream> BackupAsync(CancellationToken ct) => OpenAsync(Fill(Backup), ct);

    /// <summary>Turns maintenance on for a service: its router answers 503 with the message until it is turned off.</summary>
    public Task<Maintenance> MaintenanceOnAsync(string service, MaintenanceRequest request, CancellationToken ct) =>
        PutAsync<Maintenance>(Fill(ServiceMaintenance, [service]), request, ct);

    public Task<Maintenance> MaintenanceOffAsync(string service, string? environment, CancellationToken ct) =>
        DeleteAsync<Maintenance>(Fill(ServiceMaintenance, [service], ("environment", environment)), ct);

    /// <summary>Holds new requests to a service in its router (each up to the request's limit) until resumed.</summary>
    public Task<TrafficPause> PauseAsync(string service, PauseRequest request, CancellationToken ct) =>
        PutAsync<TrafficPause>(Fill(ServicePause, [service]), request, ct);

    public Task<TrafficPause> ResumeAsync(string service, string? environment, CancellationToken ct) =>
        DeleteAsync<TrafficPause>(Fill(ServicePause, [service], ("environment", environment)), ct);

    public Task<GateEvaluation> EvaluateGateAsync(GateEvaluationRequest request, CancellationToken ct) => PostAsync<GateEvaluation>(Fill(GateEvaluations), request, ct);

    public Task<GateEvaluation> OverrideGateAsync(GateOverrideRequest request, CancellationToken ct) => PostAsync<GateEvaluation>(Fill(GateOverrides), request, ct);
}
