namespace Gantry.Tests;

public sealed class RuntimeTuningTests
{
    private static readonly Func<string, string?> Unset = _ => null;

    [Fact(Timeout = 10_000)]
    public void Server_StopsTheThreadPoolSpinning_AndTheRouterKeepsIt()
    {
        RuntimeTuning.For(["server", "-f", "gantry.yaml"], Unset).Should().Equal(
            new RuntimeTuning.Setting(RuntimeTuning.Kind.AppContext, "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", "0"));
        RuntimeTuning.For(["router", "--data", "d"], Unset).Should().Equal(
            new RuntimeTuning.Setting(RuntimeTuning.Kind.Environment, "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1"));
    }

    [Fact(Timeout = 10_000)]
    public void ShortCommands_AreLeftAsTheRuntimeStarts()
    {
        foreach (var args in new[] { new[] { "status", "shop" }, ["deploy", "shop", "--version", "2"], ["--version"], [], ["demo"] })
        {
            RuntimeTuning.For(args, Unset).Should().BeEmpty(string.Join(' ', args));
        }
    }

    [Fact(Timeout = 10_000)]
    public void ValuesTheUserSet_Win()
    {
        var set = new Dictionary<string, string> { ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "50", ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "0" };
        RuntimeTuning.For(["server"], set.GetValueOrDefault).Should().BeEmpty();
        RuntimeTuning.For(["router"], set.GetValueOrDefault).Should().BeEmpty();
    }
}
