using System.Diagnostics;
using System.Text.Json;
using Gantry.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Gantry.Tests.Dashboard;

/// <summary>
/// Debian's Chromium, headless, driven by Debian's chromedriver (given by path: nothing is downloaded), in its own
/// profile folder. Waits look at the page in a loop and, when they give up, say what the page showed and what its
/// console said. Screenshots are of the whole page, kept under <c>artifacts/dashboard</c>.
/// </summary>
public sealed class ChromiumSession : IDisposable
{
    private readonly string profile = Directory.CreateTempSubdirectory("gantry-chromium-").FullName;

    public ChromiumSession()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Binary };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--window-size=1280,900", $"--user-data-dir={profile}");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        Web = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Web.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(60);
    }

    /// <summary>The browser itself: the package's binary, not its wrapper script.</summary>
    public static string Binary => File.Exists("/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : RealBinaries.Find("chromium") ?? "chromium";

    /// <summary>Lays the page out at a width as a device of that width would (a phone's at 390 px: no scrollbar taking room).</summary>
    public void Width(int width) => Web.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
    {
        ["width"] = width, ["height"] = 900, ["deviceScaleFactor"] = 1, ["mobile"] = width < 600,
    });

    public static string Driver => RealBinaries.Find("chromedriver") ?? "/usr/bin/chromedriver";

    public ChromeDriver Web { get; }

    /// <summary>Where screenshots go: artifacts/dashboard in the repository.</summary>
    public static string Artifacts { get; } = Directory.CreateDirectory(Path.Combine(RepoPaths.Root, "artifacts", "dashboard")).FullName;

    public object? Js(string script, params object[] args) => Web.ExecuteScript(script, args);

    /// <summary>
    /// The text the page shows in the first element matching <paramref name="css"/>, read in one script, so a view drawn
    /// again between finding the element and reading it cannot make the read fail ("(none)" when nothing matches).
    /// </summary>
    public string Text(string css) => Js("const e = document.querySelector(arguments[0]); return e ? e.innerText : '(none)'", css) as string ?? "(none)";

    public T Js<T>(string script, params object[] args) => (T)Convert.ChangeType(Web.ExecuteScript(script, args)!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Opens the dashboard (or stays on the page when <paramref name="server"/> is null) and signs in with <paramref name="token"/>, typed into the form as a person would.</summary>
    public async Task SignInAsync(Uri? server, string token)
    {
        if (server is not null)
        {
            Web.Navigate().GoToUrl(server);
        }

        var input = await FindAsync("#token");
        input.Clear();
        input.SendKeys(token);
        input.Submit();
        await UntilAsync(() => Js<bool>("return !document.getElementById('nav').hidden && document.querySelector('[data-stream=live]') !== null"), "signed in with the event stream live");
    }

    /// <summary>
    /// Signs out from the session bar, and checks that the sign-in form, once shown, stays as drawn: nothing of the
    /// session that ended (a view still loading, one due to be drawn again for its events) draws the page again.
    /// </summary>
    public async Task SignOutAsync()
    {
        await ClickAsync("#session button");
        var form = await FindAsync("#token");
        // Longer than the page waits before it draws a view again for the events that bear on it (250 ms).
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        bool kept;
        try
        {
            kept = Js<bool>("return arguments[0].isConnected && document.querySelector('main').dataset.view === 'signin'", form);
        }
        catch (StaleElementReferenceException)
        {
            kept = false;
        }

        kept.Should().BeTrue("the sign-in form is not drawn again, nor covered by the last session's view, after signing out");
    }

    public async Task<IWebElement> FindAsync(string css, TimeSpan? timeout = null)
    {
        IWebElement? found = null;
        await UntilAsync(() => (found = Web.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed)) is not null, $"an element '{css}' is shown", timeout);
        return found!;
    }

    /// <summary>Clicks the first shown element matching <paramref name="css"/>, finding it again if the page was drawn again under it.</summary>
    public Task ClickAsync(string css) => UntilAsync(() =>
    {
        var element = Web.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed);
        element?.Click();
        return element is not null;
    }, $"'{css}' clicked");

    /// <summary>Clicks a command button and confirms it in its dialog, with <paramref name="reason"/> typed in when given.</summary>
    public async Task ActAsync(string action, string? reason = null, bool keyboard = false)
    {
        // The page may be drawn again between finding the button and pressing it (a live event): find it again then.
        await UntilAsync(() =>
        {
            var button = Web.FindElements(By.CssSelector($"main [data-action='{action}']")).FirstOrDefault(e => e.Displayed);
            if (button is null)
            {
                return false;
            }

            if (keyboard)
            {
                // As from the keyboard: Enter on the focused button.
                Js("arguments[0].focus()", button);
                Web.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
            }
            else
            {
                button.Click();
            }

            return Web.FindElements(By.CssSelector("dialog[open]")).Count > 0;
        }, $"the {action} dialog opened");

        if (keyboard)
        {
            // The reason typed where the dialog put the focus, then Enter on confirm.
            await UntilAsync(() => Js<bool>("return document.activeElement?.closest('dialog[open]') !== null"), "the dialog has the focus");
            if (reason is not null)
            {
                Web.SwitchTo().ActiveElement().SendKeys(reason);
            }

            Js("document.querySelector('dialog[open] [data-confirm]').focus()");
            Web.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
        }
        else
        {
            if (reason is not null)
            {
                (await FindAsync("dialog[open] textarea")).SendKeys(reason);
            }

            (await FindAsync("dialog[open] [data-confirm]")).Click();
        }

        await UntilAsync(() => Web.FindElements(By.CssSelector("dialog[open]")).Count == 0,
            $"the {action} dialog closed (refusal shown: '{Js("return document.querySelector('dialog[open] .error')?.textContent ?? ''")}')");
    }

    public async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (WebDriverException) when (watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(45)))
            {
                // The page was being drawn again under the look; look again.
            }
            catch (NullReferenceException) when (watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(45)))
            {
                // Not there yet.
            }

            if (watch.Elapsed > (timeout ?? TimeSpan.FromSeconds(45)))
            {
                throw new TimeoutException($"waited {watch.Elapsed.TotalSeconds:0.0} s for: {what}\n{Diagnostics()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>What the page shows and what its console said: for a failed wait.</summary>
    public string Diagnostics()
    {
        var text = Web.FindElements(By.TagName("main")).FirstOrDefault()?.Text ?? "(no main)";
        var log = string.Join("\n", Web.Manage().Logs.GetLog(LogType.Browser).Select(l => $"{l.Level}: {l.Message}"));
        return $"url {Web.Url}\npage:\n{text}\nconsole:\n{log}";
    }

    /// <summary>axe-core's serious and critical violations on the page as it is (none is the goal), as lines.</summary>
    public IReadOnlyList<string> AxeViolations()
    {
        if (!Js<bool>("return typeof window.axe === 'object'"))
        {
            Js(AxeScript.Value);
        }

        var json = (string?)Web.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(r => done(JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; ')}`))))
              .catch(e => done(JSON.stringify(['axe failed: ' + e])));
            """);
        return JsonSerializer.Deserialize<List<string>>(json ?? "[\"axe returned nothing\"]")!;
    }

    private static readonly Lazy<string> AxeScript = new(() =>
    {
        using var stream = typeof(Deque.AxeCore.Commons.AxeResult).Assembly.GetManifestResourceStream("Deque.AxeCore.Commons.Resources.axe.min.js")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The whole page at a width, as PNG under artifacts/dashboard/NAME-WIDTH.png; the window stays at that width.</summary>
    public string Screenshot(string name, int width)
    {
        Width(width);
        Thread.Sleep(150);
        var shot = Web.ExecuteCdpCommand("Page.captureScreenshot", new Dictionary<string, object?> { ["format"] = "png", ["captureBeyondViewport"] = true });
        var data = (string)((Dictionary<string, object>)shot!)["data"];
        var path = Path.Combine(Artifacts, $"{name}-{width}.png");
        File.WriteAllBytes(path, Convert.FromBase64String(data));
        return path;
    }

    public void Dispose()
    {
        Web.Quit();
        Web.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it ends; a temp folder left behind is harmless.
        }
    }
}
