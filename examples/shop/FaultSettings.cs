using System.Globalization;

namespace Shop;

/// <summary>
/// The sample service's behaviour, read once from environment variables, so that a release can be
/// made bad on purpose. Invalid values stop the service with one clear line.
/// </summary>
public sealed record FaultSettings(
    string Version,
    double ErrorRate,
    int LatencyMs,
    int LatencyJitterMs,
    int StartupDelayMs,
    bool Ready,
    long? CrashAfterRequests,
    int? Seed,
    double SpikeRate = 0,
    int SpikeMs = 0,
    int AllocateMb = 0,
    double? FaultAfterSeconds = null)
{
    public static FaultSettings FromEnvironment(Func<string, string?> get)
    {
        return new FaultSettings(
            Version: get("APP_VERSION") is { Length: > 0 } v ? v : "0.0.0",
            ErrorRate: Number("FAULT_ERROR_RATE", 0, 0, 1),
            LatencyMs: (int)Number("FAULT_LATENCY_MS", 0, 0, 600_000),
            LatencyJitterMs: (int)Number("FAULT_LATENCY_JITTER_MS", 0, 0, 600_000),
            StartupDelayMs: (int)Number("STARTUP_DELAY_MS", 0, 0, 600_000),
            Ready: Bool("READY", true),
            CrashAfterRequests: get("CRASH_AFTER_REQUESTS") is { Length: > 0 } ? (long)Number("CRASH_AFTER_REQUESTS", 0, 1, long.MaxValue) : null,
            Seed: get("FAULT_SEED") is { Length: > 0 } ? (int)Number("FAULT_SEED", 0, int.MinValue, int.MaxValue) : null,
            SpikeRate: Number("FAULT_SPIKE_RATE", 0, 0, 1),
            SpikeMs: (int)Number("FAULT_SPIKE_MS", 0, 0, 600_000),
            AllocateMb: (int)Number("FAULT_ALLOCATE_MB", 0, 0, 1_048_576),
            FaultAfterSeconds: get("FAULT_AFTER_SECONDS") is { Length: > 0 } ? Number("FAULT_AFTER_SECONDS", 0, 0, 86_400) : null);

        double Number(string name, double fallback, double min, double max)
        {
            var text = get(name);
            if (string.IsNullOrWhiteSpace(text))
            {
                return fallback;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number from {min} to {max}, got '{text}'"));
            }

            return value;
        }

        bool Bool(string name, bool fallback)
        {
            var text = get(name);
            return text?.Trim().ToUpperInvariant() switch
            {
                null or "" => fallback,
                "TRUE" or "1" or "YES" => true,
                "FALSE" or "0" or "NO" => false,
                _ => throw new ArgumentException($"{name} must be true or false, got '{text}'"),
            };
        }
    }
}
