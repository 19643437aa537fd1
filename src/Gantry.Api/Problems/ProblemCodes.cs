using System.Collections.Frozen;
using System.Reflection;

namespace Gantry.Api;

/// <summary>
/// The catalog of every problem the API returns. Codes are stable: a client matches on them, not on titles or
/// details. docs/api-problems.md lists them (a test keeps it in step), and the CLI prints the code of a refusal.
/// </summary>
public static class ProblemCodes
{
    // The HTTP layer and access.
    public static readonly ProblemCode InvalidRequest = new("invalid-request", 400, "Invalid request", "The request's body, query or path is malformed or has a value out of range; the detail names it.");
    public static readonly ProblemCode RequestRejected = new("request-rejected", 400, "Request rejected", "The HTTP layer refused the request before it reached Gantry (a malformed body or headers, a request that took too long); the status says which.");
    public static readonly ProblemCode NoSuchEndpoint = new("no-such-endpoint", 404, "No such endpoint", "The path is not part of the API.");
    public static readonly ProblemCode MethodNotAllowed = new("method-not-allowed", 405, "Method not allowed", "The path exists but not with this method.");
    public static readonly ProblemCode UnsupportedMediaType = new("unsupported-media-type", 415, "Unsupported media type", "The body is not JSON (send Content-Type: application/json).");
    public static readonly ProblemCode TooLarge = new("too-large", 413, "Too large", "The body, a variable or a reason is larger than allowed.");
    public static readonly ProblemCode NotAuthenticated = new("not-authenticated", 401, "Not authenticated", "No token, an unknown, expired or revoked one.");
    public static readonly ProblemCode Forbidden = new("forbidden", 403, "Forbidden", "The token lacks the role, or the role in that environment.");
    public static readonly ProblemCode LockedOut = new("locked-out", 429, "Too many failed authentications", "Too many failed authentications from this address (or from everyone); Retry-After says when to try again.");
    public static readonly ProblemCode ServerError = new("server-error", 500, "Server error", "The server failed; its log has the details under the error number in the detail.");
    public static readonly ProblemCode Starting = new("starting", 503, "Starting", "The server has not finished its first reconcile pass.");
    public static readonly ProblemCode StoreUnavailable = new("store-unavailable", 503, "Store unavailable", "The database that keeps Gantry's state cannot be reached: nothing changes (the routers keep serving the last split) until it is back.");

    // Things that are not there.
    public static readonly ProblemCode UnknownService = new("unknown-service", 404, "Unknown service", "The manifest has no service of that name.");
    public static readonly ProblemCode UnknownEnvironment = new("unknown-environment", 404, "Unknown environment", "The manifest has no environment of that name.");
    public static readonly ProblemCode UnknownRollout = new("unknown-rollout", 404, "Unknown rollout", "No rollout has that id.");
    public static readonly ProblemCode NoRollout = new("no-rollout", 404, "No rollout", "The service was never deployed to that environment.");
    public static readonly ProblemCode UnknownRelease = new("unknown-release", 404, "Unknown release", "That version of the service never went into that environment: never deployed there, or none of its rollouts succeeded.");
    public static readonly ProblemCode NotQueued = new("not-queued", 404, "Not queued", "No deploy of that number waits in the queue.");
    public static readonly ProblemCode NoChecklist = new("no-checklist", 404, "No checklist", "The rollout did not wait for a pre-deployment checklist.");
    public static readonly ProblemCode UnknownChecklistItem = new("unknown-checklist-item", 404, "Unknown checklist item", "The environment's checklist has no item of that name.");
    public static readonly ProblemCode UnknownIncident = new("unknown-incident", 404, "Unknown incident", "No incident has that number.");
    public static readonly ProblemCode UnknownToken = new("unknown-token", 404, "Unknown token", "No token has that id.");
    public static readonly ProblemCode UnknownGate = new("unknown-gate", 404, "Unknown gate", "The manifest has no gate of that name.");
    public static readonly ProblemCode NotEvaluated = new("not-evaluated", 404, "Not evaluated", "The gate was never evaluated for that release.");

    // Deploys and their admission.
    public static readonly ProblemCode InvalidVariable = new("invalid-variable", 400, "Invalid variable", "A --set or --secret variable has a bad name or value, or is a loader or runtime hook the service does not allow.");
    public static readonly ProblemCode RolloutInProgress = new("rollout-in-progress", 409, "Rollout in progress", "Another rollout of the service runs in that environment (deploy with --queue to wait for it).");
    public static readonly ProblemCode AlreadyRunning = new("already-running", 409, "Already running", "That release, with these variables, is already the stable one there.");
    public static readonly ProblemCode FrontDoorInUse = new("front-door-in-use", 409, "Front door in use", "Another environment's release serves on the same listener.");
    public static readonly ProblemCode NotPromoted = new("not-promoted", 409, "Not promoted", "The release has not succeeded (or soaked long enough) in the environment it is promoted from.");
    public static readonly ProblemCode Frozen = new("frozen", 409, "Frozen", "The environment is frozen; an emergency deploy or the freeze's end lets the release in.");
    public static readonly ProblemCode OutsideWindow = new("outside-window", 409, "Outside the deployment windows", "The environment takes deploys only in its windows; the detail says when the next opens.");
    public static readonly ProblemCode GateNotPassed = new("gate-not-passed", 409, "Gate not passed", "The environment requires a quality gate that did not decide DEPLOY for the release.");
    public static readonly ProblemCode QueueFull = new("queue-full", 409, "Queue full", "Too many deploys wait for the service in that environment.");
    public static readonly ProblemCode ServiceRemoved = new("service-removed", 409, "Service removed", "The rollout's service is no longer in the manifest.");

    // Commands, rollbacks, approvals, checklists, freezes.
    public static readonly ProblemCode CommandRefused = new("command-refused", 409, "Command refused", "The command makes no sense in the rollout's state (the detail says why).");
    public static readonly ProblemCode NothingToRollBack = new("nothing-to-roll-back", 409, "Nothing to roll back", "No release runs there.");
    public static readonly ProblemCode NothingToRollBackTo = new("nothing-to-roll-back-to", 409, "Nothing to roll back to", "The service has had only one release there.");
    public static readonly ProblemCode NotARollbackTarget = new("not-a-rollback-target", 409, "Not a rollback target", "That version never ran as the stable release there: deploy it instead.");
    public static readonly ProblemCode NotAwaitingApproval = new("not-awaiting-approval", 409, "Not awaiting approval", "The rollout does not (or no longer) wait for approval.");
    public static readonly ProblemCode ApprovalRefused = new("approval-refused", 403, "Approval refused", "The caller may not decide this approval (their own deploy, already decided, not in the required group).");
    public static readonly ProblemCode NotWaiting = new("not-waiting", 409, "Not waiting", "The rollout no longer waits for its checklist.");
    public static readonly ProblemCode NotASignOff = new("not-a-signoff", 400, "Not a sign-off", "The checklist item is an automated check: it passes by itself.");
    public static readonly ProblemCode SignOffRefused = new("signoff-refused", 403, "Sign-off refused", "The caller may not sign this item off (their own deploy, not in the required group).");
    public static readonly ProblemCode AlreadySigned = new("already-signed", 409, "Already signed", "The checklist item was signed off already.");
    public static readonly ProblemCode NotFrozen = new("not-frozen", 409, "Not frozen", "The environment has no declared freeze to lift.");
    public static readonly ProblemCode NotInMaintenance = new("not-in-maintenance", 409, "Not in maintenance", "The service is not in maintenance in that environment.");
    public static readonly ProblemCode NotPaused = new("not-paused", 409, "Not paused", "The service's requests are not paused in that environment.");

    // Gates, incidents, tokens.
    public static readonly ProblemCode GateNotNamed = new("gate-not-named", 400, "Which gate?", "The manifest has several gates (or none): name one.");
    public static readonly ProblemCode CannotOverride = new("cannot-override", 409, "Cannot override", "Only a REMEDIATE decision can be overridden.");
    public static readonly ProblemCode IncidentRefused = new("incident-refused", 409, "Refused", "The incident cannot move that way from its status.");
    public static readonly ProblemCode ChangedMeanwhile = new("changed-meanwhile", 409, "Changed meanwhile", "Someone else changed it at the same time: try again.");
    public static readonly ProblemCode AlreadyRevoked = new("already-revoked", 409, "Already revoked", "The token is already revoked.");

    /// <summary>Every code, in the order above.</summary>
    public static IReadOnlyList<ProblemCode> All { get; } = [.. typeof(ProblemCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(ProblemCode)).Select(f => (ProblemCode)f.GetValue(null)!)];

    private static readonly FrozenDictionary<string, ProblemCode> ByCode = All.ToFrozenDictionary(c => c.Code, StringComparer.Ordinal);

    /// <summary>The catalog entry of <paramref name="code"/>, or null when it is not one.</summary>
    public static ProblemCode? Find(string? code) => code is not null && ByCode.TryGetValue(code, out var found) ? found : null;

    /// <summary>The code the HTTP layer's bare status maps to.</summary>
    public static ProblemCode ForStatus(int status) => status switch
    {
        401 => NotAuthenticated,
        403 => Forbidden,
        404 => NoSuchEndpoint,
        405 => MethodNotAllowed,
        413 => TooLarge,
        415 => UnsupportedMediaType,
        >= 500 => ServerError,
        _ => RequestRejected,
    };
}
