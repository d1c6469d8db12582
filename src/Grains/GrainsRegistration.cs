using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MyPay.Grains.Money;
using MyPay.Silo.Hosting;

namespace MyPay.Grains;

/// <summary>The grain types MyPay hosts, and the options they read.</summary>
public static class GrainsRegistration
{
    /// <summary>Registers every MyPay grain type with the silo.</summary>
    public static SiloBuilder AddMyPayGrains(this SiloBuilder silo) =>
        silo.AddGrain<IWalletGrain, WalletGrain, WalletState>(
            "wallet",
            reference => new WalletGrainReference(reference),
            (services, _, state) => new WalletGrain(state, services.GetRequiredService<IOptions<WalletLimits>>().Value));

    /// <summary>Binds and validates the grains' options at start-up.</summary>
    public static IServiceCollection AddMyPayGrainOptions(this IServiceCollection services)
    {
        services.AddOptions<WalletLimits>().BindConfiguration(WalletLimits.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
