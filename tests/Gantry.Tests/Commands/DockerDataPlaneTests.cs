using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>Containers outlive the control plane too: <c>gantry server</c> SIGKILLed under load and started again keeps the same containers.</summary>
public sealed class DockerDataPlaneTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-docker-dp-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task ServerKilled_UnderLoad_TheContainersAreAdoptedWithTheirIdsAndNoRequestFails()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        await daemon.BuildShopImagesAsync("1.0");
        var listen = FreePort.Next();
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                docker:
                  image: "gantry-shop:{version}"
                  args: [--urls, "http://127.0.0.1:{port}"]
                  env: { APP_VERSION: "{version}" }
                listen: 127.0.0.1:{{listen}}
                replicas: 2
                health:
                  startup:   { path: /health, interval: 300ms, failureThreshold: 100 }
                  readiness: { path: /health/ready, interval: 200ms }
            """);
        var server = new ServerProcess(Path.Combine(folder, "data"), FreePort.Next(), new Dictionary<string, string> { ["DOCKER_HOST"] = daemon.Host });
        await using (server)
        {
            await server.StartAsync(manifest);
            await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
            var before = await ContainersAsync(daemon);
            before.Should().HaveCount(2);
            await using var load = new SteadyLoad(new Uri($"http://127.0.0.1:{listen}/"));

            await server.StopAsync(kill: true);
            var during = load.Requests;
            await Task.Delay(TimeSpan.FromSeconds(3));
            (load.Requests - during).Should().BeGreaterThan(50, "the containers and the router serve without the server");
            await server.StartAsync(manifest);
            await Task.Delay(TimeSpan.FromSeconds(2));

            (await ContainersAsync(daemon)).Should().Equal(before, "the restarted server adopts the same containers");
            load.Errors.Should().BeEmpty();
        }

        (await ContainersAsync(daemon)).Should().BeEmpty("gantry down removes the containers a server left");
    }

    [Fact(Timeout = 60_000)]
    public async Task Server_WithAnEngineOutOfReach_IsOneLine_AndStartsNothing()
    {
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                docker: { image: "gantry-shop:{version}", args: [--urls, "http://127.0.0.1:{port}"] }
                listen: 127.0.0.1:{{FreePort.Next()}}
                health: { readiness: { path: /health/ready } }
            """);
        var data = Path.Combine(folder, "data");

        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--data", data, "--listen", $"127.0.0.1:{FreePort.Next()}"],
            TimeSpan.FromSeconds(40), new Dictionary<string, string> { ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock" });

        result.ExitCode.Should().NotBe(0);
        result.Stderr.Trim().Should().Be("gantry: the Docker engine at unix:///nonexistent/docker.sock cannot be reached (nothing at /nonexistent/docker.sock); set DOCKER_HOST or start dockerd");
        File.Exists(Path.Combine(data, "router", "router.pid")).Should().BeFalse("no router was started");
        Directory.Exists(Path.Combine(data, "instances")).Should().BeFalse("no instance was started");
    }

    private static async Task<List<string>> ContainersAsync(DockerDaemon daemon)
    {
        var listed = await daemon.DockerAsync(["ps", "-a", "--filter", "label=org.gantry.service=shop", "--format", "{{.ID}}"]);
        return [.. listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order()];
    }
}
