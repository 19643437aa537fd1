using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Dashboard;

/// <summary>
/// A real <c>gantry server</c> for the dashboard's tests, its data in a temp folder, with helpers to make tokens,
/// deploy as someone and read a rollout; and the checks every view gets: axe-core finds no serious or critical
/// violation, and screenshots at 1280 and 390 px are kept.
/// </summary>
public sealed class DashboardFixture : IAsyncDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-dashboard-").FullName;

    private DashboardFixture(int listen) => Listen = listen;

    public ServerProcess Server { get; private set; } = null!;

    public int Listen { get; }

    public Uri Address => Server.Api.BaseAddress!;

    public string Manifest => Path.Combine(folder, "gantry.yaml");

    /// <summary>Starts a server on a manifest; <c>{{LISTEN}}</c> in it is the service's front door.</summary>
    public static async Task<DashboardFixture> StartAsync(string manifest)
    {
        var fixture = new DashboardFixture(FreePort.Next());
        await File.WriteAllTextAsync(fixture.Manifest, manifest.Replace("{{LISTEN}}", fixture.Listen.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        fixture.Server = new ServerProcess(Path.Combine(fixture.folder, "data"), FreePort.Next());
        await fixture.Server.StartAsync(fixture.Manifest);
        return fixture;
    }

    public async Task<string> TokenAsync(string identity, string[] roles, string[]? groups = null)
    {
        using var answer = await Server.Api.PostAsJsonAsync("/api/v1/tokens", new TokenRequest(identity, roles, groups), GantryJson.Options);
        answer.EnsureSuccessStatusCode();
        return (await answer.Content.ReadFromJsonAsync<CreatedToken>(GantryJson.Options))!.Secret;
    }

    /// <summary>A deploy through the API as the holder of <paramref name="token"/> (the admin when null).</summary>
    public async Task<string> DeployAsync(DeployRequest request, string? token = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/api/v1/rollouts") { Content = JsonContent.Create(request, options: GantryJson.Options) };
        if (token is not null)
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using var answer = await Server.Api.SendAsync(message);
        var body = await answer.Content.ReadAsStringAsync();
        if (!answer.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"deploy {request.Version}: {(int)answer.StatusCode} {body}");
        }

        return System.Text.Json.JsonSerializer.Deserialize<RolloutView>(body, GantryJson.Options)!.Rollout.Id;
    }

    public async Task<RolloutState> RolloutAsync(string id) => (await Server.Api.GetFromJsonAsync<RolloutView>($"/api/v1/rollouts/{id}", GantryJson.Options))!.Rollout;

    public async Task PostAsync(string path, object body)
    {
        using var answer = await Server.Api.PostAsJsonAsync(path, body, GantryJson.Options);
        if (!answer.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Every view gets these: no serious or critical axe-core violation, and screenshots at 1280 and 390 px.</summary>
    public static void Check(ChromiumSession browser, string view)
    {
        foreach (var width in new[] { 390, 1280 })
        {
            browser.Screenshot(view, width);
            browser.AxeViolations().Should().BeEmpty($"axe-core on the {view} view at {width} px");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        Directory.Delete(folder, recursive: true);
    }
}
