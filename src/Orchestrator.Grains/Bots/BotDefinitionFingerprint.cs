using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// A stable 64-bit digest of a <see cref="BotDefinition"/>, equal on every silo and process (unlike
/// <c>GetHashCode</c>), so a silo can tell the orchestrator which definition its bots run without sending tokens.
/// Never 0 (0 means "no definition").
/// </summary>
public static class BotDefinitionFingerprint
{
    public static long Of(BotDefinition definition)
    {
        var text = string.Join('\n', definition.ReplicaUuid, definition.ReplicaSlug, definition.OwnerUuid ?? "\u0000", definition.Token);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        var value = BinaryPrimitives.ReadInt64LittleEndian(hash);
        return value == 0 ? 1 : value;
    }
}
