using System.Globalization;
using System.Text;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Metrics;

/// <summary>Writes the router's metrics in the Prometheus text exposition format (version 0.0.4).</summary>
public static class PrometheusWriter
{
    /// <summary>Histogram bucket bounds in seconds for the exported latency histograms.</summary>
    public static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(MetricsRegistry registry, TimeSpan window)
    {
        var series = registry.All.OrderBy(s => s.Key.Route, StringComparer.Ordinal).ThenBy(s => s.Key.Group ?? string.Empty, StringComparer.Ordinal).ThenBy(s => s.Key.Instance?.ToString() ?? string.Empty, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder();
        Header(sb, "gantry_proxy_requests_total", "counter", "Requests handled, by response status class.");
        foreach (var (key, m) in series)
        {
            for (var c = 1; c <= 5; c++)
            {
                Line(sb, "gantry_proxy_requests_total", key, $",code=\"{c}xx\"", m.ByClass(c));
            }

            Line(sb, "gantry_proxy_requests_total", key, ",code=\"failed\"", m.Failures);
        }

        Header(sb, "gantry_proxy_request_bytes_total", "counter", "Request body bytes received from clients.");
        foreach (var (key, m) in series)
        {
            Line(sb, "gantry_proxy_request_bytes_total", key, string.Empty, m.BytesIn);
        }

        Header(sb, "gantry_proxy_response_bytes_total", "counter", "Response body bytes sent to clients.");
        foreach (var (key, m) in series)
        {
            Line(sb, "gantry_proxy_response_bytes_total", key, string.Empty, m.BytesOut);
        }

        Header(sb, "gantry_proxy_request_duration_seconds", "histogram", "Time from receiving a request to the end of its answer.");
        foreach (var (key, m) in series)
        {
            var counts = new long[LatencyHistogram.BucketCount];
            m.Total.AddTo(counts);
            long cumulative = 0;
            double sum = 0;
            var next = 0;
            foreach (var bound in Buckets)
            {
                for (; next < counts.Length && LatencyHistogram.BoundsOf(next).High <= bound * 1_000_000; next++)
                {
                    cumulative += counts[next];
                }

                Line(sb, "gantry_proxy_request_duration_seconds_bucket", key, $",le=\"{Number(bound)}\"", cumulative);
            }

            long count = 0;
            for (var i = 0; i < counts.Length; i++)
            {
                var (low, high) = LatencyHistogram.BoundsOf(i);
                sum += counts[i] * (low + high - 1) / 2.0 / 1_000_000;
                count += counts[i];
            }

            Line(sb, "gantry_proxy_request_duration_seconds_bucket", key, ",le=\"+Inf\"", count);
            sb.Append("gantry_proxy_request_duration_seconds_sum").Append(Labels(key, string.Empty)).Append(' ').Append(Number(sum)).Append('\n');
            Line(sb, "gantry_proxy_request_duration_seconds_count", key, string.Empty, count);
        }

        var windowLabel = $",window=\"{(int)window.TotalSeconds}s\"";
        Header(sb, "gantry_proxy_latency_seconds", "gauge", "Latency percentiles over the sliding window.");
        foreach (var (key, m) in series)
        {
            var snap = m.Read(window);
            foreach (var (q, v) in new[] { ("0.5", snap.P50), ("0.9", snap.P90), ("0.95", snap.P95), ("0.99", snap.P99) })
            {
                if (!double.IsNaN(v))
                {
                    sb.Append("gantry_proxy_latency_seconds").Append(Labels(key, $"{windowLabel},quantile=\"{q}\"")).Append(' ').Append(Number(v)).Append('\n');
                }
            }
        }

        return sb.ToString();
    }

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder sb, string name, (string Route, string? Group, Gantry.Core.Manifest.Values.Endpoint? Instance) key, string extra, long value) =>
        sb.Append(name).Append(Labels(key, extra)).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static string Labels((string Route, string? Group, Gantry.Core.Manifest.Values.Endpoint? Instance) key, string extra)
    {
        var labels = $"route=\"{Escape(key.Route)}\"";
        if (key.Group is { } g)
        {
            labels += $",group=\"{Escape(g)}\"";
        }

        if (key.Instance is { } i)
        {
            labels += $",instance=\"{Escape(i.ToString())}\"";
        }

        return "{" + labels + extra + "}";
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(double value) => value.ToString("0.#########", CultureInfo.InvariantCulture);
}
