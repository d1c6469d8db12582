using MyPay.Testing;

namespace MyPay.EndToEnd.Tests;

/// <summary>
/// The deployment in <c>deploy/</c> and <c>docker-compose.yml</c>, checked without a Docker engine: the compose file with
/// Debian's <c>docker-compose config</c> (MYPAY_DOCKER_COMPOSE), nginx's configuration with <c>nginx -t</c> (MYPAY_NGINX),
/// both installed by <c>./mypay test</c>; the images' Dockerfiles by what they must say. The same topology runs without
/// containers in <see cref="RunNodesTests"/>.
/// </summary>
public sealed class DeploymentTests
{
    private static readonly string Root = BuiltProcess.RepositoryRoot;

    private static readonly Dictionary<string, string> Secrets = new()
    {
        ["MYPAY_OPERATOR_PASSWORD"] = "operator-password-for-the-compose-test",
        ["MYPAY_JWT_SIGNING_KEY"] = Convert.ToBase64String(new byte[48]),
    };

    [Fact]
    public async Task ComposeFile_IsValid_WithPostgresTheBankThreeNodesAndNginx()
    {
        var services = await Commands.RunAsync(Commands.Installed("MYPAY_DOCKER_COMPOSE", "docker-compose"), ["-f", "docker-compose.yml", "config", "--services"], Secrets);
        var config = await Commands.RunAsync(Commands.Installed("MYPAY_DOCKER_COMPOSE", "docker-compose"), ["-f", "docker-compose.yml", "config"], Secrets);

        Assert.Equal(["bank", "nginx", "node1", "node2", "node3", "postgres"], services.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        // Each node's silo advertises the address it has on the cluster's network, and all three share one cluster.
        foreach (var node in new[] { 1, 2, 3 })
        {
            Assert.Contains($"MYPAY_ADVERTISED_ADDRESS: 172.28.0.1{node}", config, StringComparison.Ordinal);
            Assert.Contains($"ipv4_address: 172.28.0.1{node}", config, StringComparison.Ordinal);
        }

        Assert.Equal(3, CountOf(config, "MYPAY_CLUSTER_ID: mypay"));
        Assert.Equal(3, CountOf(config, $"MYPAY_OPERATOR_PASSWORD: {Secrets["MYPAY_OPERATOR_PASSWORD"]}"));
        Assert.Contains("pgdata:/var/lib/postgresql/data", config, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComposeFile_WithoutTheOperatorPassword_IsRefusedNamingIt()
    {
        var refusal = await Commands.RunAsync(
            Commands.Installed("MYPAY_DOCKER_COMPOSE", "docker-compose"), ["-f", "docker-compose.yml", "config", "--quiet"],
            new Dictionary<string, string> { ["MYPAY_JWT_SIGNING_KEY"] = Secrets["MYPAY_JWT_SIGNING_KEY"] }, expectSuccess: false);

        Assert.Contains("set MYPAY_OPERATOR_PASSWORD", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NginxConfig_PassesNginxTest_AsDeployedAndAsRunWritesIt()
    {
        var work = Directory.CreateTempSubdirectory("mypay-nginx-");
        work.CreateSubdirectory("tmp"); // As ./mypay run makes it: nginx creates its temporary folders inside.
        try
        {
            // In compose, node1..node3 resolve on the cluster's network only; nginx resolves upstream names as it loads,
            // so the deployed file is tested with them pointed at this machine, everything else as it is.
            var deployed = (await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "nginx.conf")))
                .Replace("server node", "server 127.0.0.", StringComparison.Ordinal)
                .Replace("events {", $"pid {work.FullName}/nginx.pid;\nerror_log {work.FullName}/error.log;\nevents {{", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "deployed.conf"), deployed);
            var written = await Commands.RunAsync("bash", [Path.Combine(Root, "scripts", "nginx.sh"), "config", work.FullName, "18080", "http://127.0.0.1:5080", "http://127.0.0.1:5081"]);
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "run.conf"), written);

            foreach (var file in new[] { "deployed.conf", "run.conf" })
            {
                var verdict = await Commands.RunAsync(Commands.Installed("MYPAY_NGINX", "nginx"), ["-t", "-p", work.FullName, "-c", Path.Combine(work.FullName, file)]);
                Assert.Contains("test is successful", verdict, StringComparison.Ordinal);
            }

            Assert.Contains("server 127.0.0.1:5081 max_fails=1", written, StringComparison.Ordinal);
            Assert.DoesNotContain("server node", written, StringComparison.Ordinal);
            Assert.Contains("listen 127.0.0.1:18080;", written, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("node.Dockerfile", "MyPay.Api.dll", "/health/ready")]
    [InlineData("bank.Dockerfile", "MyPay.BankSimulator.dll", "/health/live")]
    public async Task Dockerfile_BuildsInOneStage_RunsUnprivilegedInAnother_WithAHealthCheck(string dockerfile, string entryAssembly, string healthPath)
    {
        var lines = await File.ReadAllLinesAsync(Path.Combine(Root, "deploy", dockerfile));

        Assert.Equal(2, lines.Count(line => line.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Contains(lines, line => line.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", StringComparison.Ordinal));
        var user = Assert.Single(lines, line => line.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotContain("root", user, StringComparison.Ordinal);
        Assert.True(Array.FindIndex(lines, line => line.StartsWith("USER ", StringComparison.Ordinal)) > Array.FindLastIndex(lines, line => line.StartsWith("FROM ", StringComparison.Ordinal)), "USER is set in the final stage.");
        Assert.Contains(lines, line => line.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && line.Contains(healthPath, StringComparison.Ordinal));
        Assert.Contains(lines, line => line == $"ENTRYPOINT [\"dotnet\", \"{entryAssembly}\"]");
        Assert.True(File.Exists(Path.Combine(Root, ".dockerignore")));
    }

    private static int CountOf(string text, string value) => text.Split(value).Length - 1;
}
