using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gantry.Runtime.Probes;
using Microsoft.Extensions.Time.Testing;

namespace Gantry.Runtime.Tests.Probes;

/// <summary>
/// Probes handed to the process's probe loop ahead of time: started when due and not before, failed at their own
/// timeout, given back at once when their caller stops waiting (never connecting), many at once all answered; on a
/// clock other than the loop's the caller waits on its own clock. A probe handed over with the result it is expected
/// to keep is made again every interval while it keeps it, and only the first result that differs comes back.
/// </summary>
public sealed class ProbeLoopTests
{
    private static ProbeLoop Loop => ProbeLoop.Shared ?? throw new InvalidOperationException("the probe loop does not run on this system");

    [Fact(Timeout = 10_000)]
    public async Task AProbeDueLater_ConnectsWhenDue_NotBefore()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        var handed = Stopwatch.StartNew();
        var due = time.GetTimestamp() + (time.TimestampFrequency * 400 / 1000);
        var probing = new HttpProbe("127.0.0.1", port, "/", Loop).PassesAtAsync(due, TimeSpan.FromSeconds(2), time, TestContext.Current.CancellationToken);

        using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        handed.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(395), "the probe starts when due");
        await AnswerAsync(client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        (await probing).Should().BeTrue();
    }

    [Fact(Timeout = 10_000)]
    public async Task AServerThatNeverAnswers_FailsAtTheProbesOwnTimeout()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        var started = Stopwatch.StartNew();

        var passed = await new HttpProbe("127.0.0.1", port, "/", Loop).PassesAtAsync(time.GetTimestamp(), TimeSpan.FromMilliseconds(300), time, TestContext.Current.CancellationToken);

        passed.Should().BeFalse();
        started.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(295)).And.BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact(Timeout = 10_000)]
    public async Task AWaitingProbe_WhoseCallerStops_IsGivenBackAtOnce_AndNeverConnects()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var probing = new HttpProbe("127.0.0.1", port, "/", Loop).PassesAtAsync(time.GetTimestamp() + (10 * time.TimestampFrequency), TimeSpan.FromSeconds(1), time, stop.Token);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        var asked = Stopwatch.StartNew();

        await stop.CancelAsync();

        await FluentActions.Awaiting(() => probing).Should().ThrowAsync<OperationCanceledException>();
        asked.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        listener.Pending().Should().BeFalse("a probe given back never connects");
    }

    [Fact(Timeout = 20_000)]
    public async Task TwoHundredProbesDueTogether_AreAllAnswered()
    {
        using var listener = Listen(out var port, backlog: 512);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var served = 0;
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        await AnswerAsync(client, "HTTP/1.0 200 OK\r\n\r\nok");
                        _ = Interlocked.Increment(ref served);
                    }
                });
            }
        });
        var time = Loop.Time;
        var due = time.GetTimestamp() + (time.TimestampFrequency / 10);
        var probe = new HttpProbe("127.0.0.1", port, "/", Loop);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => probe.PassesAtAsync(due, TimeSpan.FromSeconds(10), time, TestContext.Current.CancellationToken)));

        results.Should().OnlyContain(passed => passed);
        Volatile.Read(ref served).Should().BeGreaterThanOrEqualTo(199); // the last may still be counting
        await stop.CancelAsync();
        await FluentActions.Awaiting(() => server).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact(Timeout = 20_000)]
    public async Task ACallerThatBlocksOnItsResult_DoesNotHoldUpAnotherResultOfTheSameTurn()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        var due = time.GetTimestamp();
        var probe = new HttpProbe("127.0.0.1", port, "/", Loop);
        using var first = new ManualResetEventSlim();
        using var second = new ManualResetEventSlim();

        // Each caller, given its result, waits (blocking its thread) until the other has its own.
        async Task<bool> CallerAsync(ManualResetEventSlim mine, ManualResetEventSlim other)
        {
            _ = await probe.PassesAtAsync(due, TimeSpan.FromSeconds(5), time, TestContext.Current.CancellationToken);
            mine.Set();
            return other.Wait(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        }

        var callers = new[] { Task.Run(() => CallerAsync(first, second)), Task.Run(() => CallerAsync(second, first)) };
        using var a = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        using var b = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        // Both answers end at the same moment, so the loop sees both in one turn.
        _ = await HttpProbeTests.ReadRequestAsync(a.GetStream());
        _ = await HttpProbeTests.ReadRequestAsync(b.GetStream());
        await a.GetStream().WriteAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await b.GetStream().WriteAsync("HTTP/1.1 200 OK\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        a.Close();
        b.Close();

        (await Task.WhenAll(callers)).Should().OnlyContain(sawTheOther => sawTheOther, "each result reaches its caller whatever another caller does with its own");
    }

    [Fact(Timeout = 10_000)]
    public async Task OnAnotherClock_TheCallerWaitsOnThatClock_ThenProbes()
    {
        using var listener = Listen(out var port);
        var fake = new FakeTimeProvider();
        var probing = new HttpProbe("127.0.0.1", port, "/", Loop).PassesAtAsync(fake.GetTimestamp() + (5 * fake.TimestampFrequency), TimeSpan.FromSeconds(1), fake, TestContext.Current.CancellationToken);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        listener.Pending().Should().BeFalse("nothing is due on the fake clock yet");

        fake.Advance(TimeSpan.FromSeconds(5));

        using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        await AnswerAsync(client, "HTTP/1.1 204 No Content\r\n\r\n");
        (await probing).Should().BeTrue();
    }

    [Fact(Timeout = 20_000)]
    public async Task ASteadyProbe_IsMadeAgainEveryInterval_AndOnlyTheFirstChangeComesBack()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        var interval = TimeSpan.FromMilliseconds(200);
        var due = time.GetTimestamp();
        var watching = new HttpProbe("127.0.0.1", port, "/", Loop).WatchAsync(due, interval, TimeSpan.FromSeconds(2), steady: true, time, TestContext.Current.CancellationToken);

        // When each probe's connection is taken, on the loop's clock. A late accept (a busy machine) only makes it later.
        var accepted = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            accepted.Add(time.GetTimestamp());
            watching.IsCompleted.Should().BeFalse("a passing probe is made again, not given back");
            await AnswerAsync(client, i < 3 ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        }

        var result = await watching;
        result.Passed.Should().BeFalse("the fourth probe failed");
        var grid = new List<long> { due };
        for (var i = 1; i < 4; i++)
        {
            grid.Add(ProbeSchedule.Next(grid[^1], interval, time.TimestampFrequency));
        }

        result.StartedAt.Should().Be(grid[3], "each repeat is due an interval after the one before, on the grid");
        for (var i = 0; i < 4; i++)
        {
            accepted[i].Should().BeGreaterThanOrEqualTo(grid[i], $"probe {i} is made when due ({(grid[i] - due) * 1000 / time.TimestampFrequency} ms after the first), not sooner: one probe an interval");
        }

        await Task.Delay(400, TestContext.Current.CancellationToken);
        listener.Pending().Should().BeFalse("a result that changed ends the watch");
    }

    [Fact(Timeout = 20_000)]
    public async Task AWatchWhoseCallerStops_MakesNoMoreProbes()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var watching = new HttpProbe("127.0.0.1", port, "/", Loop).WatchAsync(time.GetTimestamp(), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), steady: true, time, stop.Token);
        using (var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken))
        {
            await AnswerAsync(client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }

        await stop.CancelAsync();

        await FluentActions.Awaiting(() => watching).Should().ThrowAsync<OperationCanceledException>();
        await Task.Delay(500, TestContext.Current.CancellationToken);
        listener.Pending().Should().BeFalse("the repeat was given back, never made");
    }

    [Fact(Timeout = 20_000)]
    public async Task WithNoSteadyResult_TheFirstResultComesBack()
    {
        using var listener = Listen(out var port);
        var time = Loop.Time;
        var watching = new HttpProbe("127.0.0.1", port, "/", Loop).WatchAsync(time.GetTimestamp(), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), steady: null, time, TestContext.Current.CancellationToken);
        using (var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken))
        {
            await AnswerAsync(client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }

        (await watching).Passed.Should().BeTrue();
    }

    [Fact(Timeout = 20_000)]
    public async Task OnAnotherClock_TheCallerRepeatsOnThatClock()
    {
        using var listener = Listen(out var port);
        var fake = new FakeTimeProvider();
        var watching = new HttpProbe("127.0.0.1", port, "/", Loop).WatchAsync(fake.GetTimestamp(), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), steady: true, fake, TestContext.Current.CancellationToken);
        using (var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken))
        {
            await AnswerAsync(client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }

        await Task.Delay(300, TestContext.Current.CancellationToken);
        listener.Pending().Should().BeFalse("the next probe is due two seconds on, on the fake clock");
        fake.Advance(TimeSpan.FromSeconds(2));
        using (var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken))
        {
            await AnswerAsync(client, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        }

        var result = await watching;
        result.Passed.Should().BeFalse();
        result.StartedAt.Should().Be(fake.GetTimestamp());
    }

    [Fact(Timeout = 20_000)]
    public async Task AProbeReadToItsEnd_ClosesWithAReset_LeavingNoConnectionInTimeWait()
    {
        // As python's http.server answers: the server closes first. An orderly close of the probe's side then leaves the
        // server's side in TIME_WAIT for a minute, one per probe; a reset after the answer has been read leaves none.
        using var listener = Listen(out var port);
        var time = Loop.Time;
        for (var i = 0; i < 10; i++)
        {
            var probing = new HttpProbe("127.0.0.1", port, "/", Loop).PassesAtAsync(time.GetTimestamp(), TimeSpan.FromSeconds(2), time, TestContext.Current.CancellationToken);
            using (var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken))
            {
                await AnswerAsync(client, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nok");
            }

            (await probing).Should().BeTrue("the answer is read to its end before the reset");
        }

        var waited = Stopwatch.StartNew();
        while (TimeWaitAt(port) > 0 && waited.Elapsed < TimeSpan.FromSeconds(2))
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        TimeWaitAt(port).Should().Be(0, "ten probes closed with a reset leave no connection of the server's in TIME_WAIT");
    }

    /// <summary>Connections of this port's side in TIME_WAIT (state 06 of /proc/net/tcp), over IPv4 loopback.</summary>
    private static int TimeWaitAt(int port) =>
        File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(f => f[3] == "06" && Convert.ToInt32(f[1].Split(':')[1], 16) == port);

    private static TcpListener Listen(out int port, int backlog = 16)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog);
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    /// <summary>Reads the request to its blank line, answers, and closes.</summary>
    private static async Task AnswerAsync(TcpClient client, string answer)
    {
        var stream = client.GetStream();
        _ = await HttpProbeTests.ReadRequestAsync(stream);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), TestContext.Current.CancellationToken);
        client.Close();
    }
}
