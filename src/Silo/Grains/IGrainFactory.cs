namespace MyPay.Silo.Grains;

/// <summary>
/// Reaches a grain through its interface and key, as Orleans' <c>GetGrain&lt;T&gt;(key)</c> does.
/// The call activates nothing by itself: the grain is activated on its first message.
/// </summary>
public interface IGrainFactory
{
    TGrainInterface GetGrain<TGrainInterface>(string key)
        where TGrainInterface : class;
}
