using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using MyPay.Silo.Grains;
using MyPay.Silo.Hosting;
using MyPay.Silo.Storage.Postgres;
using Npgsql;
using Orleans.Serialization;

namespace MyPay.Silo.Tests.Orleans;

/// <summary>
/// A grain that meets an unreachable database answers with <see cref="StorageUnavailableException"/>, the driver's
/// exception inside it. Called from another node, that answer must cross between silos, so the caller can tell its
/// client to retry (503); without the silo's set-up Orleans cannot serialize the driver's exception at all.
/// </summary>
public sealed class ExceptionSerializationTests
{
    private static readonly StorageUnavailableException Unreachable = new(
        "Could not read grain wallet/m1: the database is unavailable.",
        new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)));

    [Fact]
    public void StorageUnavailable_WithTheDriversException_CrossesSilos_AsTheSiloIsSetUp()
    {
        var serializer = Serializer(carryDriverExceptions: true);

        var crossed = Assert.IsType<StorageUnavailableException>(serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(Unreachable)));

        Assert.Equal(Unreachable.Message, crossed.Message);
        var driver = Assert.IsType<NpgsqlException>(crossed.InnerException);
        Assert.Equal("Failed to connect to 127.0.0.1:5432", driver.Message);
    }

    [Fact]
    public void PostgresError_CrossesSilosWithoutItsCode_AndIsNotTakenForAnOutage()
    {
        var serializer = Serializer(carryDriverExceptions: true);

        var crossed = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(
            new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown)));

        Assert.Null(Assert.IsType<PostgresException>(crossed).SqlState);
        Assert.False(PostgresGrainStorage.IsUnavailable(crossed));
    }

    [Fact]
    public void StorageUnavailable_WithTheDriversException_CannotCross_WithOrleansDefaults()
    {
        var serializer = Serializer(carryDriverExceptions: false);

        Assert.ThrowsAny<CodecNotFoundException>(() => serializer.SerializeToArray<Exception>(Unreachable));
    }

    private static Serializer Serializer(bool carryDriverExceptions)
    {
        var services = new ServiceCollection().AddSerializer();
        if (carryDriverExceptions)
        {
            MyPaySiloBuilderExtensions.CarryDriverExceptions(services);
        }

        return services.BuildServiceProvider().GetRequiredService<Serializer>();
    }
}
