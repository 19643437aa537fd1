using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Hosting;

/// <summary>
/// Kestrel's transport for the router's listeners: accepts from a socket <see cref="ListenerSockets"/> owns, and
/// hands each accepted connection to Kestrel's own socket connection factory. Kestrel's transport would close the
/// listening socket when it stops, and an abortive close of a socket another process shares stops it listening for
/// both; here stopping only cancels the pending accept, and the socket is closed only when no successor holds it.
/// </summary>
internal sealed class SharedSocketTransport(ListenerSockets sockets, Endpoint address) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = sockets.Bind(address);
        socket.Listen(1024);
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, sockets, address));
    }

    private sealed class Listener(Socket socket, ListenerSockets sockets, Endpoint address) : IConnectionListener
    {
        // Kestrel's I/O queues, as its own transport has them: running requests inline on the event loop as well was
        // measured slower here (bench/README.md, "Inline socket completions").
        private readonly SocketConnectionContextFactory connections = new(new SocketConnectionFactoryOptions(), NullLogger.Instance);
        private readonly CancellationTokenSource unbound = new();

        public EndPoint EndPoint => socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, unbound.Token);
            while (true)
            {
                try
                {
                    var accepted = await socket.AcceptAsync(linked.Token);
                    accepted.NoDelay = true;
                    return connections.Create(accepted);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
                {
                    // A client that gave up while waiting in the backlog: take the next one.
                }
                catch (ObjectDisposedException)
                {
                    return null;
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            unbound.Cancel();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            unbound.Cancel();
            sockets.Release(address, socket);
            connections.Dispose();
            unbound.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
