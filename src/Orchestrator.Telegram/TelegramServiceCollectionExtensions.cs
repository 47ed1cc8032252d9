using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orchestrator.Telegram;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>DI registration of the shared Telegram client factory.</summary>
public static class TelegramServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TelegramClientOptions"/> (validated at start), the singleton <see cref="TelegramClientFactory"/>
    /// and <see cref="TimeProvider.System"/> (if none is registered). Returns the options builder, e.g. to bind configuration.
    /// </summary>
    public static OptionsBuilder<TelegramClientOptions> AddTelegramClients(
        this IServiceCollection services, Action<TelegramClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<TelegramClientOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelegramClientOptions>, TelegramClientOptionsValidator>());
        services.TryAddSingleton<TelegramClientFactory>();
        services.TryAddSingleton(TimeProvider.System);
        return builder;
    }
}
