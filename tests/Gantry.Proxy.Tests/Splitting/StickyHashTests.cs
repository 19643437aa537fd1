using Gantry.Proxy.Splitting;

namespace Gantry.Proxy.Tests.Splitting;

/// <summary>
/// The point of a sticky key: spread evenly over [0, 1), so a weight gives its share of users, and the same in every
/// process and version, so a router restarted or upgraded keeps every user on its side.
/// </summary>
public sealed class StickyHashTests
{
    private const int Timeout = 10_000;

    [Fact(Timeout = Timeout)]
    public void Points_OfCookiesLikeTheRoutersOwn_FillEachShareOfTheLine()
    {
        // 20,000 cookie values as the router makes them (32 hex digits), from a fixed seed.
        var random = new Random(20261203);
        var points = Enumerable.Range(0, 20_000).Select(_ => StickyHash.PointOf(Convert.ToHexStringLower(Bytes(random)))).ToList();

        points.Should().OnlyContain(p => p >= 0 && p < 1);
        foreach (var weight in new[] { 1, 10, 25, 50, 90 })
        {
            var share = points.Count(p => p < weight / 100.0) / (double)points.Count;
            share.Should().BeApproximately(weight / 100.0, 0.01, "a weight of {0}% gives about {0}% of users", weight);
        }
    }

    [Fact(Timeout = Timeout)]
    public void Points_OfKeysThatDifferInOneCharacter_AreFarApart()
    {
        // Users numbered in order must not fall on one side together.
        var points = Enumerable.Range(0, 1_000).Select(i => StickyHash.PointOf($"user-{i}")).ToList();
        points.Count(p => p < 0.5).Should().BeInRange(450, 550);
        points.Zip(points.Skip(1)).Count(pair => Math.Abs(pair.First - pair.Second) < 0.01).Should().BeLessThan(40);
    }

    [Fact(Timeout = Timeout)]
    public void Points_StayTheSameAcrossVersions()
    {
        // Pinned: a change of the hash would move users between the stable and the canary at an upgrade.
        StickyHash.PointOf("user-1").Should().Be(0.7679704410612723);
        StickyHash.PointOf("9f86d081884c7d659a2feaa0c55ad015").Should().Be(0.08679072182219094);
        StickyHash.PointOf(new string('x', 300)).Should().Be(StickyHash.PointOf(new string('x', 300)), "a key longer than the stack buffer hashes the same way each time");
    }

    private static byte[] Bytes(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return bytes;
    }
}
