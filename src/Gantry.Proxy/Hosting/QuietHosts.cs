using Microsoft.AspNetCore.Builder;

namespace Gantry.Proxy.Hosting;

/// <summary>
/// Every web host of Gantry's processes starts here: a slim builder whose configuration files are read once, not
/// watched. ASP.NET Core's default watches the content root (the working directory) with its subdirectories for
/// changes to appsettings files; <c>gantry server</c> is usually started beside its manifest, with the data
/// directory (instances' logs, the store) under it, so every line an instance logs woke the process.
/// </summary>
public static class QuietHosts
{
    private static readonly string[] NoFileWatching = ["--hostBuilder:reloadConfigOnChange=false"];

    public static WebApplicationBuilder CreateBuilder() => WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = NoFileWatching });
}
