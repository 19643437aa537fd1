using System.CommandLine;
using System.Globalization;
using Gantry.Api;
using Gantry.Core.Access;

namespace Gantry.Commands;

/// <summary><c>gantry token create|list|revoke|whoami</c>: API tokens, their roles, groups, environments and expiry.</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var command = new Command("token", "Manage API tokens (admin), or show who the current token is.");
        command.Subcommands.Add(New());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        command.Subcommands.Add(WhoAmI());
        return command;
    }

    private static Command New()
    {
        var server = RolloutCommands.ServerOption();
        var identity = new Option<string>("--name") { Description = "Whose token: a person or a machine (the name the audit trail records).", Required = true, HelpName = "IDENTITY" };
        var roles = new Option<string[]>("--role") { Description = $"A role ({string.Join(", ", RoleNames.All)}); repeatable.", Required = true, HelpName = "ROLE", AllowMultipleArgumentsPerToken = false };
        var groups = new Option<string[]>("--group") { Description = "A group that approval rules can name (repeatable).", HelpName = "GROUP", AllowMultipleArgumentsPerToken = false };
        var envs = new Option<string[]>("--env", "-e") { Description = "An environment the token may change (repeatable; default: all).", HelpName = "ENV", AllowMultipleArgumentsPerToken = false };
        var expires = new Option<string?>("--expires") { Description = "How long it lives, such as 30d or 12h, or 'never' (default 90d).", HelpName = "DURATION" };
        var output = CommonOptions.Output();
        var command = new Command("create", "Create a token; its secret is shown once.") { identity, roles, groups, envs, expires, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var created = await api.CreateTokenAsync(new TokenRequest(parse.GetValue(identity), parse.GetValue(roles), parse.GetValue(groups), parse.GetValue(envs), parse.GetValue(expires)), ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), created,
                $"token {created.Token.Id} for {created.Token.Identity} ({Describe(created.Token)})\n{created.Secret}\nthis secret is shown once: store it now (GANTRY_TOKEN, or 'token: ...' in a config file with mode 0600)");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command List()
    {
        var server = RolloutCommands.ServerOption();
        var output = CommonOptions.Output();
        var command = new Command("list", "List tokens (never their secrets).") { output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var tokens = await api.TokensAsync(ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), tokens, string.Join("\n", tokens.Select(t => string.Create(CultureInfo.InvariantCulture,
                $"{t.Id,-13} {t.Identity,-16} {t.Status,-8} {Describe(t)}"))
                .Prepend($"{"ID",-13} {"IDENTITY",-16} {"STATUS",-8} ROLES, GROUPS, ENVIRONMENTS, EXPIRY")));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Revoke()
    {
        var server = RolloutCommands.ServerOption();
        var id = new Argument<string>("id") { Description = "The token's id (gantry token list)." };
        var output = CommonOptions.Output();
        var command = new Command("revoke", "Revoke a token at once.") { id, output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var token = await api.RevokeTokenAsync(parse.GetValue(id)!, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), token, $"revoked token {token.Id} of {token.Identity}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command WhoAmI()
    {
        var server = RolloutCommands.ServerOption();
        var output = CommonOptions.Output();
        var command = new Command("whoami", "Show the identity, roles, groups and environments of the token in use.") { output, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var me = await api.WhoAmIAsync(ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), me,
                $"{me.Name} (token {me.TokenId}): roles {string.Join(", ", me.Roles.Select(RoleNames.Of))}; groups {(me.Groups.IsEmpty ? "none" : string.Join(", ", me.Groups))}; environments {(me.Environments.IsEmpty ? "all" : string.Join(", ", me.Environments))}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static string Describe(TokenView t) =>
        $"roles {string.Join(", ", t.Roles.Select(RoleNames.Of))}; groups {(t.Groups.IsEmpty ? "none" : string.Join(", ", t.Groups))}; environments {(t.Environments.IsEmpty ? "all" : string.Join(", ", t.Environments))}; "
        + (t.ExpiresAt is { } e ? string.Create(CultureInfo.InvariantCulture, $"expires {e.UtcDateTime:yyyy-MM-dd HH:mm}Z") : "never expires");
}
