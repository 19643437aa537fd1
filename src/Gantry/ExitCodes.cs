namespace Gantry;

/// <summary>The exit codes of every gantry command.</summary>
public static class ExitCodes
{
    /// <summary>It worked (a rollout succeeded, a manifest is valid, a gate says DEPLOY).</summary>
    public const int Success = 0;

    /// <summary>A rollout failed, was aborted or rolled back; a gate says REMEDIATE.</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or bad input: unknown option, invalid manifest, unreadable file.</summary>
    public const int BadInput = 2;

    /// <summary>The Gantry server could not be reached.</summary>
    public const int Unreachable = 3;

    /// <summary>A gate says BLOCK.</summary>
    public const int Blocked = 4;

    /// <summary>The server refused the caller: no or a bad token (401), a missing role (403), too many failures (429).</summary>
    public const int Denied = 5;
}
