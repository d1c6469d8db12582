namespace MyPay.Api.Hosting;

/// <summary>
/// The shape of a record's id in a route (a payment, a remittance, a bank command): visible ASCII only, as every id
/// MyPay makes is. Anything else is refused before it becomes a grain's key: Orleans throws on a key that is all
/// whitespace (" ", or U+0085 U+2028), which was a 500.
/// </summary>
public static class RecordIds
{
    public static bool IsValid(string id, int lengthMax) =>
        id.Length > 0 && id.Length <= lengthMax && id.All(character => character is >= '!' and <= '~');
}
