namespace Gantry.Core.Checklists;

/// <summary>
/// Who may sign a checklist item off: a member of the group the item names (<c>signoff: { role: qa }</c>), and
/// never the person who deployed the rollout (a check by someone else, like an approval).
/// </summary>
public static class SignOffRule
{
    /// <summary>Why <paramref name="signer"/> may not sign <paramref name="item"/> off, or null when they may.</summary>
    public static string? Refusal(string role, string item, string? deployer, string signer, IReadOnlyCollection<string> signerGroups)
    {
        if (deployer is not null && string.Equals(deployer, signer, StringComparison.Ordinal))
        {
            return $"{signer} deployed this rollout: '{item}' must be signed off by someone else in {role}";
        }

        return signerGroups.Contains(role)
            ? null
            : $"'{item}' is signed off by {role}; {signer} is not in that group (groups: {(signerGroups.Count == 0 ? "none" : string.Join(", ", signerGroups))})";
    }
}
