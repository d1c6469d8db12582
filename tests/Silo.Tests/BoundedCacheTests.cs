using MyPay.Silo.Caching;

namespace MyPay.Silo.Tests;

public sealed class BoundedCacheTests
{
    [Fact]
    public void PastItsBound_ItStartsOverEmpty_ThenKeepsWhatComesNext()
    {
        var cache = new BoundedCache<string, int>(2);
        cache.Add("a", 1);
        cache.Add("b", 2);

        cache.Add("c", 3);

        Assert.False(cache.TryGet("a", out _));
        Assert.False(cache.TryGet("b", out _));
        Assert.False(cache.TryGet("c", out _));
        cache.Add("d", 4);
        Assert.True(cache.TryGet("d", out var kept));
        Assert.Equal(4, kept);
    }

    [Fact]
    public void ARemovedEntry_FreesItsPlace()
    {
        var cache = new BoundedCache<string, int>(2);
        cache.Add("a", 1);
        cache.Add("b", 2);
        cache.Remove("a");

        cache.Add("c", 3);

        Assert.True(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("c", out _));
        Assert.False(cache.TryGet("a", out _));
    }
}
