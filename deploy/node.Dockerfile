# A MyPay node (the HTTP API with its co-hosted Orleans silo). Built from the repository root:
#   docker build -f deploy/node.Dockerfile -t mypay-node .
# Listens on 8080 (HTTP), 11111 (silo) and 30000 (gateway); settings come from MYPAY_ variables (README, Environment).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY . .
RUN dotnet publish src/Api/MyPay.Api.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# curl, for the health check only.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080 MYPAY_SILO_PORT=11111 MYPAY_GATEWAY_PORT=30000
EXPOSE 8080 11111 30000
# The image's unprivileged user (APP_UID, 1654): the node needs no privilege.
USER $APP_UID
# Ready: the database is reachable and migrated (GET /health/ready).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["curl", "--fail", "--silent", "--output", "/dev/null", "http://127.0.0.1:8080/health/ready"]
ENTRYPOINT ["dotnet", "MyPay.Api.dll"]
