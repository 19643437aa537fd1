using System.Text;
using Gantry.Core.Manifest;
using Gantry.Testing;

namespace Gantry.Core.Tests.Manifest;

/// <summary>
/// Feeds thousands of random mutations of the example manifest to the loader: no exception may escape,
/// and every result is either a manifest or errors with real positions.
/// </summary>
public sealed class ManifestFuzzTests : IDisposable
{
    private const int Mutants = 2_500;
    private static readonly string[] Values = ["[]", "{}", "-1", "abc", "true", "1e999", "~", "'x'", "&a", "*a", "!!binary x", "\"\\u0000\"", "\"\"", "0", "100%", "> baseline *", "<<: *x", "[a, {b: c}]", "\t", "{port", "ü✓", "'unterminated"];
    private readonly string temp = Directory.CreateTempSubdirectory("gantry-fuzz-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task LoadFile_RandomMutationsOfExample_NeverThrowAndAlwaysPositionErrors()
    {
        var original = await File.ReadAllBytesAsync(RepoPaths.Combine("examples", "shop", "gantry.yaml"));
        var random = new Random(20261122);
        var valid = 0;
        var invalid = 0;
        var path = Path.Combine(temp, "gantry.yaml");
        for (var i = 0; i < Mutants; i++)
        {
            var bytes = original;
            var mutations = random.Next(1, 4);
            var applied = new List<string>();
            for (var m = 0; m < mutations; m++)
            {
                (bytes, var name) = Mutate(bytes, random);
                applied.Add(name);
            }

            await File.WriteAllBytesAsync(path, bytes);
            ManifestLoadResult result;
            try
            {
                result = ManifestLoader.LoadFile(path);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"mutant {i} ({string.Join(", ", applied)}) threw:\n{Encoding.UTF8.GetString(bytes)}", ex);
            }

            var lines = Encoding.UTF8.GetString(bytes).Split('\n').Length;
            if (result.Succeeded)
            {
                valid++;
                result.ErrorCount.Should().Be(0);
            }
            else
            {
                invalid++;
                result.ErrorCount.Should().BeGreaterThan(0, $"mutant {i} gave no manifest, so it must say why");
            }

            var misplaced = result.Diagnostics.Where(d => d.Line < 1 || d.Line > lines + 1 || d.Column < 1 || d.Message.Length == 0);
            misplaced.Should().BeEmpty($"mutant {i} ({string.Join(", ", applied)}) must position every diagnostic");
            result.Diagnostics.Select(d => d.Position).Should().BeInAscendingOrder();
        }

        // The mutations must exercise both outcomes, or the test proves little.
        valid.Should().BeGreaterThan(Mutants / 50);
        invalid.Should().BeGreaterThan(Mutants / 2);
    }

    private static (byte[] Bytes, string Name) Mutate(byte[] bytes, Random random)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var lines = text.Split('\n').ToList();
        switch (random.Next(9))
        {
            case 0:
                lines.RemoveAt(random.Next(lines.Count));
                return (Join(lines), "delete line");
            case 1:
                var a = random.Next(lines.Count);
                var b = random.Next(lines.Count);
                (lines[a], lines[b]) = (lines[b], lines[a]);
                return (Join(lines), "swap lines");
            case 2:
                var d = random.Next(lines.Count);
                lines.Insert(d, lines[d]);
                return (Join(lines), "duplicate line");
            case 3:
                var l = random.Next(lines.Count);
                var colon = lines[l].IndexOf(": ", StringComparison.Ordinal);
                if (colon > 0)
                {
                    lines[l] = lines[l][..(colon + 2)] + Values[random.Next(Values.Length)];
                }

                return (Join(lines), "swap value type");
            case 4:
                var copy = (byte[])bytes.Clone();
                for (var k = random.Next(1, 6); k > 0 && copy.Length > 0; k--)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }

                return (copy, "random bytes");
            case 5:
                return (bytes[..random.Next(bytes.Length + 1)], "truncate");
            case 6:
                var r = random.Next(lines.Count);
                lines[r] = new string(' ', random.Next(0, 9)) + lines[r].TrimStart();
                return (Join(lines), "reindent");
            case 7:
                var t = random.Next(lines.Count);
                var at = random.Next(lines[t].Length + 1);
                lines[t] = lines[t][..at] + Values[random.Next(Values.Length)] + lines[t][at..];
                return (Join(lines), "insert token");
            default:
                var s = random.Next(lines.Count);
                lines[s] = lines[s].Replace("shop", "Shop", StringComparison.Ordinal).Replace("slo", "sl0", StringComparison.Ordinal);
                return (Join(lines), "rename");
        }
    }

    private static byte[] Join(List<string> lines) => Encoding.UTF8.GetBytes(string.Join('\n', lines));
}
