using System.CommandLine;
using MyPay.LoadTest;
using MyPay.LoadTest.CommandLine;

var parsed = LoadTestCommand.Create(LoadTestRun.RunAsync, Environment.GetEnvironmentVariable).Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync(error.Message);
    }

    await Console.Error.WriteLineAsync("Run with --help for the options.");
    return ExitCodes.BadArguments;
}

// Ctrl-C is handled by the run itself: the first ends the load and still verifies, the second aborts.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
