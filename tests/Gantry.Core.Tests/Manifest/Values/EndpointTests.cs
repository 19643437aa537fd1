using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Tests.Manifest.Values;

public sealed class EndpointTests
{
    [Theory(Timeout = 5_000)]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080)]
    [InlineData("localhost:1", "localhost", 1)]
    [InlineData("[::1]:65535", "::1", 65535)]
    [InlineData("my-host.internal:443", "my-host.internal", 443)]
    public void TryParse_Valid_GivesHostAndPort(string text, string host, int port)
    {
        Endpoint.TryParse(text, out var endpoint).Should().BeNull();
        endpoint.Should().Be(new Endpoint(host, port));
        endpoint!.ToString().Should().Be(text);
    }

    [Theory(Timeout = 5_000)]
    [InlineData("8080", 0)]
    [InlineData("127.0.0.1:0", 10)]
    [InlineData("127.0.0.1:port", 10)]
    [InlineData("[::1:80", 0)]
    [InlineData("[zz]:80", 1)]
    [InlineData("::1:80", 0)]
    [InlineData("bad_host:80", 0)]
    public void TryParse_Invalid_ReportsWhere(string text, int offset)
    {
        Endpoint.TryParse(text, out var endpoint)!.Offset.Should().Be(offset);
        endpoint.Should().BeNull();
    }

    [Theory(Timeout = 5_000)]
    [InlineData(1, 10, true, 1)]
    [InlineData(25, 10, true, 3)]
    [InlineData(25, 10, false, 2)]
    public void CountOrPercent_Resolve_RoundsLikeKubernetes(int value, int total, bool roundUp, int expected)
    {
        var quantity = value == 1 ? CountOrPercent.FromCount(1) : CountOrPercent.FromShare(new Percentage(value));
        quantity.Resolve(total, roundUp).Should().Be(expected);
    }
}
