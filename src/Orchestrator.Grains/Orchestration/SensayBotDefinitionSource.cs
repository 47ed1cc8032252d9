using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;
using Orchestrator.Sensay;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// Loads the desired set from Sensay: every page of <c>GET /v1/replicas?integration=telegram</c>, keeping replicas whose
/// Telegram integration belongs to this service and has a token. All or nothing: a failed, malformed, missing or
/// inconsistent page fails the whole load.
/// </summary>
public sealed partial class SensayBotDefinitionSource(
    ISensayClient sensay,
    IOptions<SensayOptions> sensayOptions,
    IOptions<OrchestratorOptions> options,
    ILogger<SensayBotDefinitionSource> logger) : IBotDefinitionSource
{
    /// <summary>The largest page Sensay serves.</summary>
    public const int PageSize = 100;

    /// <summary>Pages fetched concurrently once the first page told how many there are.</summary>
    private const int PageConcurrency = 4;

    /// <inheritdoc />
    public bool IsConfigured => sensayOptions.Value.BaseUrl is not null;

    /// <inheritdoc />
    public async Task<IReadOnlyList<BotDefinition>> LoadAsync(CancellationToken cancellationToken)
    {
        var first = await LoadPageAsync(1, cancellationToken);
        var total = first.Total;
        var pageCount = (int)Math.Ceiling(total / (double)PageSize);
        var pages = new ReplicaPage[Math.Max(pageCount, 1)];
        pages[0] = first;
        await Parallel.ForEachAsync(
            Enumerable.Range(2, Math.Max(pageCount - 1, 0)),
            new ParallelOptions { MaxDegreeOfParallelism = PageConcurrency, CancellationToken = cancellationToken },
            async (page, ct) => pages[page - 1] = await LoadPageAsync(page, ct));

        var definitions = new List<BotDefinition>(total);
        for (var index = 0; index < pages.Length; index++)
        {
            var page = pages[index];
            if (page.Total != total)
            {
                throw new BotSourceException($"total changed between pages ({total} on page 1, {page.Total} on page {index + 1})");
            }

            var expected = Math.Min(PageSize, total - (index * PageSize));
            if (total > 0 && page.Items.Count != expected)
            {
                throw new BotSourceException($"page {index + 1} had {page.Items.Count} replicas, expected {expected}");
            }

            foreach (var replica in page.Items)
            {
                if (ToDefinition(replica) is { } definition)
                {
                    definitions.Add(definition);
                }
            }
        }

        return definitions;
    }

    private BotDefinition? ToDefinition(SensayReplica replica)
    {
        if (!string.Equals(replica.TelegramServiceName, options.Value.TelegramServiceName, StringComparison.Ordinal)
            || string.IsNullOrWhiteSpace(replica.TelegramToken))
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(replica.Uuid) || string.IsNullOrWhiteSpace(replica.Slug))
        {
            LogSkippedReplica(logger, replica.Uuid);
            return null;
        }

        return new BotDefinition(replica.Uuid, replica.Slug, replica.OwnerUuid, replica.TelegramToken);
    }

    private async Task<ReplicaPage> LoadPageAsync(int page, CancellationToken cancellationToken)
    {
        try
        {
            return await sensay.GetReplicasPageAsync(page, PageSize, cancellationToken);
        }
        catch (SensayApiException ex)
        {
            throw new BotSourceException(string.Create(CultureInfo.InvariantCulture, $"page {page}: {ex.Message}"), ex);
        }
        catch (HttpRequestException ex)
        {
            throw new BotSourceException(string.Create(CultureInfo.InvariantCulture, $"page {page}: Sensay unreachable ({ex.HttpRequestError})"), ex);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            throw new BotSourceException(string.Create(CultureInfo.InvariantCulture, $"page {page}: Sensay did not answer in time"), ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaUuid} has a Telegram token but no uuid or slug; skipped")]
    private static partial void LogSkippedReplica(ILogger logger, string? replicaUuid);
}
