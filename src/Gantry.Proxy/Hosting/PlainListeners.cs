using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Hosting;

/// <summary>
/// Every cleartext listener of the router behind one Kestrel server: Kestrel binds a single endpoint, and this
/// transport accepts for it from any number of listening sockets, added and removed while it runs. A Kestrel server
/// per listener cost a host, a heartbeat thread waking every second and their memory for each service (200 services
/// at rest: 1.9% of a core and 200 threads); one server costs the same for any number.
/// Each accepted connection keeps its own local address, which the handler routes by. A listener removed stops
/// accepting, and the connections it accepted are asked to close after their request in progress.
/// </summary>
internal sealed class PlainListeners(ListenerSockets sockets) : IConnectionListenerFactory, IConnectionListenerFactorySelector, IAsyncDisposable
{
    /// <summary>The endpoint Kestrel is told to bind; the sockets themselves are this class's.</summary>
    public static IPEndPoint Placeholder { get; } = new(IPAddress.Loopback, 0);

    private readonly Channel<(Socket Socket, Accepting From)> accepted = Channel.CreateUnbounded<(Socket Socket, Accepting From)>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentDictionary<Endpoint, Accepting> listening = new();

    public IEnumerable<Endpoint> Addresses => listening.Keys;

    public bool Has(Endpoint address) => listening.ContainsKey(address);

    /// <summary>Listens on <paramref name="address"/> (its inherited socket if a predecessor left one); throws when it cannot bind.</summary>
    public void Add(Endpoint address)
    {
        var socket = sockets.Bind(address);
        try
        {
            socket.Listen(1024);
        }
        catch
        {
            sockets.Release(address, socket);
            throw;
        }

        var accepting = new Accepting(socket);
        listening[address] = accepting;
        accepting.Loop = AcceptLoopAsync(accepting);
    }

    /// <summary>Stops accepting on <paramref name="address"/> and asks its connections to close once their request is answered.</summary>
    public async Task RemoveAsync(Endpoint address)
    {
        if (!listening.TryRemove(address, out var accepting))
        {
            return;
        }

        await accepting.StopAsync();
        sockets.Release(address, accepting.Socket);
        foreach (var connection in accepting.Connections.Keys)
        {
            connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(new Listener(this));

    public async ValueTask DisposeAsync()
    {
        foreach (var address in listening.Keys.ToList())
        {
            await RemoveAsync(address);
        }

        accepted.Writer.TryComplete();
        while (accepted.Reader.TryRead(out var waiting))
        {
            waiting.Socket.Dispose();
        }
    }

    private async Task AcceptLoopAsync(Accepting accepting)
    {
        while (!accepting.Stopping.IsCancellationRequested)
        {
            try
            {
                var socket = await accepting.Socket.AcceptAsync(accepting.Stopping.Token);
                socket.NoDelay = true;
                if (!accepted.Writer.TryWrite((socket, accepting)))
                {
                    socket.Dispose();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // A client that gave up while waiting in the backlog: take the next one.
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    /// <summary>A connection counted under the listener that accepted it until it closes.</summary>
    private static void Track(Accepting accepting, ConnectionContext connection)
    {
        accepting.Connections[connection] = 0;
        connection.ConnectionClosed.Register(() => accepting.Connections.TryRemove(connection, out _));
    }

    /// <summary>One listening socket and the loop accepting from it.</summary>
    private sealed class Accepting(Socket socket)
    {
        public Socket Socket { get; } = socket;

        private readonly Lock gate = new();
        private Task? stopped;

        public CancellationTokenSource Stopping { get; } = new();

        public Task Loop { get; set; } = Task.CompletedTask;

        public ConcurrentDictionary<ConnectionContext, byte> Connections { get; } = new();

        /// <summary>Stops the accepting loop (once, however often asked); the socket stays open for its owner to release.</summary>
        public Task StopAsync()
        {
            lock (gate)
            {
                return stopped ??= StopOnceAsync();
            }
        }

        private async Task StopOnceAsync()
        {
            await Stopping.CancelAsync();
            await Loop;
            Stopping.Dispose();
        }
    }

    /// <summary>What Kestrel accepts from: connections from every listening socket, in the order they came.</summary>
    private sealed class Listener(PlainListeners owner) : IConnectionListener
    {
        // Kestrel's I/O queues, as its own transport has them (bench/README.md, "Inline socket completions").
        private readonly SocketConnectionContextFactory connections = new(new SocketConnectionFactoryOptions(), NullLogger.Instance);
        private readonly CancellationTokenSource unbound = new();

        public EndPoint EndPoint => Placeholder;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, unbound.Token);
            try
            {
                var (socket, from) = await owner.accepted.Reader.ReadAsync(linked.Token);
                var connection = connections.Create(socket);
                Track(from, connection);
                return connection;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                return null;
            }
        }

        /// <summary>Kestrel stops accepting (the router stops listening, as when it hands over to a successor): every socket stops.</summary>
        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await unbound.CancelAsync();
            foreach (var accepting in owner.listening.Values)
            {
                await accepting.StopAsync();
            }
        }

        public ValueTask DisposeAsync()
        {
            unbound.Cancel();
            connections.Dispose();
            unbound.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
