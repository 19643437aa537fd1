using Gantry.Core.Gates.Reports;

namespace Gantry.Api;

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

/// <summary>An override of a REMEDIATE: which release, which gate (the only one when not named), and why.</summary>
public sealed record GateOverrideRequest(string Service, string Version, string? Reason, string? Gate = null);
