namespace Gantry.Core.Manifest.Values;

/// <summary>Why a value did not parse, and at which character offset of its text.</summary>
public sealed record ParseError(int Offset, string Message);
