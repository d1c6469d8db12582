using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;

namespace MyPay.Grains.Tests;

/// <summary>A silo hosting every MyPay grain on in-memory storage: fast grain tests, same contract as PostgreSQL.</summary>
internal sealed class GrainHost : IAsyncDisposable
{
    private readonly ServiceProvider services;

    public GrainHost(Action<IServiceCollection>? configure = null)
    {
        var collection = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddMyPayGrainServices()
            .AddSilo(silo => silo.AddMyPayGrains())
            .AddMemoryGrainStorage();
        configure?.Invoke(collection);
        services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public IGrainFactory Grains => services.GetRequiredService<IGrainFactory>();

    public MyPay.Silo.Silo Silo => services.GetRequiredService<MyPay.Silo.Silo>();

    public ValueTask DisposeAsync() => services.DisposeAsync();
}
