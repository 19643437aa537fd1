using FluentAssertions;
using Gantry.Core.Access;

namespace Gantry.Core.Tests.Access;

public sealed class IdentityTests
{
    [Fact(Timeout = 5_000)]
    public void New_Token_HasAnIdAndMatchesOnlyItsOwnHash()
    {
        var (id, text) = TokenSecret.New();
        text.Should().StartWith($"gantry_{id}_");
        TokenSecret.IdOf(text).Should().Be(id);
        var hash = TokenSecret.Hash(text);
        hash.Should().HaveLength(64).And.NotContain(text);
        TokenSecret.Matches(text, hash).Should().BeTrue();
        TokenSecret.Matches(text + "x", hash).Should().BeFalse();
        TokenSecret.Matches(TokenSecret.New().Text, hash).Should().BeFalse();
    }

    [Theory(Timeout = 5_000)]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("gantry_")]
    [InlineData("gantry_ABCDEF123456_aaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("gantry_abc_aaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("gantry_0123456789ab_short")]
    public void IdOf_NotAToken_Null(string text)
    {
        TokenSecret.IdOf(text).Should().BeNull();
        TokenSecret.Describe(text).Should().Be("a malformed token");
    }

    [Fact(Timeout = 5_000)]
    public void Describe_Token_ShowsTheIdNeverTheSecret()
    {
        var (id, text) = TokenSecret.New();
        TokenSecret.Describe(text).Should().Be($"token {id}");
        TokenSecret.Describe(null).Should().Be("no token");
    }

    [Fact(Timeout = 5_000)]
    public void May_RolesAndEnvironmentScopes_AsIntended()
    {
        var deployer = new Principal("alice", [Role.Deployer], [], ["staging"], "t1");
        deployer.May(Role.Viewer, "production").Should().BeTrue("every identity may read");
        deployer.May(Role.Deployer, "staging").Should().BeTrue();
        deployer.May(Role.Deployer, "production").Should().BeFalse();
        deployer.Refusal(Role.Deployer, "production").Should().Be("alice may act as deployer only in staging, not in production");
        deployer.May(Role.Approver, "staging").Should().BeFalse();
        deployer.Refusal(Role.Approver, "staging").Should().Be("alice does not hold the approver role (holds deployer)");

        var admin = new Principal("root", [Role.Admin], [], [], "t2");
        foreach (var role in Enum.GetValues<Role>())
        {
            admin.May(role, "production").Should().BeTrue();
        }

        var emergency = new Principal("erin", [Role.Emergency], [], [], "t3");
        emergency.May(Role.Emergency, "production").Should().BeTrue();
        emergency.May(Role.Deployer, "production").Should().BeFalse("the emergency role is for emergency deploys only");
    }

    [Theory(Timeout = 5_000)]
    [InlineData("admin", Role.Admin)]
    [InlineData("Approver", Role.Approver)]
    [InlineData("root", null)]
    [InlineData("1", null)]
    [InlineData("deployer,approver", null)]
    [InlineData("deployer, approver", null)]
    [InlineData("viewer,deployer", null)]
    [InlineData("Deployer|Approver", null)]
    [InlineData("-1", null)]
    public void Parse_RoleName_KnownOnly(string text, Role? expected)
    {
        RoleNames.Parse(text).Should().Be(expected);
    }
}
