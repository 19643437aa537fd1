using FluentAssertions;
using Gantry.Api;
using Gantry.Core.Audit;
using Gantry.Core.Rollouts;
using Gantry.Server.Access;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// Governing production through the CLI, against a real embedded server: tokens with roles and groups,
/// approvals (two from sre or leads, never one's own deploy), rejection, emergency deploys past a freeze and a
/// soak, secret variables that are passed on but never shown, and where the CLI finds its token.
/// </summary>
public sealed class GovernanceCommandTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;
    private readonly Dictionary<string, string> tokens = new(StringComparer.Ordinal);

    public async ValueTask InitializeAsync()
    {
        embedded = await EmbeddedServer.StartAsync($$"""
            version: 1
            {{SampleService.ShopServices()}}
            environments:
              staging: {}
              production:
                approvals: { required: 2, from: [sre, leads], noSelfApproval: true, expiry: 1h }
                {{SampleService.OwnListen()}}
              eu:
                promotion: { from: staging, soak: 1h }
                {{SampleService.OwnListen()}}
            """, "gantry-governance-");
        foreach (var (name, roles, groups) in new (string, string[], string[])[]
        {
            ("alice", ["deployer", "approver"], ["sre"]),
            ("bob", ["approver"], ["sre"]),
            ("carol", ["approver"], ["leads"]),
            ("dave", ["approver"], ["qa"]),
            ("vic", ["viewer"], []),
            ("erin", ["emergency"], []),
        })
        {
            var created = await embedded.Server.Tokens.CreateAsync(new TokenRequest(name, roles, groups), new AuditContext("test"), default);
            tokens[name] = created.Value!.Secret;
        }
    }

    public async ValueTask DisposeAsync() => await embedded.DisposeAsync();

    /// <summary>Runs the CLI as <paramref name="who"/>: the token from GANTRY_TOKEN, as a person's shell would give it.</summary>
    private Task<(int Exit, string Out, string Err)> AsAsync(string who, params string[] args) =>
        TokenEnvironment.RunAsAsync(tokens[who], [.. args, "--server", embedded.Address]);


    private Task<(int Exit, string Out, string Err)> AdminAsync(params string[] args) => GantryCliTests.RunAsync([.. args, "--server", embedded.Address, "--data", embedded.Data]);

    private async Task<RolloutState> RolloutAsync(string id) => (await embedded.Server.Store.GetAsync(id, default))!;

    [Fact(Timeout = 120_000)]
    public async Task Approve_ProductionDeploy_WaitsForTwoApproversOfTheGroupsAndRefusesTheOthers()
    {
        var (exit, output, error) = await AsAsync("alice", "deploy", "shop", "-v", "1.0", "-e", "production");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("rollout shop-production-1: shop 1.0 (first release) in production: AwaitingApproval");
        await Task.Delay(600);
        (await RolloutAsync("shop-production-1")).Sets.Should().BeEmpty("nothing starts before the approvals");

        (exit, output, _) = await AsAsync("bob", "status", "shop", "-e", "production");
        output.Should().Contain("approval: waiting for approval: 0 of 2 from a member of sre or leads, not alice")
            .And.Contain("you can approve it: gantry approve shop-production-1 --comment TEXT");
        (_, output, _) = await AsAsync("dave", "status");
        output.Should().Contain("awaiting approval:\n  shop-production-1: shop 1.0 to production, deployed by alice: waiting for approval: 0 of 2")
            .And.Contain("you cannot approve it: dave is not in a group that may approve here (sre, leads); dave is in qa");

        (exit, _, error) = await AsAsync("alice", "approve", "shop-production-1");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: alice deployed this rollout and cannot approve it (self-approval is not allowed here) [approval-refused]\n"));
        (exit, _, error) = await AsAsync("dave", "approve", "shop-production-1");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: dave is not in a group that may approve here (sre, leads); dave is in qa [approval-refused]\n"));
        (exit, _, error) = await AsAsync("vic", "approve", "shop-production-1");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: POST /api/v1/rollouts/shop-production-1/approve needs the approver role; vic holds viewer [forbidden]\n"));

        (exit, output, error) = await AsAsync("bob", "approve", "shop-production-1", "--comment", "runbook checked");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().StartWith("approved rollout shop-production-1 (shop 1.0 to production)\n  approval: waiting for approval: 1 of 2");
        (exit, _, error) = await AsAsync("bob", "approve", "shop-production-1");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: bob has already approved this rollout [approval-refused]\n"));
        (await RolloutAsync("shop-production-1")).Phase.Should().Be(RolloutPhase.AwaitingApproval);

        (exit, output, error) = await AsAsync("carol", "approve", "shop-production-1", "-m", "go");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("approval: approved: approved by bob (sre) at ").And.Contain("approved by carol (leads) at ");
        await RolloutCommandsTests.EventuallyAsync(async () => (await RolloutAsync("shop-production-1")).Phase == RolloutPhase.Succeeded);

        (_, output, _) = await AdminAsync("audit", "--service", "shop", "--env", "production");
        output.Should().MatchRegex(@"bob +rollout\.approved +shop/production/shop-production-1  approved by bob \(sre\) at [^\n]*: runbook checked \(why: runbook checked\) \[from 127\.0\.0\.1, token [0-9a-f]{12}\]");
        output.Should().MatchRegex(@"gantry +rollout\.Approved +shop/production/shop-production-1  approved: [^\n]*\[approvals: approved by bob \(sre\) at [^;]*; approved by carol \(leads\) at [^\]]*\]");
        output.Should().MatchRegex(@"rollout\.Succeeded [^\n]*\[approvals: approved by bob");
        (await AdminAsync("audit", "verify")).Exit.Should().Be(ExitCodes.Success);
    }

    [Fact(Timeout = 120_000)]
    public async Task Reject_ProductionDeploy_EndsItWithoutStartingAndItCannotBeRetried()
    {
        (await AsAsync("alice", "deploy", "shop", "-v", "1.0", "-e", "production")).Exit.Should().Be(ExitCodes.Success);
        var (exit, _, error) = await AsAsync("carol", "reject", "shop-production-1");
        exit.Should().Be(ExitCodes.BadInput, "a rejection needs a reason");
        error.Should().Contain("--comment");

        (exit, var output, error) = await AsAsync("carol", "reject", "shop-production-1", "--comment", "not during the sale");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().StartWith("rejected rollout shop-production-1");
        await RolloutCommandsTests.EventuallyAsync(async () => (await RolloutAsync("shop-production-1")).Phase == RolloutPhase.Aborted);
        (await RolloutAsync("shop-production-1")).Message.Should().MatchRegex(@"^rejected by carol \(leads\) at [^:]+:\d\d:\d\dZ: not during the sale; the rollout does not start$");

        (exit, _, error) = await AsAsync("alice", "retry", "shop", "-e", "production");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: rollout shop-production-1 never started (it was rejected, or aborted while waiting for approval): deploy the release again to ask for a new approval [command-refused]\n"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Deploy_Emergency_GoesPastAFreezeAndASoakOnlyForTheEmergencyRoleAndIsMarkedEverywhere()
    {
        (await AdminAsync("freeze", "staging", "--reason", "INC-7 in progress")).Exit.Should().Be(ExitCodes.Success);
        var (exit, _, error) = await AsAsync("alice", "deploy", "shop", "-v", "1.0", "-e", "staging");
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().StartWith("gantry: deploys to staging are frozen by local-admin");

        (exit, _, error) = await AsAsync("alice", "deploy", "shop", "-v", "1.0", "-e", "staging", "--emergency", "--reason", "INC-7 hotfix");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: alice does not hold the emergency role (holds deployer, approver) [forbidden]\n"));
        (exit, _, error) = await AsAsync("erin", "deploy", "shop", "-v", "1.0", "-e", "staging", "--emergency");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: an emergency deploy needs a reason (--reason): it is recorded with the rollout and in the audit trail [invalid-request]\n"));
        (exit, _, error) = await AsAsync("erin", "deploy", "shop", "-v", "1.0", "-e", "staging");
        exit.Should().Be(ExitCodes.Denied, "the emergency role allows emergency deploys only");

        (exit, var output, error) = await AsAsync("erin", "deploy", "shop", "-v", "1.0", "-e", "staging", "--emergency", "--reason", "INC-7 hotfix", "--wait");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().Contain("EMERGENCY rollout shop-staging-1: shop 1.0 (first release) in staging: Succeeded\n  emergency deploy by erin: INC-7 hotfix");

        // eu takes releases that soaked an hour in staging: an emergency goes past the soak, not past "never there".
        (exit, _, error) = await AsAsync("erin", "deploy", "shop", "-v", "1.0", "-e", "eu", "--emergency", "--reason", "INC-7 hotfix for eu", "--wait");
        exit.Should().Be(ExitCodes.Success, error);
        (exit, _, error) = await AsAsync("erin", "deploy", "shop", "-v", "9.9", "-e", "eu", "--emergency", "--reason", "untested");
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Contain("9.9").And.Contain("staging");

        (_, output, _) = await AsAsync("vic", "history", "shop", "-e", "staging");
        output.Should().Contain("erin  [EMERGENCY: INC-7 hotfix] ");
        (_, output, _) = await AsAsync("vic", "status", "shop", "-e", "staging");
        output.Should().StartWith("EMERGENCY rollout shop-staging-1");
        (_, output, _) = await AdminAsync("audit", "--service", "shop", "--env", "staging");
        output.Should().MatchRegex(@"erin +rollout\.Created +shop/staging/shop-staging-1  EMERGENCY deploy of shop 1\.0 to staging by erin: INC-7 hotfix \(past deployment windows, freezes and soak\) [^\n]*\(why: INC-7 hotfix\) \[from 127\.0\.0\.1, token [0-9a-f]{12}\]");
    }

    [Fact(Timeout = 120_000)]
    public async Task Deploy_SecretVariable_ReachesTheInstancesButNeverTheApiTheCliOrTheAudit()
    {
        System.Environment.SetEnvironmentVariable("PAYMENT_TEST_API_KEY", "from-the-shell-7f3a");
        try
        {
            var (exit, _, error) = await AdminAsync("deploy", "shop", "-v", "1.0", "-e", "staging", "--set", "COLOR=blue", "--secret", "DB_PASSWORD=hunter2-9c1e", "--secret", "PAYMENT_TEST_API_KEY", "--wait");
            exit.Should().Be(ExitCodes.Success, error);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("PAYMENT_TEST_API_KEY", null);
        }

        var shown = string.Join("\n",
            (await AdminAsync("status", "shop", "-e", "staging", "--output", "json")).Out,
            (await AdminAsync("history", "shop", "-e", "staging", "--output", "json")).Out,
            (await AdminAsync("audit", "export")).Out,
            (await AdminAsync("audit", "--output", "json")).Out);
        shown.Should().Contain("\"COLOR\"").And.Contain("blue").And.Contain("DB_PASSWORD").And.Contain("********");
        shown.Should().NotContain("hunter2-9c1e").And.NotContain("from-the-shell-7f3a");

        var instance = embedded.Server.Views.View(await RolloutAsync("shop-staging-1")).Instances.Single();
        var environ = await File.ReadAllTextAsync($"/proc/{instance.ProcessId}/environ");
        environ.Split('\0').Should().Contain(["DB_PASSWORD=hunter2-9c1e", "PAYMENT_TEST_API_KEY=from-the-shell-7f3a", "COLOR=blue"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Token_CreateListRevoke_SecretShownOnceAndARevokedTokenRefused()
    {
        var (exit, output, error) = await AdminAsync("token", "create", "--name", "ci-bot", "--role", "deployer", "--env", "staging", "--expires", "30d");
        exit.Should().Be(ExitCodes.Success, error);
        var lines = output.Split('\n');
        lines[0].Should().MatchRegex(@"^token [0-9a-f]{12} for ci-bot \(roles deployer; groups none; environments staging; expires \d{4}-\d\d-\d\d \d\d:\d\dZ\)$");
        var secret = lines[1];
        secret.Should().StartWith("gantry_");
        tokens["ci-bot"] = secret;

        (exit, output, _) = await AsAsync("ci-bot", "token", "whoami");
        (exit, output).Should().Be((ExitCodes.Success, $"ci-bot (token {secret[7..19]}): roles deployer; groups none; environments staging\n"));
        (exit, _, error) = await AsAsync("ci-bot", "token", "list");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: GET /api/v1/tokens needs the admin role; ci-bot holds deployer [forbidden]\n"));
        (exit, _, error) = await AsAsync("ci-bot", "deploy", "shop", "-v", "1.0", "-e", "production");
        (exit, error).Should().Be((ExitCodes.Denied, "gantry: ci-bot may act as deployer only in staging, not in production [forbidden]\n"));

        (exit, output, _) = await AdminAsync("token", "list");
        exit.Should().Be(ExitCodes.Success);
        output.Should().Contain("ci-bot").And.Contain("local-admin").And.NotContain(secret[20..]).And.NotContain(Gantry.Core.Access.TokenSecret.Hash(secret));
        (await AdminAsync("token", "list", "--output", "json")).Out.Should().NotContain("hash").And.NotContain(secret[20..]);

        (exit, output, _) = await AdminAsync("token", "revoke", secret[7..19]);
        (exit, output).Should().Be((ExitCodes.Success, $"revoked token {secret[7..19]} of ci-bot\n"));
        (exit, _, error) = await AsAsync("ci-bot", "token", "whoami");
        exit.Should().Be(ExitCodes.Denied);
        error.Should().MatchRegex($@"^gantry: token {secret[7..19]} was revoked at \d{{4}}-\d\d-\d\d \d\d:\d\d UTC \[not-authenticated\]\n$");

        (exit, _, error) = await AdminAsync("token", "create", "--name", "x", "--role", "root");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: unknown role 'root': roles are viewer, deployer, approver, emergency, admin, ci, alerting [invalid-request]\n"));
        (exit, _, error) = await AdminAsync("token", "create", "--name", "x", "--role", "viewer", "--env", "moon");
        (exit, error).Should().Be((ExitCodes.BadInput, "gantry: no environment 'moon' in the manifest (it has staging, production, eu) [invalid-request]\n"));
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    [Fact(Timeout = 60_000)]
    public async Task Credentials_TokenFilesAndConfig_OnlyOwnerReadableOnesAreUsed()
    {
        File.GetUnixFileMode(Path.Combine(embedded.Data, "admin.token")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(embedded.Data).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var config = Path.Combine(embedded.Folder, "config");
        await File.WriteAllTextAsync(config, $"# gantry CLI\nserver: {embedded.Address}\ntoken: {tokens["vic"]}\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await TokenEnvironment.Turn.WaitAsync();
        try
        {
            System.Environment.SetEnvironmentVariable("GANTRY_CONFIG", config);
            var (exit, _, error) = await GantryCliTests.RunAsync("token", "whoami");
            (exit, error).Should().Be((ExitCodes.BadInput, $"gantry: {config} holds a token but others may read it (mode 644): run 'chmod 600 {config}'\n"));

            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            (exit, var output, error) = await GantryCliTests.RunAsync("token", "whoami");
            exit.Should().Be(ExitCodes.Success, error);
            output.Should().StartWith("vic (token ", "the server and the token both came from the config file");

            await File.WriteAllTextAsync(config, "tokn: x\n");
            (exit, _, error) = await GantryCliTests.RunAsync("token", "whoami");
            (exit, error).Should().Be((ExitCodes.BadInput, $"gantry: {config}:1:1: unknown key 'tokn' (the config file has 'token:' and 'server:')\n"));
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("GANTRY_CONFIG", null);
            TokenEnvironment.Turn.Release();
        }

        await File.WriteAllTextAsync(Path.Combine(embedded.Folder, "empty-config"), string.Empty);
        var (code, _, message) = await WithoutCredentialsAsync(Path.Combine(embedded.Folder, "empty-config"), "status");
        (code, message).Should().Be((ExitCodes.Denied, "gantry: no token: send 'Authorization: Bearer TOKEN' (the CLI reads GANTRY_TOKEN, its config file, or the server's data directory) [not-authenticated]\n"));
    }

    private async Task<(int, string, string)> WithoutCredentialsAsync(string emptyConfig, params string[] args)
    {
        await TokenEnvironment.Turn.WaitAsync();
        try
        {
            System.Environment.SetEnvironmentVariable("GANTRY_CONFIG", emptyConfig);
            return await GantryCliTests.RunAsync([.. args, "--server", embedded.Address]);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("GANTRY_CONFIG", null);
            TokenEnvironment.Turn.Release();
        }
    }
}
