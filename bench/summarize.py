#!/usr/bin/env python3
"""Turns one bench/run's measurements into the table it prints and bench/results/latest.md; with `profile`, one profiled scenario into bench/results/profile-SCENARIO.md."""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from collections import Counter


def scenario_numbers(path):
    """Throughput and latency of one load-test scenario, from its --json output; None if it did not run."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, encoding="utf-8") as file:
        result = json.load(file)
    latency = result.get("latencyMs", {})
    return {
        "rps": float(result.get("throughputPerSecond", 0)),
        "p50": latency.get("p50"),
        "p99": latency.get("p99"),
        "max": latency.get("max"),
        "ok": result.get("ok", 0),
        "errors": sum((result.get("errorsByStatus") or {}).values()),
        "verified": result.get("verification", {}).get("passed"),
    }


def cpu_ms_per_request(path, requests):
    """
    CPU milliseconds per measured request of the node, PostgreSQL and the bank, from bench/run's
    cpu-SCENARIO.txt: a "before" and an "after" line of CPU seconds each ("-" where not measured).
    """
    if not os.path.exists(path) or not requests:
        return [None, None, None]
    with open(path, encoding="utf-8") as file:
        snapshots = dict(line.split(" ", 1) for line in file.read().splitlines() if " " in line)
    before, after = (snapshots.get(name, "").split() for name in ("before", "after"))
    if len(before) != 3 or len(after) != 3:
        print(f"warning: {path} does not hold three CPU times before and after; CPU per request not shown", file=sys.stderr)
        return [None, None, None]
    return [None if "-" in (start, end) else 1000 * (float(end) - float(start)) / requests for start, end in zip(before, after)]


def read_number(path):
    """The number a bench/run step wrote to a file, or None when it could not measure it."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as file:
        text = file.read().strip()
    return float(text) if text else None


def fmt(value, digits=1):
    return "—" if value is None else f"{value:,.{digits}f}"


def code_area(dso, symbol):
    """The part of the node a sample belongs to: a JIT-compiled method's assembly (the perf map writes
    "instance void [Assembly] Namespace.Type::Method(...)"), else the native library or assembly image it is in."""
    if dso.startswith("[JIT]"):
        match = re.search(r"\[([^\]]+)\]\s*[^\s\[\]]+::", symbol)
        return match.group(1) if match else "JIT-compiled, unnamed"
    return dso


def node_cpu_lines(path):
    """The node's samples (perf report --sort dso,sym) by code area, then its hottest methods."""
    symbols = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            match = re.match(r"\s*([0-9.]+)%\s+(.+?)\s+\[.\]\s+(.*)", line)
            if match:
                symbols.append((float(match.group(1)), match.group(2), match.group(3).strip()))
    if not symbols:
        return ["(perf named none of the node's methods.)", ""]
    areas = Counter()
    for share, dso, symbol in symbols:
        areas[code_area(dso, symbol)] += share
    return [
        "| the node's CPU by code area (methods over 0.05% of its samples) | share of the node |",
        "| --- | ---: |",
        *[f"| {area} | {share:.1f}% |" for area, share in areas.most_common(15)],
        "",
        "| the node's hottest methods | where | share of the node |",
        "| --- | --- | ---: |",
        *[f"| `{symbol[:100].replace('|', '/')}` | {dso} | {share:.1f}% |" for share, dso, symbol in symbols[:25]],
        "",
    ]


def profile_main(argv):
    """Where the CPU went during one scenario (perf samples by process) and PostgreSQL's costliest statements."""
    parser = argparse.ArgumentParser(prog="summarize.py profile")
    for name in ("scenario", "report", "samples", "statements", "node-symbols", "node-pid", "bank-pid", "client-pid", "output"):
        parser.add_argument("--" + name, required=True)
    arguments = parser.parse_args(argv)

    owners = {arguments.node_pid: "node", arguments.bank_pid: "bank simulator", arguments.client_pid: "load-test client"}
    shares = Counter()
    with open(arguments.samples, encoding="utf-8") as file:
        for line in file:
            parts = line.split()
            if not parts:
                continue
            pid, comm = parts[-1], " ".join(parts[:-1])
            shares["idle" if pid == "0" else "PostgreSQL" if comm.startswith("postgres") else owners.get(pid, "other")] += 1
    total = sum(shares.values()) or 1

    numbers = scenario_numbers(arguments.report)
    lines = [
        f"# Profile: {arguments.scenario}",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC. Reproduce: `bench/run profile {arguments.scenario}`.",
        "",
        f"Throughput during the profiled run: {fmt(numbers['rps']) if numbers else '—'} req/s, p99 {fmt(numbers['p99'], 2) if numbers else '—'} ms.",
        "",
        "| where the CPU went (perf samples on every core) | share |",
        "| --- | ---: |",
        *[f"| {owner} | {100 * count / total:.1f}% |" for owner, count in shares.most_common()],
        "",
        *node_cpu_lines(arguments.node_symbols),
        "| PostgreSQL statement | calls | total ms | mean ms | rows |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    with open(arguments.statements, encoding="utf-8") as file:
        for line in file:
            calls, total_ms, mean_ms, rows, query = line.rstrip("\n").split("\t", 4)
            lines.append(f"| `{query.replace('|', '/')}` | {int(calls):,} | {float(total_ms):,.1f} | {float(mean_ms):.3f} | {int(rows):,} |")
    text = "\n".join(lines) + "\n"
    with open(arguments.output, "w", encoding="utf-8") as file:
        file.write(text)
    print(text)


def heap_main(argv):
    """The live managed heap of a node holding many idle activations (dotnet-gcdump report), by owner and by type:
    the types with about one object per activation are what an activation costs."""
    parser = argparse.ArgumentParser(prog="summarize.py heap")
    parser.add_argument("--report", required=True)
    parser.add_argument("--activations", type=int, required=True)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args(argv)

    types = Counter()
    counts = Counter()
    total = 0
    with open(arguments.report, encoding="utf-8") as file:
        for line in file:
            # "    Object Bytes     Count  Type [Assembly]": the bytes are per object.
            match = re.match(r"\s*([0-9,]+)\s+([0-9,]+)\s+(.+?)\s*$", line)
            if not match:
                continue
            size, count = int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))
            name = re.sub(r"\s+", " ", re.sub(r"\s*\(Bytes > [0-9KM]+\)", "", match.group(3)))
            types[name] += size * count
            counts[name] += count
            total += size * count
    per_activation = {name: types[name] for name in types if counts[name] >= 0.9 * arguments.activations}

    def owner(name):
        # The type's own namespace first (Orleans' PersistentState<WalletState> is Orleans'), then a collection's elements.
        for prefix, who in (("MyPay.", "MyPay"), ("Orleans.", "Orleans")):
            if name.startswith(prefix):
                return who
        return "MyPay" if "MyPay." in name else "Orleans" if "Orleans." in name else \
            "dependency injection (a scope per activation)" if "DependencyInjection" in name else "runtime and collections"

    owners = Counter()
    for name, size in per_activation.items():
        owners[owner(name)] += size
    n = arguments.activations
    lines = [
        f"# Heap of a node holding {n:,} idle wallet activations",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC. Reproduce: `BENCH_GCDUMP=1 bench/run memory`.",
        "",
        f"Live managed heap: {total / 1e6:,.1f} MB. Types with about one object per activation (or more), by owner "
        "(a collection counts as its element type's owner's):",
        "",
        "| owner | MB | bytes per activation |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {size / 1e6:,.1f} | {size / n:,.0f} |" for name, size in owners.most_common()],
        "",
        "| type | objects | bytes per activation |",
        "| --- | ---: | ---: |",
        *[f"| `{name[:120].replace('|', '/')}` | {counts[name]:,} | {size / n:,.0f} |"
          for name, size in sorted(per_activation.items(), key=lambda item: -item[1])[:40]],
    ]
    text = "\n".join(lines) + "\n"
    with open(arguments.output, "w", encoding="utf-8") as file:
        file.write(text)
    print(text)


def settlement_lines(work):
    """The settlement paragraph: merchants settled per second while pay ran, and pay's rate then against its own."""
    path = os.path.join(work, "settle-runs.txt")
    if not os.path.exists(path):
        return []
    runs = [line.split() for line in open(path, encoding="utf-8") if line.strip()]
    seconds = sum(float(run[0]) for run in runs)
    settled = sum(int(run[1]) for run in runs)
    paid = sum(int(run[2]) for run in runs)
    alone = scenario_numbers(os.path.join(work, "scenario-pay.json"))
    meanwhile = scenario_numbers(os.path.join(work, "scenario-pay-while-settling.json"))
    share = meanwhile["rps"] / alone["rps"] if alone and meanwhile and alone["rps"] else None
    return [
        f"Settlement while paying (pay-while-settling): {len(runs)} runs of POST /v1/settlements/run back to back settled "
        f"{settled:,} merchants ({paid:,} paid through the bank) in {fmt(seconds, 1)} s of runs: "
        f"{fmt(settled / seconds if seconds else None, 1)} merchants settled per second. "
        f"Pay meanwhile: {fmt(meanwhile['rps'] if meanwhile else None)} req/s, "
        f"{fmt(share * 100 if share else None, 0)}% of pay's rate without settlement in this run.",
        "",
    ]


def histogram_buckets(path, metric, group_label=None, **labels):
    """A histogram's cumulative buckets from a /metrics scrape, of the series whose labels match LABELS:
    {value of GROUP_LABEL (None without one): {upper bound: count}}, series of one group summed."""
    buckets = {}
    if not os.path.exists(path):
        return buckets
    pattern = re.compile(r'^' + re.escape(metric) + r'_bucket\{([^}]*)\} ([0-9.e+]+)')
    for line in open(path, encoding="utf-8"):
        match = pattern.match(line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if any(found.get(name) != value for name, value in labels.items()):
            continue
        bound = float("inf") if found.get("le") == "+Inf" else float(found.get("le", "nan"))
        group = buckets.setdefault(found.get(group_label, "?") if group_label else None, {})
        group[bound] = group.get(bound, 0) + float(match.group(2))
    return buckets


def lag_buckets(path):
    """Each consumer's cumulative lag histogram from a /metrics scrape: {consumer: {upper bound ms: count}}."""
    return histogram_buckets(path, "mypay_events_consumer_lag_milliseconds", "consumer")


def lag_percentile(before, after, share):
    """The upper bound of the histogram bucket holding the share-th event of those counted between two scrapes."""
    bounds = sorted(after)
    counts = [after[bound] - before.get(bound, 0) for bound in bounds]
    if not counts or counts[-1] <= 0:
        return None
    return next(bound for bound, count in zip(bounds, counts) if count >= share * counts[-1])


def counter_sum(path, metric, **labels):
    """The sum of a counter's (or gauge's) series whose labels match LABELS, from a /metrics scrape; None if absent."""
    if not os.path.exists(path):
        return None
    total, seen = 0.0, False
    pattern = re.compile(r'^' + re.escape(metric) + r'(?:\{([^}]*)\})? ([0-9.e+-]+)')
    for line in open(path, encoding="utf-8"):
        match = pattern.match(line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(name) == value for name, value in labels.items()):
            total, seen = total + float(match.group(2)), True
    return total if seen else None


def tail_lines(work, scenario, seconds):
    """Where a paced pay's latency goes, from the node's /metrics before and after the measured part: the payment
    endpoint's own time against the client's, the group commits' duration and size, and the runtime's pauses."""
    before, after = (os.path.join(work, f"metrics-{scenario}-{when}.txt") for when in ("before", "after"))
    numbers = scenario_numbers(os.path.join(work, f"scenario-{scenario}.json"))
    if not (numbers and os.path.exists(before) and os.path.exists(after)):
        return []

    def quantiles(metric, scale, **labels):
        old = histogram_buckets(before, metric, **labels).get(None, {})
        new = histogram_buckets(after, metric, **labels).get(None, {})
        return [None if bound is None else bound * scale for bound in (lag_percentile(old, new, share) for share in (0.5, 0.99))]

    def delta(metric, **labels):
        old, new = counter_sum(before, metric, **labels), counter_sum(after, metric, **labels)
        return None if new is None else new - (old or 0)

    server = quantiles("http_server_request_duration_seconds", 1000, http_route="/v1/payments", http_request_method="POST")
    commit = quantiles("mypay_silo_commit_duration_milliseconds", 1)
    write = quantiles("mypay_silo_write_duration_milliseconds", 1)
    batches, writes = delta("mypay_silo_commit_duration_milliseconds_count"), delta("mypay_silo_commit_batch_size_sum")
    pause = delta("dotnet_gc_pause_time_seconds_total")
    collections = [delta("dotnet_gc_collections_total", gc_heap_generation=generation) for generation in ("gen0", "gen1", "gen2")]
    contentions = delta("dotnet_monitor_lock_contentions_total")
    careful = delta("mypay_silo_commit_careful_total")
    gc_part = (
        f"garbage collections gen0/gen1/gen2 {' / '.join(fmt(count, 0) for count in collections)}, paused {fmt(pause * 1000 if pause is not None else None, 0)} ms "
        f"in all ({fmt(100 * pause / seconds if pause is not None else None, 2)}% of the time; "
        f"{fmt(1000 * pause / sum(collections) if pause and None not in collections and sum(collections) else None, 1)} ms a collection on average)")
    return [
        f"Where {scenario}'s latency goes (the node's /metrics over the measured part; a histogram's bucket upper bound): "
        f"the client saw p50 {fmt(numbers['p50'], 1)} ms and p99 {fmt(numbers['p99'], 1)} ms; the payment endpoint itself "
        f"(ASP.NET Core's request duration) p50 ≤ {fmt(server[0], 0)} ms, p99 ≤ {fmt(server[1], 0)} ms. Group commits: "
        f"{fmt(batches, 0)} of {fmt(writes / batches if batches and writes else None, 1)} writes on average "
        f"({fmt(careful or 0, 0)} sent again in two round trips, a write of theirs stale or repeated), each transaction p50 ≤ {fmt(commit[0], 1)} ms, "
        f"p99 ≤ {fmt(commit[1], 0)} ms; a write from queued to committed p50 ≤ {fmt(write[0], 1)} ms, p99 ≤ {fmt(write[1], 0)} ms; "
        f"{gc_part}; {fmt(contentions, 0)} lock contentions.",
        "",
    ]


def share_line(work, off_scenario, what):
    """Pay as shipped against pay on a node without a part (OFF_SCENARIO), in this run: what that part costs pay."""
    on = scenario_numbers(os.path.join(work, "scenario-pay.json"))
    off = scenario_numbers(os.path.join(work, f"scenario-{off_scenario}.json"))
    if not (on and off and off["rps"]):
        return []
    return [
        f"{what}: pay ran at {fmt(on['rps'])} req/s, {fmt(100 * on['rps'] / off['rps'], 0)}% of its rate without it "
        f"({off_scenario}, {fmt(off['rps'])} req/s).",
        "",
    ]


def nginx_lines(work):
    """Pay through nginx in front of 1, 2 and 3 nodes, each as a share of pay straight to one node in this run."""
    pay = scenario_numbers(os.path.join(work, "scenario-pay.json"))
    rows = [(count, scenario_numbers(os.path.join(work, f"scenario-pay-{count}-nodes-nginx.json"))) for count in range(1, 10)]
    rows = [(count, numbers) for count, numbers in rows if numbers]
    if not (pay and pay["rps"] and rows):
        return []
    parts = [f"{count} node{'s' if count > 1 else ''} {fmt(numbers['rps'])} req/s ({fmt(100 * numbers['rps'] / pay['rps'], 0)}%)" for count, numbers in rows]
    return [
        f"Pay through nginx in front of the cluster's nodes, against pay straight to one node ({fmt(pay['rps'])} req/s): "
        + ", ".join(parts) + ". On 2 cores more nodes share the same CPU: the rows show what nginx and calls between silos cost.",
        "",
    ]


def events_lines(work):
    """What delivering events and the dashboard cost pay in this run, and each consumer's lag under pay."""
    lines = share_line(work, "pay-events-off", "Events delivered (off: still written to the outbox)")
    lines += nginx_lines(work)
    lines += share_line(work, "pay-dashboard-off", "Orleans' dashboard on (its grain-call profiling)")
    lines += share_line(work, "pay-request-log-off", "A log line per request")
    before = lag_buckets(os.path.join(work, "metrics-pay-before.txt"))
    after = lag_buckets(os.path.join(work, "metrics-pay-after.txt"))
    rows = []
    for consumer in sorted(after):
        counted = after[consumer].get(float("inf"), 0) - before.get(consumer, {}).get(float("inf"), 0)
        p50, p99 = (lag_percentile(before.get(consumer, {}), after[consumer], share) for share in (0.5, 0.99))
        if counted > 0:
            rows.append(f"| {consumer} | {counted:,.0f} | ≤ {fmt(p50, 0)} | ≤ {fmt(p99, 0)} |")
    if rows:
        lines += [
            "Consumers' lag under the pay scenario (an event's happening to its consumer's having applied it, from the node's "
            "`mypay.events.consumer.lag` histogram over the measured part; a bucket's upper bound):",
            "",
            "| consumer | events | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: |",
            *rows,
            "",
        ]
    return lines


def main():
    if sys.argv[1:2] == ["profile"]:
        profile_main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["heap"]:
        heap_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    for name in ("pgbench-tps", "echo-rps", "wrk-recharge-rps", "wrk-recharge-p99", "rss-before", "rss-fresh", "rss-after", "rss-idle"):
        parser.add_argument("--" + name, type=float, default=None)
    parser.add_argument("--work", required=True)
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--idle-wallets", type=int, required=True)
    parser.add_argument("--idle-seconds", type=int, required=True)
    parser.add_argument("--duration", required=True)
    parser.add_argument("--concurrency", required=True)
    parser.add_argument("--warmup", required=True)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()

    pgbench, echo = arguments.pgbench_tps, arguments.echo_rps
    header = ["scenario", "req/s", "p50 ms", "p99 ms", "max ms", "ok", "errors", "vs (a)", "vs (b)", "vs peer",
              "node CPU ms/req", "PostgreSQL CPU ms/req", "bank CPU ms/req", "ledger verified"]
    rows = []
    for scenario in arguments.scenarios.split():
        numbers = scenario_numbers(os.path.join(arguments.work, f"scenario-{scenario}.json"))
        if numbers is None:
            rows.append("| " + " | ".join([scenario, "did not run"] + [""] * (len(header) - 2)) + " |")
            continue
        # The peer's row of the same scenario (bench/Peer, one transaction per request), when this run measured it.
        peer = scenario_numbers(os.path.join(arguments.work, f"scenario-peer-{scenario}.json"))
        node_cpu, postgres_cpu, bank_cpu = cpu_ms_per_request(
            os.path.join(arguments.work, f"cpu-{scenario}.txt"), numbers["ok"] + numbers["errors"])
        rows.append(
            f"| {scenario} | {fmt(numbers['rps'])} | {fmt(numbers['p50'], 2)} | {fmt(numbers['p99'], 2)} | {fmt(numbers['max'], 2)} "
            f"| {numbers['ok']:,} | {numbers['errors']:,} | {fmt(numbers['rps'] / pgbench if pgbench else None, 2)}× "
            f"| {fmt(numbers['rps'] / echo if echo else None, 2)}× | {fmt(numbers['rps'] / peer['rps'], 2) + '×' if peer and peer['rps'] else '—'} | {fmt(node_cpu, 2)} | {fmt(postgres_cpu, 2)} | {fmt(bank_cpu, 2)} "
            f"| {'pass' if numbers['verified'] else 'FAIL' if numbers['verified'] is False else '—'} |")

    settling = settlement_lines(arguments.work)
    peer_note = [
        "peer-SCENARIO rows: the same scenario sent to the peer (bench/Peer), MyPay's pay operation written the classic way: "
        "one ASP.NET Core endpoint, one PostgreSQL transaction per request (the wallet_balance row locked, updated, the journal "
        "entry, postings and payment row inserted) on the same database, JSON and tokens; its \"node CPU\" is the peer's process. "
        "\"vs peer\" is a row's rate over the peer's row of the same scenario.",
        "",
    ] if any(name.startswith("peer-") for name in arguments.scenarios.split()) else []
    events = events_lines(arguments.work)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8") if line.startswith("model name")), platform.processor())
    lines = [
        "# MyPay benchmark",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, commit {commit}, {os.cpu_count()} cores ({cpu}), "
        f"{arguments.duration} s per measurement (each scenario after {arguments.warmup} s of unmeasured warm-up), load-test concurrency {arguments.concurrency}, `synchronous_commit = on`. Reproduce: `bench/run`.",
        "",
        "| baseline | per second |",
        "| --- | ---: |",
        f"| (a) pgbench TPC-B-like, 16 clients, 2 threads, scale 10 | {fmt(pgbench)} tps |",
        f"| (b) Kestrel: trivial JSON POST under wrk -t2 -c64 | {fmt(echo)} req/s |",
        "",
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * (len(header) - 2) + " --- |",
        *rows,
        "",
        *peer_note,
        "CPU per request is the CPU time each process used in the measured part of a scenario (after its warm-up), "
        "divided by its requests: where a request's cost lies. It moves with the machine's load too (at lower "
        "throughput batches are smaller, so each request carries more per-statement work). "
        f"PostgreSQL's CPU per pgbench transaction, measured the same way: {fmt(read_number(os.path.join(arguments.work, 'cpu-pgbench.txt')), 2)} ms.",
        "",
        f"Cross-check of the charge endpoint with wrk (one member, fresh key per request, -t2 -c32): "
        f"{fmt(arguments.wrk_recharge_rps)} req/s, p99 {fmt(arguments.wrk_recharge_p99, 2)} ms.",
        "",
        *settling,
        *events,
        *tail_lines(arguments.work, "pay-at-half-its-rate", float(arguments.duration)),
        f"Node memory (RSS): a fresh node {fmt(arguments.rss_before, 0)} MB when ready, {fmt(arguments.rss_fresh, 0)} MB idle; "
        f"just after activating {arguments.idle_wallets:,} idle wallets {fmt(arguments.rss_after, 0)} MB "
        f"(+{fmt((arguments.rss_after or 0) - (arguments.rss_before or 0), 0)} MB on the ready node), then idle {fmt(arguments.rss_idle, 0)} MB "
        f"(+{fmt((arguments.rss_idle or 0) - (arguments.rss_fresh or 0), 0)} MB on the idle fresh node; each idle figure after {arguments.idle_seconds} s without requests).",
        "",
    ]
    text = "\n".join(lines)
    with open(arguments.output, "w", encoding="utf-8") as file:
        file.write(text)
    print(text)


if __name__ == "__main__":
    main()
