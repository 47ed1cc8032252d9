using System.Collections.Concurrent;
using Orchestrator.Abstractions;

namespace Orchestrator.Tests.Infrastructure;

/// <summary>Counts the calls each bot grain receives, by method, on every silo of an in-process cluster.</summary>
public sealed class BotCallCounter : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<(string Method, string ReplicaUuid), int> _counts = new();

    /// <summary>How many times the bot's <paramref name="method"/> (an <see cref="IBotGrain"/> method name) was called.</summary>
    public int Of(string method, string replicaUuid) => _counts.GetValueOrDefault((method, replicaUuid));

    /// <inheritdoc />
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IBotGrain))
        {
            _counts.AddOrUpdate((context.InterfaceMethod.Name, context.TargetId.Key.ToString()!), 1, static (_, n) => n + 1);
        }

        return context.Invoke();
    }
}
