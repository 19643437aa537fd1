namespace Gantry.Api;

/// <summary>A standing objective of a service in an environment now: its period's requests, budget left and burn-rate alerts.</summary>
public sealed record SloView(string Service, string Environment, Core.Slo.SloStatus Status, TimeSpan? Threshold);
