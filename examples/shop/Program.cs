using System.Text.Json.Serialization;
using Shop;

if (args is ["migrate", ..])
{
    // A stand-in for a schema migration, run as a job before a release starts (gantry's preDeploy hook): it says
    // what it would do, and fails as a real one would when MIGRATION_FAILS holds the error.
    Console.WriteLine($"migrating the shop's schema to {Environment.GetEnvironmentVariable("GANTRY_VERSION") ?? "an unknown version"}");
    if (Environment.GetEnvironmentVariable("MIGRATION_FAILS") is { Length: > 0 } error)
    {
        await Console.Error.WriteLineAsync($"ERROR: {error}");
        return 3;
    }

    Console.WriteLine("schema up to date");
    return 0;
}

FaultSettings settings;
try
{
    settings = FaultSettings.FromEnvironment(Environment.GetEnvironmentVariable);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("shop: " + ex.Message);
    return 2;
}

if (settings.AllocateMb > 0)
{
    // A memory leak at start: native memory, every page touched, so that a memory limit is met by the kernel (an
    // out-of-memory kill), not by the garbage collector's own limit.
    MemoryHog.Take(settings.AllocateMb);
}

if (settings.StartupDelayMs > 0)
{
    // A slow start: nothing listens until the delay is over, as with a real service warming up.
    await Task.Delay(settings.StartupDelayMs);
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ShopJson.Default));
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton<FaultInjector>();
var app = builder.Build();
var faults = app.Services.GetRequiredService<FaultInjector>();
var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
var items = new[]
{
    new Item(1, "Gantry crane", 1_250_000m),
    new Item(2, "Shipping container", 3_400m),
    new Item(3, "Forklift", 28_900m),
};

// Application endpoints carry the faults; health and version endpoints do not.
async Task<IResult> Faulty(HttpContext context, Func<IResult> answer)
{
    var number = faults.Count();
    if (faults.IsLastBeforeCrash(number))
    {
        context.Response.OnCompleted(() =>
        {
            // A moment for the answer to reach the client: an exit at once resets the connection under it.
            _ = Task.Run(async () =>
            {
                await Task.Delay(200);
                Environment.Exit(70);
            });
            return Task.CompletedTask;
        });
    }

    var delay = faults.Delay();
    if (delay > TimeSpan.Zero)
    {
        await Task.Delay(delay, context.RequestAborted);
    }

    context.Response.Headers["X-App-Version"] = settings.Version;
    return faults.ShouldFail()
        ? Results.Text("injected fault\n", "text/plain", statusCode: StatusCodes.Status500InternalServerError)
        : answer();
}

app.MapGet("/", (Func<HttpContext, Task<IResult>>)(c => Faulty(c, () => Results.Json(new Hello("shop", settings.Version), ShopJson.Default.Hello))));
app.MapGet("/api/items", (Func<HttpContext, Task<IResult>>)(c => Faulty(c, () => Results.Json(new ItemList(settings.Version, items), ShopJson.Default.ItemList))));
app.MapGet("/version", () => Results.Text(settings.Version + "\n"));

// Whether the payment key reached the instance, as an environment variable or (in a container) a file named by
// SHOP_PAYMENT_KEY_FILE: its SHA-256, never the key itself.
app.MapGet("/payment-key", () =>
{
    var key = Environment.GetEnvironmentVariable("SHOP_PAYMENT_KEY")
        ?? (Environment.GetEnvironmentVariable("SHOP_PAYMENT_KEY_FILE") is { Length: > 0 } file && File.Exists(file) ? File.ReadAllText(file) : null);
    return key is null
        ? Results.Text("none\n", statusCode: StatusCodes.Status404NotFound)
        : Results.Text("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))) + "\n");
});
app.MapGet("/health", () => Results.Text("ok\n"));
app.MapGet("/health/ready", () => settings.Ready
    ? Results.Text("ready\n")
    : Results.Text("not ready\n", statusCode: StatusCodes.Status503ServiceUnavailable));

lifetime.ApplicationStarted.Register(() => Console.WriteLine($"shop {settings.Version} listening on {string.Join(", ", app.Urls)}"));
lifetime.ApplicationStopping.Register(() => Console.WriteLine($"shop {settings.Version} stopping"));
lifetime.ApplicationStopped.Register(() => Console.Out.Flush());
await app.RunAsync();
return 0;

internal sealed record Hello(string Service, string Version);

internal sealed record Item(int Id, string Name, decimal Price);

internal sealed record ItemList(string Version, Item[] Items);

[JsonSerializable(typeof(Hello))]
[JsonSerializable(typeof(ItemList))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ShopJson : JsonSerializerContext;
