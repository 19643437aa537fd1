using System.Diagnostics;
using System.Globalization;

namespace Gantry.Proxy.Tests.Forwarding;

/// <summary>Runs alone: it measures this process's memory, to which tests running beside it would add.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

[Collection(nameof(RunsAlone))]
public sealed class LargeBodyTests
{
    [Fact(Timeout = 120_000)]
    public async Task Forward_TwoHundredMegabytesEachWay_StreamsWithoutBufferingWhole()
    {
        await using var upstream = await Upstream.StartAsync("a");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, upstream))));
        const long size = 200L * 1024 * 1024;
        GC.Collect();
        var before = Process.GetCurrentProcess().WorkingSet64;
        long peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                using var self = Process.GetCurrentProcess();
                peak = Math.Max(peak, self.WorkingSet64);
                await Task.Delay(20);
            }
        });

        using var upload = await router.Client.PostAsync("/upload", new StreamContent(new HttpForwarderTests.GeneratedStream(size)));
        (await upload.Content.ReadAsStringAsync()).Should().Be(size.ToString(CultureInfo.InvariantCulture));
        using var download = await router.Client.GetAsync("/download/200", HttpCompletionOption.ResponseHeadersRead);
        var received = 0L;
        await using (var body = await download.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                received += read;
            }
        }

        await sampling.CancelAsync();
        await sampler;
        received.Should().Be(size);
        // The client, the router and the upstream all run in this process: together they stay well under 50 MB of growth.
        (peak - before).Should().BeLessThan(50L * 1024 * 1024);
    }
}
