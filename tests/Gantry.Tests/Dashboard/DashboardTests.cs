using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;
using OpenQA.Selenium;

namespace Gantry.Tests.Dashboard;

/// <summary>
/// The web dashboard end to end in Debian's headless Chromium against a real <c>gantry server</c>: a canary moves
/// on the page without a reload and is promoted from it, the page follows the server through a restart, a canary
/// aborted by analysis shows why with its failing chart, a second user approves from the inbox, a viewer sees no
/// command and a forged one is refused, text holding HTML is shown as text; every view passes axe-core and is
/// photographed at 1280 and 390 px.
/// </summary>
public sealed class DashboardTests
{
    private static string Shop(string strategy, string more = "") => $$"""
        version: 1
        services:
          shop:
            {{SampleService.Process(4)}}
            listen: 127.0.0.1:{{"{{LISTEN}}"}}
            replicas: 1
            health:
              startup: { path: /health, interval: 100ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 200ms }
            progressDeadline: 1m
            strategy:
              {{strategy}}
        {{more}}
        """;

    [RequiresBinaryFact("chromedriver", "chromium-driver", Timeout = 300_000)]
    public async Task Canary_MovesLiveOnThePage_IsPromotedFromIt_AndThePageFollowsAServerRestart()
    {
        await using var fixture = await DashboardFixture.StartAsync(Shop("canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }] }"));
        await fixture.Server.WaitForAsync(await fixture.DeployAsync(new DeployRequest("shop", "1.0")), RolloutPhase.Succeeded);
        using var browser = new ChromiumSession();
        var token = fixture.Server.AdminToken;
        await browser.SignInAsync(fixture.Address, token);
        browser.Web.Url.Should().NotContain(token, "a token never goes into a URL");
        var row = "tr[data-service=shop][data-environment=default] [data-split]";
        await browser.UntilAsync(() => browser.Js<string>($"return document.querySelector('{row}')?.dataset.split ?? ''") == "stable:100", "the overview shows 1.0 taking all traffic");
        browser.Js("window.samePage = 'not reloaded'");

        // A canary deployed elsewhere (here through the API) appears on the open page by the event stream alone.
        var id = await fixture.DeployAsync(new DeployRequest("shop", "2.0"));
        await browser.UntilAsync(() => browser.Js<string>($"return document.querySelector('{row}')?.dataset.split ?? ''") == "stable:80,canary:20", "the overview's split bar moved to 80/20 without a reload");
        await browser.UntilAsync(() => browser.Web.FindElements(By.CssSelector($"main .inbox li[data-rollout='{id}']")).Count == 1, "the paused canary is listed under 'needs attention'");
        DashboardFixture.Check(browser, "overview");

        await browser.ClickAsync($"a[href='#/rollout/{id}']");
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('.steps [aria-current=step]')?.textContent ?? ''").Contains("pause until promoted", StringComparison.Ordinal)
            || browser.Js<string>("return document.querySelector('.steps [aria-current=step]')?.textContent ?? ''").Contains("pause", StringComparison.Ordinal), "the rollout view marks the pause as the current step");

        // Promote from the page: confirmed in a dialog, and the split and steps move on the same page.
        await browser.ActAsync("promote", keyboard: true);
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main [data-split]')?.dataset.split ?? ''") == "stable:50,canary:50", "the split bar shows 50/50 after promoting from the page");
        await browser.UntilAsync(() => browser.Js<long>("return [...document.querySelectorAll('.steps li')].findIndex(li => li.getAttribute('aria-current') === 'step')") == 3, "step 4 is the current one");
        (await fixture.RolloutAsync(id)).Step.Should().Be(3);
        DashboardFixture.Check(browser, "rollout");

        // The server stops and starts again (the data plane keeps serving); the page says it is reconnecting, then
        // picks the stream up where it left it: a promotion made right after the restart reaches the open page.
        await fixture.Server.StopAsync(kill: false);
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('[data-stream]').dataset.stream") == "reconnecting", "the page noticed the server went away");
        await fixture.Server.StartAsync(fixture.Manifest);
        await fixture.PostAsync($"/api/v1/rollouts/{id}/promote", new CommandRequest("from the API", Full: true));
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main .status [data-phase]')?.dataset.phase ?? ''") == "succeeded", "the page shows the rollout succeeded after the restart", TimeSpan.FromSeconds(60));
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main [data-split]')?.dataset.split ?? ''") == "stable:100", "2.0 takes all traffic on the page");
        browser.Js<string>("return document.querySelector('[data-stream]').dataset.stream").Should().Be("live");
        browser.Js<string>("return window.samePage ?? 'reloaded'").Should().Be("not reloaded", "every change reached the page without a reload");

        // Roll back from the page: the dialog asks for a reason, and the page moves to the rollback's own rollout.
        await browser.ActAsync("rollback", "back to 1.0 from the dashboard");
        await browser.UntilAsync(() => browser.Web.Url.EndsWith("#/rollout/shop-default-3", StringComparison.Ordinal), "the page shows the rollback");
        // The promoted rollout's page also showed stable:100 and succeeded: the rollback's page is known by its crumbs.
        await browser.UntilAsync(() => browser.Text("main .crumbs").EndsWith("shop-default-3", StringComparison.Ordinal)
            && browser.Js<string>("return document.querySelector('main [data-split]')?.dataset.split ?? ''") == "stable:100"
            && browser.Js<string>("return document.querySelector('main .status [data-phase]')?.dataset.phase ?? ''") == "succeeded", "the rollback succeeded on the page");
        var rollback = await fixture.RolloutAsync("shop-default-3");
        (rollback.Kind, rollback.Release.Version).Should().Be((RolloutKind.Rollback, "1.0"));
        browser.Text("main .timeline").Should().Contain("back to 1.0 from the dashboard");

        browser.Js("location.hash = '#/service/shop'");
        browser.Web.Navigate().Refresh();
        await browser.FindAsync("#token");
        browser.Js<string>("return document.querySelector('main').dataset.view").Should().Be("signin", "a reload signs out: the token lived in the page's memory only");
        await browser.SignInAsync(null, token);
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main').dataset.view ?? ''") == "service", "the service history is shown");
        browser.Text("main").Should().Contain(id).And.Contain("shop-default-1").And.Contain("shop-default-3");
        DashboardFixture.Check(browser, "service");

        using var page = await fixture.Server.Api.GetAsync(new Uri("/", UriKind.Relative));
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        policy.Should().Contain("script-src 'self'").And.Contain("frame-ancestors 'none'").And.NotContain("unsafe-inline").And.NotContain("http");
    }

    [RequiresBinaryFact("chromedriver", "chromium-driver", Timeout = 300_000)]
    public async Task FaultyCanary_AbortedByAnalysis_ShowsTheReasonAndTheFailingChart_AndTheOtherViewsWork()
    {
        await using var fixture = await DashboardFixture.StartAsync(Shop("canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [errors] } }, { setWeight: 100 }] }", """
            analysis:
              errors:
                interval: 1s
                count: 6
                failureLimit: 0
                inconclusiveLimit: 3
                metrics:
                  - name: error-rate
                    provider: { builtin: { query: error_rate } }
                    failWhen: "> 5%"
            gates:
              release:
                categories:
                  tests:
                    criteria:
                      - { measure: failed, failWhen: "> 0", blocking: true }
                      - { measure: total, failWhen: "== 0", key: true }
                  coverage:
                    criteria:
                      - { measure: lines, warnWhen: "< 80%" }
            """));
        await fixture.Server.WaitForAsync(await fixture.DeployAsync(new DeployRequest("shop", "1.0")), RolloutPhase.Succeeded);
        string id;
        await using (var load = new SteadyLoad(new Uri($"http://127.0.0.1:{fixture.Listen}/")))
        {
            id = await fixture.DeployAsync(new DeployRequest("shop", "2.0", Set: new Dictionary<string, string> { ["FAULT_ERROR_RATE"] = "0.5" }));
            await fixture.Server.WaitForAsync(id, RolloutPhase.Aborted);
        }

        using var browser = new ChromiumSession();
        var token = fixture.Server.AdminToken;
        await browser.SignInAsync(new Uri(fixture.Address, $"/#/rollout/{id}"), token);
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main .status [data-phase]')?.dataset.phase ?? ''") == "aborted", "the rollout shows as aborted");
        var reason = (await fixture.RolloutAsync(id)).Message;
        reason.Should().Contain("error-rate");
        browser.Text("main .status").Should().Contain(reason, "the page says why it was aborted, in the server's words");
        var failing = "main .metric[data-metric='error-rate'][data-phase='failed']";
        browser.Js<long>($"return document.querySelectorAll(\"{failing} svg circle.failed\").length").Should().BeGreaterThan(0, "the chart marks the failed measurements");
        browser.Js<string>($"return document.querySelector(\"{failing} svg\").getAttribute('aria-label')").Should().StartWith("error-rate: failed. canary: ");
        browser.Text(failing).Should().Contain("error-rate: failed").And.Contain("exceeds 5%", "the verdict sentence is under the chart");
        DashboardFixture.Check(browser, "rollout-aborted");

        // An incident whose title holds HTML: listed and shown as text, acknowledged from the page.
        await fixture.PostAsync("/api/v1/incidents", new OpenIncidentRequest("<img src=x onerror=window.pwned=1> checkout errors", "P2", "shop", "default"));
        browser.Js("location.hash = '#/incidents'");
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main').dataset.view ?? ''") == "incidents", "the incident list is shown");
        browser.Text("main").Should().Contain("<img src=x onerror=window.pwned=1> checkout errors");
        DashboardFixture.Check(browser, "incidents");
        await browser.ClickAsync("main a[href^='#/incident/']");
        await browser.ActAsync("acknowledge", "looking <i>now</i>");
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main .status [data-phase]')?.dataset.phase ?? ''") == "acknowledged", "the incident shows as acknowledged");
        browser.Text("main .timeline").Should().Contain("looking <i>now</i>");
        browser.Js<long>("return document.querySelectorAll('main img, main i').length").Should().Be(0, "no markup from the data became an element");
        browser.Js<string>("return String(window.pwned)").Should().Be("undefined");
        DashboardFixture.Check(browser, "incident");

        browser.Js("location.hash = '#/audit'");
        (await browser.FindAsync("main [data-action='verify']")).Click();
        await browser.UntilAsync(() => browser.Text("main .verdict").Contains("the chain is intact", StringComparison.Ordinal), "the audit chain verified from the page");
        browser.Text("main").Should().Contain("rollout.Aborted");
        DashboardFixture.Check(browser, "audit");

        browser.Js("location.hash = '#/dora'");
        await browser.UntilAsync(() => browser.Js<long>("return document.querySelectorAll('main [data-key]').length") == 4, "the four keys are shown");
        browser.Text("main [data-key='changeFailureRate']").Should().Contain("of 2 rollouts", "both rollouts are counted");
        browser.Js<long>("return document.querySelectorAll('main svg.chart rect.bar').length").Should().BeGreaterThan(0, "the weekly trend is drawn");
        DashboardFixture.Check(browser, "dora");

        // A gate evaluation of 2.0's reports: one test failed (blocking), coverage under 80% (a warning).
        await fixture.PostAsync("/api/v1/gates/evaluations", new GateEvaluationRequest("shop", "2.0", "release",
            new Gantry.Core.Gates.Reports.TestSummary(40, 39, 1, 0, 0, 0, TimeSpan.FromSeconds(12), [], ["TEST-shop.xml"]),
            new Gantry.Core.Gates.Reports.CoverageSummary(750, 1000, 0, 0, ["coverage.xml"])));
        browser.Js("location.hash = '#/gates'");
        await browser.UntilAsync(() => browser.Text("main").Contains("BLOCK", StringComparison.Ordinal), "the gate's decision is shown");
        var gate = browser.Text("main");
        gate.Should().Contain("release: shop 2.0").And.Contain("tests:").And.Contain("coverage:");
        browser.Js<long>("return document.querySelectorAll('main tbody tr').length").Should().Be(3, "each criterion is a row");
        browser.Js<long>("return document.querySelectorAll(\"main tbody [data-outcome='fail']\").length").Should().Be(1, "the failed blocking criterion is marked");
        DashboardFixture.Check(browser, "gates");
    }

    [RequiresBinaryFact("chromedriver", "chromium-driver", Timeout = 300_000)]
    public async Task SecondUser_ApprovesFromTheInbox_AViewerSeesNoCommand_AndAForgedOneIsRefused()
    {
        await using var fixture = await DashboardFixture.StartAsync(Shop("canary: { steps: [{ setWeight: 50 }, { pause: {} }] }", $$"""
            environments:
              production:
                approvals: { required: 1, from: [sre], noSelfApproval: true }
              staging:
                checklist: [{ name: qa, signoff: { role: sre } }]
                {{SampleService.OwnListen()}}
            """));
        var alice = await fixture.TokenAsync("alice", ["deployer"], ["sre"]);
        var bob = await fixture.TokenAsync("bob", ["approver"], ["sre"]);
        var vic = await fixture.TokenAsync("vic", ["viewer"]);
        var id = await fixture.DeployAsync(new DeployRequest("shop", "1.0", "production"), alice);
        (await fixture.RolloutAsync(id)).Phase.Should().Be(RolloutPhase.AwaitingApproval);
        var staged = await fixture.DeployAsync(new DeployRequest("shop", "1.0", "staging"), alice);
        await Wait.UntilAsync(async () => (await fixture.RolloutAsync(staged)).AwaitsChecklist, TimeSpan.FromSeconds(30), "the staging rollout waits for its checklist");

        using var browser = new ChromiumSession();
        browser.Web.Navigate().GoToUrl(fixture.Address);
        (await browser.FindAsync("#token")).SendKeys("gantry_not-a-token");
        browser.Web.FindElement(By.Id("token")).Submit();
        await browser.UntilAsync(() => browser.Text("main .error").StartsWith("Sign-in refused", StringComparison.Ordinal), "a wrong token is refused on the form");

        await browser.SignInAsync(null, bob);
        await browser.FindAsync("main a[href='#/approvals']");
        browser.Text("main a[href='#/approvals']").Should().Be("Approve shop 1.0 to production", "the overview lists what waits on bob");
        browser.Text($"main .inbox a[href='#/rollout/{staged}']").Should().Be("Sign the checklist of shop 1.0 to staging");

        // The checklist first: bob, in sre and not the deployer, signs qa off from the rollout's page.
        await browser.ClickAsync($"main .inbox a[href='#/rollout/{staged}']");
        await browser.ActAsync("signoff");
        await Wait.UntilAsync(async () => !(await fixture.RolloutAsync(staged)).AwaitsChecklist, TimeSpan.FromSeconds(30), "the sign-off lets the staging rollout start");
        await browser.UntilAsync(() => browser.Text("main").Contains("signed off by bob", StringComparison.Ordinal), "the page shows bob's sign-off");
        DashboardFixture.Check(browser, "checklist");
        browser.Js("location.hash = '#/'");
        await browser.FindAsync("main a[href='#/approvals']");
        await browser.ClickAsync("main a[href='#/approvals']");
        await browser.FindAsync("main [data-action='approve']");
        DashboardFixture.Check(browser, "approvals");
        var comment = "<img src=x onerror=window.pwned=1><b>ship it</b>";
        await browser.ActAsync("approve", comment);
        await fixture.Server.WaitForAsync(id, RolloutPhase.Succeeded);

        browser.Js($"location.hash = '#/rollout/{id}'");
        await browser.UntilAsync(() => browser.Text("main").Contains("approved by bob", StringComparison.Ordinal), "the rollout shows bob's approval");
        browser.Text("main").Should().Contain(comment, "the comment is shown as the text it is");
        browser.Js<long>("return document.querySelectorAll('main img, main b').length").Should().Be(0);
        browser.Js<string>("return String(window.pwned)").Should().Be("undefined");

        // The next release waits for approval. Its deployer is offered the rollout's commands; a viewer is offered
        // none, and a command sent by hand with the viewer's token is refused by the API.
        var second = await fixture.DeployAsync(new DeployRequest("shop", "2.0", "production"), alice);
        await browser.SignOutAsync();
        await browser.SignInAsync(null, alice);
        browser.Js($"location.hash = '#/rollout/{second}'");
        await browser.FindAsync("main [data-action='abort']");
        await browser.SignOutAsync();
        await browser.SignInAsync(null, vic);
        browser.Js($"location.hash = '#/rollout/{second}'");
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main .status [data-phase]')?.dataset.phase ?? ''") == "awaitingApproval", "the viewer sees the rollout waiting");
        browser.Js<long>("return document.querySelectorAll('main [data-action], main button').length").Should().Be(0, "a viewer is offered no command");
        browser.Js("location.hash = '#/approvals'");
        await browser.UntilAsync(() => browser.Text("main").Contains("You cannot decide", StringComparison.Ordinal), "the inbox says why the viewer cannot decide");
        browser.Js<long>("return document.querySelectorAll('main [data-action]').length").Should().Be(0);
        DashboardFixture.Check(browser, "approvals-viewer");
        foreach (var (path, what) in new[] { ($"/api/v1/rollouts/{second}/abort", "abort"), ($"/api/v1/rollouts/{second}/approve", "approve") })
        {
            var status = (long)browser.Web.ExecuteAsyncScript("""
                const done = arguments[arguments.length - 1];
                fetch(arguments[0], { method: 'POST', headers: { Authorization: 'Bearer ' + arguments[1], 'Content-Type': 'application/json' }, body: '{"reason":"forged"}' })
                  .then(r => done(r.status), () => done(0));
                """, path, vic)!;
            status.Should().Be(403, $"a forged {what} with a viewer's token is refused");
        }

        (await fixture.RolloutAsync(second)).Phase.Should().Be(RolloutPhase.AwaitingApproval, "the forged commands changed nothing");

        // The viewer's token is revoked while the page is open: the server ends its event stream, and the page signs out.
        (await fixture.Server.Api.DeleteAsync(new Uri($"/api/v1/tokens/{Gantry.Core.Access.TokenSecret.IdOf(vic)}", UriKind.Relative))).EnsureSuccessStatusCode();
        await browser.UntilAsync(() => browser.Js<string>("return document.querySelector('main').dataset.view ?? ''") == "signin"
            && browser.Text("main .error").Contains("no longer accepted", StringComparison.Ordinal), "the page signed out when the token was revoked", TimeSpan.FromSeconds(30));
    }
}
