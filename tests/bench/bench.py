#!/usr/bin/env python3
"""End-to-end benchmarks of ohfed against its baselines (issue 14).

Run through tests/bench/run.sh, which installs the baselines and builds the
binaries. Starts real servers in a temporary directory (aggregators over TLS
with development certificates, a private PostgreSQL cluster on a unix
socket, an agent), drives them with build/tests/bench/ohfed_bench_driver,
and prints one table: each figure's ohfed value, its baseline measured in
the same run, their ratio and the issue's goal. Values are medians of N runs
with [min-max]. Timings are measured, never asserted.
"""

import argparse
import os
import pathlib
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
# What an aggregator logs once its start-up work (the patterns) is done.
PATTERNS_READY = b"suppression patterns ready"
# What it logs once it serves, after giving back what start-up touched.
SERVING = b"registry version"
# Other work on the machine skews every figure: the table shows the load.
START_LOAD = " ".join(open("/proc/loadavg").read().split()[:3])

# The sizes of each form. "full" is the issue's.
FORMS = {
    "smoke": dict(runs=1, streams=[1, 10], window_streams=[1], seconds=1,
                  census_months=2,
                  load_months=0, query_iters=3, query_budget=1, isolation_seconds=1,
                  events=20000, figures="ingest"),
    "short": dict(runs=2, streams=[1, 10, 100], window_streams=[1, 10],
                  seconds=2, census_months=3,
                  load_months=60, query_iters=10, query_budget=3,
                  isolation_seconds=2,
                  events=100000, figures="all"),
    "full": dict(runs=3, streams=[1, 10, 100, 1000],
                 window_streams=[1, 10, 100], seconds=8,
                 census_months=12, load_months=60, query_iters=200, query_budget=30,
                 isolation_seconds=8, events=1000000, figures="all"),
}

# Additional ingest rows (not the issue's): each stream keeps this many
# batches in flight, as agents upload (UploaderOptions::max_in_flight), with
# the baselines at the same cadence: RocksDB one WriteBatch+sync per WINDOW
# batches per writer, PostgreSQL WINDOW batches per transaction. --window.
WINDOW = 4

# The agent takes a file in chunks (AgentControl.ImportStream, every kind):
# the whole file is imported in one `ohfed import`. Set this to a size (15
# MiB, the one-message limit) to measure a build from before issue 14: the
# runner then splits the file into whole months if the agent refuses it.
IMPORT_SPLIT_BYTES = None


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def proc_status(pid):
    """VmRSS, VmHWM (KiB) and Threads of a process."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    out[key] = int(value.split()[0])
    except FileNotFoundError:
        pass
    return out


def du(path):
    total = 0
    for p in pathlib.Path(path).rglob("*"):
        if p.is_file():
            total += p.stat().st_size
    return total


class Sampler:
    """Largest RSS and thread count of a process while it runs."""

    def __init__(self, pid):
        self.pid, self.rss, self.threads = pid, 0, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            s = proc_status(self.pid)
            self.rss = max(self.rss, s.get("VmRSS", 0))
            self.threads = max(self.threads, s.get("Threads", 0))
            time.sleep(0.1)

    def stop(self):
        self._stop.set()
        self._t.join()
        return self


def profile_area(dso, symbol):
    """A coarse heading for one profiled symbol."""
    s = symbol
    if "rocksdb" in dso or "rocksdb::" in s:
        return "RocksDB (memtable insert, WAL, compaction)"
    if any(k in s for k in ("malloc", "free", "_int_", "unlink_chunk",
                            "operator new", "operator delete", "consolidate")):
        return "malloc/free"
    if "Rollup" in s or "PrepareWrites" in s:
        return "ohfed rollups (ApplyToRollups, PrepareWrites)"
    if "ohfed::" in s:
        return "ohfed other"
    if "protobuf" in s or "protobuf" in dso:
        return "protobuf"
    if "grpc" in dso or "grpc" in s or "ssl" in dso or "crypto" in dso:
        return "gRPC and TLS"
    if "[k]" in s or dso.startswith("[kernel"):
        return "kernel"
    if "mem" in s and "libc" in dso:
        return "memcmp/memmove/memcpy"
    if "libstdc++" in dso or "std::" in s:
        return "C++ std (maps, strings)"
    return "other"


class Bench:
    def __init__(self, args):
        self.args = args
        self.form = dict(FORMS[args.form])
        if args.runs:
            self.form["runs"] = args.runs
        self.build = pathlib.Path(args.build).resolve()
        self.bin = self.build / "bin"
        self.driver = str(self.build / "tests/bench/ohfed_bench_driver")
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="ohfed-bench-"))
        os.chmod(self.tmp, 0o755)
        self.procs = []
        self.results = {}  # name -> list of values, one per run
        self.notes = []
        self.disk = []  # disk_sync_ms at the start and at the end

    # ---------------------------------------------------------- servers --
    def certs(self):
        d = self.tmp / "certs"
        if not d.exists():
            subprocess.run([str(ROOT / "deploy/dev-certs.sh"), str(d)],
                           check=True, stdout=subprocess.DEVNULL)
        return d

    def start(self, argv, name):
        logf = open(self.tmp / f"{name}.log", "ab")
        p = subprocess.Popen(argv, stdout=logf, stderr=logf)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def aggregator(self, name, extra=(), keep_data=False):
        """Starts an aggregator over TLS on a fresh data dir (or on what
        an earlier one left there, with keep_data)."""
        certs = self.certs()
        port = free_port()
        data = self.tmp / name
        if not keep_data:
            shutil.rmtree(data, ignore_errors=True)
        argv = [str(self.bin / "ohfed-aggregator"),
                "--listen", f"127.0.0.1:{port}", "--data", str(data),
                "--tls-cert", str(certs / "server.pem"),
                "--tls-key", str(certs / "server.key"),
                "--tls-ca", str(certs / "ca.pem"),
                "--max-streams-per-peer", "5000",
                "--stream-idle-timeout", "600",
                # Exact figures to compare with PostgreSQL's: no rounding
                # or suppression below national.
                "--suppress-max", "0", "--rounding-base", "1",
                "--min-events", "0", *extra]
        p = self.start(argv, name)
        wait_port(port, p)
        p.address, p.data = f"127.0.0.1:{port}", data
        return p

    def federation(self):
        """A national aggregator and one regional per region under it."""
        national = self.aggregator("national")
        certs = self.certs()
        regions = sorted(p.name[len("regional-"):-len(".pem")]
                         for p in certs.glob("regional-*.pem"))
        regionals = []
        for r in regions:
            regionals.append((r, self.aggregator(f"regional-{r}", [
                "--covers", f"region:{r}", "--upstream", national.address,
                "--upstream-tls-cert", str(certs / f"regional-{r}.pem"),
                "--upstream-tls-key", str(certs / f"regional-{r}.key")])))
        return national, regionals

    def postgres(self):
        """A private PostgreSQL 15 cluster on a unix socket in tmp."""
        if hasattr(self, "pg"):
            return self.pg
        pgbin = pathlib.Path("/usr/lib/postgresql/15/bin")
        d = self.tmp / "pg"
        d.mkdir()
        as_user = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(d, "postgres", "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(as_user + [str(pgbin / "initdb"), "-D", str(d / "data"),
                                  "-A", "trust", "-U", "bench"],
                       check=True, stdout=subprocess.DEVNULL)
        conf = ("listen_addresses = ''\nunix_socket_directories = '%s'\n"
                "max_connections = 250\nshared_buffers = 512MB\n"
                "work_mem = 32MB\n" % d)
        with open(d / "data/postgresql.auto.conf", "a") as f:
            f.write(conf)
        subprocess.run(as_user + [str(pgbin / "pg_ctl"), "-D", str(d / "data"),
                                  "-l", str(d / "log"), "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.pg_stop = as_user + [str(pgbin / "pg_ctl"), "-D",
                                  str(d / "data"), "-m", "fast", "stop"]
        self.pg = f"host={d} user=bench dbname=postgres"
        return self.pg

    def cleanup(self):
        for p in self.procs:
            self.stop(p)
        if hasattr(self, "pg_stop"):
            subprocess.run(self.pg_stop, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ----------------------------------------------------------- driver --
    def drive(self, command, **flags):
        argv = [self.driver, command]
        for k, v in flags.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        t0 = time.time()
        r = subprocess.run(argv, capture_output=True, text=True)
        log(f"  {command} {flags.get('system', '')} "
            f"{flags.get('streams', flags.get('plan', ''))}"
            f"{' window ' + str(flags['window']) if 'window' in flags else ''}: "
            f"{time.time() - t0:.1f} s")
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
        out = {}
        for line in r.stdout.splitlines():
            k, _, v = line.partition("=")
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
        return out

    def record(self, name, value):
        self.results.setdefault(name, []).append(value)

    # ---------------------------------------------------------- figures --
    def ingest(self):
        """Figures 1 and 7: N streams, each its own trust-months."""
        f = self.form
        pg = self.postgres() if self.form["figures"] == "all" else None
        certs = self.certs()
        for n in f["streams"]:
            agg = self.aggregator(f"ingest-{n}")
            sampler = Sampler(agg.pid)
            for run in range(f["runs"]):
                rev = 1 + run * 1000000
                r = self.drive("write", system="ohfed", streams=n,
                               seconds=f["seconds"], revision=rev,
                               target=agg.address, certs=certs)
                self.record(f"ingest.{n}.ohfed", r["summaries_per_s"])
                self.record(f"ingest.{n}.ohfed_cells", r["cells_per_s"])
                self.record(f"ingest.{n}.ohfed_p99", r["ack_p99_ms"])
                # The floor: the same streams over the same TLS to a server
                # that only parses and acks (tests/bench/e2e/sinks.h).
                r = self.drive("write", system="echo", streams=n,
                               seconds=f["seconds"], revision=rev,
                               certs=certs)
                self.record(f"ingest.{n}.echo", r["summaries_per_s"])
                self.record(f"ingest.{n}.echo_p99", r["ack_p99_ms"])
                rocks = self.tmp / f"rocks-{n}"
                r = self.drive("write", system="rocksdb", streams=n,
                               seconds=f["seconds"], revision=rev, dir=rocks)
                self.record(f"ingest.{n}.rocksdb", r["summaries_per_s"])
                self.record(f"ingest.{n}.rocksdb_p99", r["ack_p99_ms"])
                if pg:
                    if run == 0:
                        self.drive("pg-setup", pg=pg)
                    r = self.drive("write", system="pg", streams=n,
                                   seconds=f["seconds"], revision=rev, pg=pg)
                    self.record(f"ingest.{n}.pg", r["summaries_per_s"])
                    self.record(f"ingest.{n}.pg_p99", r["ack_p99_ms"])
                if self.args.window > 1 and n in f["window_streams"]:
                    # Revisions above the rows' above: nothing is stale.
                    self.windowed(n, rev + 500000, agg, certs, pg)
            sampler.stop()
            self.record(f"scaling.{n}.rss", sampler.rss / 1024)
            self.record(f"scaling.{n}.threads", sampler.threads)
            if n == 100 and self.args.profile:
                self.profile(agg, n)
            self.stop(agg)
            shutil.rmtree(agg.data, ignore_errors=True)
            shutil.rmtree(self.tmp / f"rocks-{n}", ignore_errors=True)

    def windowed(self, n, rev, agg, certs, pg):
        """The additional rows: --window batches in flight per stream (each
        stream then writes 12 x window months of its own trust)."""
        w, secs = self.args.window, self.form["seconds"]
        runs = [("ohfed", dict(target=agg.address, certs=certs)),
                ("echo", dict(certs=certs)),
                ("rocksdb", dict(dir=self.tmp / f"rocks-{n}-w"))]
        if pg:
            runs.append(("pg", dict(pg=pg)))
        for system, extra in runs:
            r = self.drive("write", system=system, streams=n, seconds=secs,
                           revision=rev, window=w, **extra)
            self.record(f"ingest.{n}.w.{system}", r["summaries_per_s"])
            self.record(f"ingest.{n}.w.{system}_p99", r["ack_p99_ms"])
        shutil.rmtree(self.tmp / f"rocks-{n}-w", ignore_errors=True)

    def profile(self, agg, n):
        """perf record on the aggregator under N-stream ingest."""
        if not shutil.which("perf"):
            self.notes.append("perf not installed: no profile")
            return
        data = self.tmp / "perf.data"
        perf = subprocess.Popen(["perf", "record", "-g", "-o", str(data),
                                 "-p", str(agg.pid)],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.drive("write", system="ohfed", streams=n,
                   seconds=self.form["seconds"], revision=90000000,
                   target=agg.address, certs=self.certs())
        perf.send_signal(signal.SIGINT)
        perf.wait()
        report = subprocess.run(
            ["perf", "report", "-i", str(data), "--no-children", "-g", "none",
             "--sort", "dso,symbol", "--stdio", "--percent-limit", "0.2"],
            capture_output=True, text=True).stdout
        rows = []
        for line in report.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4 and parts[0].endswith("%"):
                symbol = parts[3].rstrip(" -").strip()
                rows.append((float(parts[0][:-1]), parts[1], symbol))
        areas = {}
        for pct, dso, symbol in rows:
            areas[profile_area(dso, symbol)] = areas.get(
                profile_area(dso, symbol), 0) + pct
        out = pathlib.Path(self.args.profile_out)
        text = [f"# perf record -p <aggregator> under {n}-stream ingest "
                f"({self.form['seconds']} s); self time",
                "", "## by area (symbols >= 0.2%)"]
        text += [f"{pct:6.2f}%  {area}" for area, pct in
                 sorted(areas.items(), key=lambda kv: -kv[1])]
        text += ["", "## top symbols"]
        text += [f"{pct:6.2f}%  {dso}  {symbol[:150]}"
                 for pct, dso, symbol in rows[:25]]
        out.write_text("\n".join(text) + "\n")
        self.profile_areas = sorted(areas.items(), key=lambda kv: -kv[1])
        log(f"profile written to {out}")

    def census(self):
        """Figure 2: every trust x 12 months, from empty, to a consistent
        national view; direct, through regional aggregators, and the
        baselines. The writing process polls the national view itself, on
        a connection made before its clock starts (as its streams' are),
        from its last ack: the time is from the start of the writes to the
        complete answer (`write --national`). Before the seventh round a
        `wait` process started after the writer exited polled it, timed
        from its own start: its start and TLS connection were inside the
        time, and whatever the national did between the two processes was
        not; that measure is kept as an additional row (`census.*_wait`)."""
        f = self.form
        months, start = f["census_months"], "2025-10"
        certs = self.certs()
        pg = self.postgres()
        for run in range(f["runs"]):
            agg = self.aggregator("census-direct")
            w = self.drive("write", system="ohfed", plan="census",
                           **{"from": start}, months=months,
                           target=agg.address, national=agg.address,
                           certs=certs)
            c = self.drive("wait", national=agg.address, certs=certs,
                           **{"from": start}, months=months)
            self.record("census.direct", w["national_seconds"])
            self.record("census.direct_lag_ms", w["national_lag_ms"])
            self.record("census.direct_wait", w["seconds"] + c["wait_seconds"])
            self.stop(agg)
            shutil.rmtree(agg.data, ignore_errors=True)

            national, regionals = self.federation()
            routes = ",".join(f"{r}={p.address}" for r, p in regionals)
            w = self.drive("write", system="ohfed", plan="census",
                           **{"from": start}, months=months, regions=routes,
                           national=national.address, certs=certs)
            c = self.drive("wait", national=national.address, certs=certs,
                           **{"from": start}, months=months)
            self.record("census.pair", w["national_seconds"])
            self.record("census.pair_lag_ms", w["national_lag_ms"])
            self.record("census.pair_polls", w["national_polls"])
            self.record("census.pair_wait", w["seconds"] + c["wait_seconds"])
            for p in [national] + [p for _, p in regionals]:
                self.stop(p)
                shutil.rmtree(p.data, ignore_errors=True)

            rocks = self.tmp / "rocks-census"
            shutil.rmtree(rocks, ignore_errors=True)
            w = self.drive("write", system="rocksdb", plan="census",
                           **{"from": start}, months=months, dir=rocks)
            self.record("census.rocksdb", w["seconds"])
            shutil.rmtree(rocks, ignore_errors=True)
            # The floor, as figure 1's: the same census over the same TLS to
            # a server that only parses and acks (no store), to the last ack.
            w = self.drive("write", system="echo", plan="census",
                           **{"from": start}, months=months, certs=certs)
            self.record("census.echo", w["seconds"])
            self.drive("pg-setup", pg=pg)
            w = self.drive("write", system="pg", plan="census",
                           **{"from": start}, months=months, pg=pg)
            self.record("census.pg", w["seconds"])

    def load(self):
        """207 trusts x 60 months into one aggregator and PostgreSQL, for
        figures 3, 4 and 6."""
        f = self.form
        certs = self.certs()
        pg = self.postgres()
        # Empty: read once start-up's memory is given back (not as soon as
        # the port answers, which can come before).
        agg = self.aggregator_logged("loaded", SERVING)
        base = proc_status(agg.pid).get("VmRSS", 0)
        w = self.drive("write", system="ohfed", plan="census", **{
            "from": "2021-10"}, months=f["load_months"], target=agg.address,
            certs=certs)
        self.loaded_at = time.time()
        self.record("load.ohfed_s", w["seconds"])
        after = proc_status(agg.pid)
        trust_months = w["summaries"]
        self.record("footprint.trust_months", trust_months)
        self.record("footprint.serialized_mib", w["bytes"] / 2**20)
        self.record("footprint.rss_after_load_mib", after["VmRSS"] / 1024)
        self.record("footprint.hwm_load_mib", after["VmHWM"] / 1024)
        self.record("footprint.rss_base_mib", base / 1024)
        self.record("footprint.agg_data_mib", du(agg.data) / 2**20)
        # PostgreSQL in bulk (COPY, rollups by GROUP BY): its ingest speed
        # is figure 1's; here only the same rows matter.
        w = self.drive("pg-setup", pg=pg, **{"from": "2021-10"},
                       months=f["load_months"])
        self.record("load.pg_s", w["seconds"])
        # What the aggregator holds the data in once the load's transient
        # buffers are gone (it has idled through the PostgreSQL load): the
        # issue's "holds ... in 700 MiB of RSS (900 MiB right after
        # loading)".
        self.record("footprint.rss_held_mib",
                    proc_status(agg.pid)["VmRSS"] / 1024)
        r = subprocess.run(
            ["psql", pg, "-Atc",
             "select pg_database_size('postgres')"], capture_output=True,
            text=True)
        if r.returncode == 0:
            self.record("footprint.pg_db_mib", int(r.stdout) / 2**20)
        subprocess.run(["psql", pg, "-qc", "VACUUM ANALYZE"], check=True)
        return agg

    def restart(self, agg, extra=()):
        """The loaded aggregator again on its data, with `extra` flags,
        once it has done its start-up work: it computes the suppression
        patterns in the background and logs when they are ready. Queries
        timed before that would measure the warm-up beside them."""
        self.stop(agg)
        return self.aggregator_logged("loaded", PATTERNS_READY, extra,
                                      keep_data=True)

    def aggregator_logged(self, name, line, extra=(), keep_data=False):
        """An aggregator as self.aggregator starts it, returned once its
        log (appended to by each start) has one more `line` than before."""
        log = self.tmp / f"{name}.log"
        seen = log.read_bytes().count(line) if log.exists() else 0
        agg = self.aggregator(name, extra, keep_data=keep_data)
        deadline = time.time() + 120
        while log.read_bytes().count(line) <= seen:
            if time.time() > deadline or agg.poll() is not None:
                raise SystemExit(f"aggregator: no '{line.decode()}'"
                                 f" in {log} within 120 s")
            time.sleep(0.05)
        return agg

    def queries(self, agg):
        """Figure 3 twice: every answer computed (--query-answers-kept 0,
        as PostgreSQL computes its GROUP BY each time: the issue's rows),
        then as shipped, where a repeated query between commits is
        answered from the answers kept for the data version. Returns the
        aggregator as shipped, for figure 4."""
        agg = self.restart(agg, ["--query-answers-kept", "0"])
        self.query_runs(agg, "query")
        agg = self.restart(agg)
        self.query_runs(agg, "query.kept")
        s = proc_status(agg.pid)
        self.record("footprint.rss_after_queries_mib", s["VmRSS"] / 1024)
        return agg

    def query_runs(self, agg, prefix):
        f = self.form
        for run in range(f["runs"]):
            r = self.drive("queries", target=agg.address, certs=self.certs(),
                           pg=self.postgres(), iters=f["query_iters"],
                           budget=f["query_budget"])
            for i in range(1, 5):
                q = f"q{i}."
                self.query_names = getattr(self, "query_names", {})
                self.query_names[i] = r[q + "name"]
                for k in ("ohfed_p50_ms", "ohfed_p99_ms", "pg_p50_ms",
                          "pg_p99_ms", "ohfed_n", "pg_n", "max_rel_diff", "missing", "rows"):
                    self.record(f"{prefix}.{i}.{k}", r[q + k])
            for k in ("floor_p50_ms", "floor_p99_ms", "after_ingest_ms",
                      "repeat_ms"):
                self.record(f"{prefix}.{k}", r[k])

    def isolation(self, agg):
        f = self.form
        for run in range(f["runs"]):
            r = self.drive("isolation", target=agg.address,
                           certs=self.certs(), pg=self.postgres(),
                           seconds=f["isolation_seconds"])
            for k, v in r.items():
                self.record(f"isolation.{k}", v)

    # ------------------------------------------------------------ agent --
    def activity_csv(self, events):
        """`events` activity rows over 24 months, deterministic."""
        path = self.tmp / f"activity-{events}.csv"
        codes = [l.split(",")[0][len("activity.count."):]
                 for l in open(ROOT / "common/data/catalogue.csv")
                 if l.startswith("activity.count.")]
        rng = random.Random(14)
        months = [(2024 + (9 + i) // 12, (9 + i) % 12 + 1) for i in range(24)]
        rows = ["date,activity,client_org,subject_ref,wait_days\n"]
        for i in range(events):
            y, m = months[i * 24 // events]
            code = codes[rng.randrange(len(codes))]
            wait = str(rng.randrange(60)) if code.endswith("referral") else ""
            rows.append(f"{y}-{m:02d}-{rng.randrange(1, 29):02d},{code},,"
                        f"S{rng.randrange(10**6):06d},{wait}\n")
        path.write_text("".join(rows))
        return path

    def split_by_month(self, path, limit):
        """Files of whole months, each under `limit` bytes (an activity
        import replaces the months it contains)."""
        lines = open(path).read().splitlines(keepends=True)
        header, body = lines[0], lines[1:]
        parts, current, size, month = [], [], 0, None
        for line in body:
            m = line[:7]
            if m != month:
                month_start = len(current)
                month = m
            if size + len(line) > limit - len(header) and month_start > 0:
                parts.append(current[:month_start])
                current = current[month_start:]
                size = sum(len(l) for l in current)
                month_start = 0
            current.append(line)
            size += len(line)
        parts.append(current)
        out = []
        for i, p in enumerate(parts):
            pp = self.tmp / f"{path.stem}-part{i}.csv"
            pp.write_text(header + "".join(p))
            out.append(pp)
        return out

    def agent(self):
        """Figures 5 and 6 (agent): ohfed import against sqlite3."""
        f = self.form
        csv = self.activity_csv(f["events"])
        self.record("agent.csv_mib", csv.stat().st_size / 2**20)
        for run in range(f["runs"]):
            data = self.tmp / "agent"
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir()
            sock = data / "agent.sock"
            agent = self.start([str(self.bin / "ohfed-agent"), "--trust",
                                "RJ1", "--data", str(data), "--insecure",
                                "--aggregator", f"127.0.0.1:{free_port()}",
                                "--socket", str(sock)], "agent")
            end = time.time() + 30
            while not sock.exists() and time.time() < end:
                time.sleep(0.05)
            time.sleep(1.0)
            idle = proc_status(agent.pid)
            self.record("agent.idle_rss_mib", idle["VmRSS"] / 1024)
            self.record("agent.idle_threads", idle["Threads"])
            t0 = time.time()
            files = [csv]
            ok = self.import_files(sock, files)
            if not ok and IMPORT_SPLIT_BYTES:
                files = self.split_by_month(csv, IMPORT_SPLIT_BYTES)
                t0 = time.time()
                ok = self.import_files(sock, files)
                if run == 0:
                    self.notes.append(
                        f"agent import: the agent refused the "
                        f"{csv.stat().st_size / 2**20:.0f} MiB file whole; "
                        f"imported as {len(files)} files of whole months "
                        f"under {IMPORT_SPLIT_BYTES >> 20} MiB")
            if not ok:
                raise RuntimeError("agent import failed")
            self.record("agent.import_s", time.time() - t0)
            after = proc_status(agent.pid)
            agent_counts = self.agent_counts(sock, "2026-09")
            self.record("agent.peak_rss_mib", after["VmHWM"] / 1024)
            time.sleep(2.0)
            self.record("agent.after_rss_mib",
                        proc_status(agent.pid)["VmRSS"] / 1024)
            self.stop(agent)
            self.record("agent.data_mib", du(data) / 2**20)
            self.sqlite(csv)
            self.record("agent.count_mismatches",
                        self.compare_counts(agent_counts, "2026-09"))

    def agent_counts(self, sock, month):
        """activity -> count in the agent's summary of `month`."""
        r = subprocess.run([str(self.bin / "ohfed"), "--agent", str(sock),
                            "show", month], capture_output=True, text=True)
        counts = {}
        for line in r.stdout.splitlines():
            parts = line.split()
            if parts and parts[0].startswith("activity.count."):
                counts[parts[0][len("activity.count."):]] = float(parts[1])
        return counts

    def compare_counts(self, agent_counts, month):
        """Activities whose monthly count differs from sqlite3's."""
        r = subprocess.run(
            ["sqlite3", str(self.tmp / "sqlite.db"),
             f"SELECT activity, n FROM monthly WHERE month = '{month}'"],
            capture_output=True, text=True, check=True)
        lite = {a: float(n) for a, n in
                (l.split("|") for l in r.stdout.splitlines())}
        keys = set(lite) | set(agent_counts)
        return sum(1 for k in keys
                   if lite.get(k) != agent_counts.get(k))

    def import_files(self, sock, files):
        for p in files:
            r = subprocess.run([str(self.bin / "ohfed"), "--agent", str(sock),
                                "import", "activity", str(p),
                                "--accept-outliers"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                log(f"import {p.name}: {r.stderr.strip()[:200]}")
                return False
        return True

    def sqlite(self, csv):
        db = self.tmp / "sqlite.db"
        if db.exists():
            db.unlink()
        script = f"""
CREATE TABLE ev(date TEXT, activity TEXT, client_org TEXT, subject_ref TEXT,
                wait_days INTEGER);
.import --csv --skip 1 {csv} ev
CREATE TABLE monthly AS SELECT substr(date, 1, 7) AS month, activity,
  count(*) AS n FROM ev GROUP BY 1, 2;
CREATE TABLE waits AS SELECT month, activity, avg(wait_days) AS median FROM (
  SELECT substr(date, 1, 7) AS month, activity, wait_days,
    row_number() OVER w AS rn, count(*) OVER w AS c
  FROM ev WHERE wait_days != ''
  WINDOW w AS (PARTITION BY substr(date, 1, 7), activity ORDER BY wait_days))
WHERE rn IN ((c + 1) / 2, (c + 2) / 2) GROUP BY 1, 2;
"""
        t0 = time.time()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "sqlite3", str(db)],
                           input=script, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sqlite3: {r.stderr.strip()[:300]}")
        self.record("sqlite.import_s", time.time() - t0)
        self.record("sqlite.peak_rss_mib",
                    int(r.stderr.strip().splitlines()[-1]) / 1024)
        self.record("sqlite.db_mib", db.stat().st_size / 2**20)

    # ------------------------------------------------------------ table --
    def run(self):
        figures = self.form["figures"]
        only = set(self.args.only.split(",")) if self.args.only else None
        want = lambda f: (only is None and figures == "all") or (
            only is not None and f in only)
        try:
            log(f"ohfed bench ({self.args.form}) in {self.tmp}")
            self.disk.append(disk_sync_ms(self.tmp))
            if only is None or "ingest" in only:
                log("ingest")
                self.ingest()
            if want("census"):
                log("census")
                self.census()
            if want("queries"):
                log("load")
                agg = self.load()
                log("queries")
                agg = self.queries(agg)
                log("isolation")
                self.isolation(agg)
            if want("agent"):
                log("agent")
                self.agent()
            self.disk.append(disk_sync_ms(self.tmp))
        finally:
            self.cleanup()
        print(Table(self).render())


def med(values):
    return statistics.median(values) if values else None


def fmt(x):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 0.01:
        return f"{x:.3g}"
    return f"{x:.2g}"


class Table:
    def __init__(self, bench):
        self.b, self.rows = bench, []

    def spread(self, name, unit=""):
        v = self.b.results.get(name)
        if not v:
            return "-"
        s = f"{fmt(med(v))}{unit}"
        if len(v) > 1:
            s += f" [{fmt(min(v))}-{fmt(max(v))}]"
        return s

    def m(self, name):
        return med(self.b.results.get(name, []))

    def ratio(self, a, b):
        if a is None or b is None or b == 0:
            return "-"
        return f"{a / b:.2f}x"

    def add(self, figure, ohfed, baseline, ratio, goal):
        self.rows.append((figure, ohfed, baseline, ratio, goal))

    def windowed_rows(self, n, rocks):
        """Additional rows, after the issue's: see WINDOW."""
        w = self.b.args.window
        ow, rw, pw, ew = (self.m(f"ingest.{n}.w.{s}") for s in
                          ("ohfed", "rocksdb", "pg", "echo"))
        if ow is None:
            return
        head = (f"1 ingest {n} streams with {w} batches in flight per stream "
                "(as agents upload), summaries/s")
        self.add(f"{head} vs RocksDB, one WriteBatch+sync per batch "
                 "(the issue's baseline above)",
                 self.spread(f"ingest.{n}.w.ohfed"),
                 self.spread(f"ingest.{n}.rocksdb"), self.ratio(ow, rocks),
                 "(issue: >= 0.8x)")
        self.add(f"{head} vs RocksDB at the same cadence, one WriteBatch+sync "
                 f"per {w} batches per writer", "",
                 self.spread(f"ingest.{n}.w.rocksdb"), self.ratio(ow, rw), "")
        if pw is not None:
            self.add(f"{head} vs PostgreSQL at the same cadence, {w} batches "
                     "per transaction", "", self.spread(f"ingest.{n}.w.pg"),
                     self.ratio(ow, pw), "")
        if ew is not None:
            self.add(f"1 ingest {n} streams with {w} batches in flight, floor: "
                     "TLS gRPC parse+ack only, summaries/s; ack p99 ms",
                     self.spread(f"ingest.{n}.w.ohfed"),
                     self.spread(f"ingest.{n}.w.echo") + "; p99 " +
                     self.spread(f"ingest.{n}.w.echo_p99"),
                     self.ratio(ow, ew) + " of floor", "")
        self.add(f"1 ingest {n} streams with {w} batches in flight, ack p99 ms "
                 "from send (RocksDB / PG at the same cadence)",
                 self.spread(f"ingest.{n}.w.ohfed_p99"),
                 self.spread(f"ingest.{n}.w.rocksdb_p99") + " / " +
                 self.spread(f"ingest.{n}.w.pg_p99"), "", "")

    def build(self):
        b, form = self.b, self.b.form
        for n in form["streams"]:
            o, r, p = (self.m(f"ingest.{n}.{s}") for s in
                       ("ohfed", "rocksdb", "pg"))
            self.add(f"1 ingest {n} streams, summaries/s vs RocksDB",
                     self.spread(f"ingest.{n}.ohfed"),
                     self.spread(f"ingest.{n}.rocksdb"), self.ratio(o, r),
                     ">= 0.8x")
            if p is not None:
                self.add(f"1 ingest {n} streams, summaries/s vs PostgreSQL",
                         "", self.spread(f"ingest.{n}.pg"), self.ratio(o, p),
                         ">= 20x")
            e = self.m(f"ingest.{n}.echo")
            if e is not None:
                self.add(f"1 ingest {n} streams, floor: TLS gRPC parse+ack "
                         "only, summaries/s; ack p99 ms",
                         self.spread(f"ingest.{n}.ohfed"),
                         self.spread(f"ingest.{n}.echo") + "; p99 " +
                         self.spread(f"ingest.{n}.echo_p99"),
                         self.ratio(o, e) + " of floor; floor " +
                         self.ratio(e, r) + " of RocksDB", "")
            self.add(f"1 ingest {n} streams, cells/s",
                     self.spread(f"ingest.{n}.ohfed_cells"), "", "", "")
            self.add(f"1 ingest {n} streams, ack p99 ms (RocksDB / PG)",
                     self.spread(f"ingest.{n}.ohfed_p99"),
                     self.spread(f"ingest.{n}.rocksdb_p99") + " / " +
                     self.spread(f"ingest.{n}.pg_p99"), "", "")
            self.windowed_rows(n, r)
        if "census.direct" in b.results:
            d, pr, r, p = (self.m(f"census.{s}") for s in
                           ("direct", "pair", "rocksdb", "pg"))
            self.add("2 census direct, s (RocksDB: 207 writers)",
                     self.spread("census.direct"),
                     self.spread("census.rocksdb"),
                     self.ratio(r, d) + " of RocksDB", ">= 0.8x")
            if "census.echo" in b.results:
                e = self.m("census.echo")
                self.add("2 census floor: TLS gRPC parse+ack only (no store), "
                         "s to the last ack",
                         self.spread("census.direct"),
                         self.spread("census.echo"),
                         self.ratio(e, d) + " of floor; floor " +
                         self.ratio(r, e) + " of RocksDB", "")
            self.add("2 census direct, s vs PostgreSQL", "",
                     self.spread("census.pg"), self.ratio(p, d) + " faster",
                     "")
            self.add("2 census via regional -> national, s",
                     self.spread("census.pair"), "direct " +
                     self.spread("census.direct"),
                     self.ratio(pr, d) + " of direct", "<= 1.5x")
            self.add("2 census, national view complete after the last ack, "
                     "ms: direct / via regional (polls every 10 ms)",
                     self.spread("census.direct_lag_ms") + " / " +
                     self.spread("census.pair_lag_ms") + " (" +
                     fmt(self.m("census.pair_polls")) + " polls)", "", "", "")
            dw, pw = self.m("census.direct_wait"), self.m("census.pair_wait")
            self.add("2 census as measured before the seventh round (then a "
                     "`wait` process, timed from its start), s: direct / "
                     "via regional",
                     self.spread("census.direct_wait") + " / " +
                     self.spread("census.pair_wait"),
                     "", self.ratio(r, dw) + " of RocksDB; pair " +
                     self.ratio(pw, dw) + " of direct", "")
        for i in range(1, 5):
            if f"query.{i}.ohfed_p99_ms" not in b.results:
                continue
            name = "%s (n %s/%s)" % (b.query_names[i], fmt(self.m(
                f"query.{i}.ohfed_n")), fmt(self.m(f"query.{i}.pg_n")))
            name += ", computed each time"
            self.add(f"3 query {name}: p50 ms", self.spread(
                f"query.{i}.ohfed_p50_ms"), self.spread(f"query.{i}.pg_p50_ms"),
                self.ratio(self.m(f"query.{i}.pg_p50_ms"),
                           self.m(f"query.{i}.ohfed_p50_ms")) + " faster", "")
            self.add(f"3 query {name}: p99 ms", self.spread(
                f"query.{i}.ohfed_p99_ms"), self.spread(f"query.{i}.pg_p99_ms"),
                self.ratio(self.m(f"query.{i}.pg_p99_ms"),
                           self.m(f"query.{i}.ohfed_p99_ms")) + " faster",
                ">= 20x")
            self.add(f"3 query {name}: rows; largest rel. diff vs PG",
                     fmt(self.m(f"query.{i}.rows")),
                     f"missing {fmt(self.m(f'query.{i}.missing'))}",
                     fmt(max(b.results[f"query.{i}.max_rel_diff"])), "0")
        for i in range(1, 5):
            k = f"query.kept.{i}."
            if k + "ohfed_p99_ms" not in b.results:
                continue
            self.add(f"3 query {b.query_names[i]}, repeated with "
                     "answers kept (shipped default): p50 / p99 ms",
                     self.spread(k + "ohfed_p50_ms") + " / " +
                     self.spread(k + "ohfed_p99_ms"),
                     self.spread(k + "pg_p50_ms") + " / " +
                     self.spread(k + "pg_p99_ms"),
                     "p99 " + self.ratio(self.m(k + "pg_p99_ms"),
                                         self.m(k + "ohfed_p99_ms")) +
                     " faster; diff " +
                     fmt(max(b.results[k + "max_rel_diff"])), "")
        if "query.floor_p99_ms" in b.results:
            self.add("3 query floor: a Query refused at once over the same "
                     "TLS channel, p50 / p99 ms",
                     self.spread("query.floor_p50_ms") + " / " +
                     self.spread("query.floor_p99_ms"), "", "", "")
        if "query.after_ingest_ms" in b.results:
            self.add("3 first query below national after a commit, ms "
                     "(one trust's activity counts, a month); then repeated",
                     self.spread("query.after_ingest_ms"),
                     "", "repeat " + self.spread("query.repeat_ms"), "")
        if "isolation.ohfed_idle_light_p99_ms" in b.results:
            for what, label in (("light", "light query"), ("ack", "ingest ack")):
                oi, ob, pi, pb = (self.m(f"isolation.{s}_{what}_p99_ms") for s in
                                  ("ohfed_idle", "ohfed_busy", "pg_idle",
                                   "pg_busy"))
                self.add(f"4 isolation {label} p99 ms, idle -> busy",
                         self.spread(f"isolation.ohfed_idle_{what}_p99_ms") +
                         " -> " +
                         self.spread(f"isolation.ohfed_busy_{what}_p99_ms"),
                         self.spread(f"isolation.pg_idle_{what}_p99_ms") +
                         " -> " +
                         self.spread(f"isolation.pg_busy_{what}_p99_ms"),
                         self.ratio(ob, oi) + " (pg " + self.ratio(pb, pi) +
                         "); vs pg busy " + self.ratio(ob, pb),
                         "<= 2x, < pg")
            if "isolation.ohfed_busyraw_light_p99_ms" in b.results:
                # Diagnostic (not the figure): a third phase in
                # which the driver receives the heavy answer as bytes and
                # does not parse it, to show what the client's own parse
                # costs the light query and the ack.
                self.add("4 isolation (diagnostic) busy p99 ms, heavy answer "
                         "received but not parsed by the client: light / ack",
                         self.spread("isolation.ohfed_busyraw_light_p99_ms") +
                         " / " +
                         self.spread("isolation.ohfed_busyraw_ack_p99_ms"),
                         "", "", "")
            if "isolation.ohfed_busyidleclient_light_p99_ms" in b.results:
                # Diagnostic (not the figure): a fourth phase in
                # which the driver's heavy-loop thread, which parses the
                # heavy answers on the same 2 cores, is in SCHED_IDLE: how
                # much of the busy p99s is the benchmark's own client.
                self.add("4 isolation (diagnostic) busy p99 ms, the driver's "
                         "heavy-loop client thread in SCHED_IDLE: light / ack",
                         self.spread(
                             "isolation.ohfed_busyidleclient_light_p99_ms") +
                         " / " + self.spread(
                             "isolation.ohfed_busyidleclient_ack_p99_ms"),
                         "", "", "")
            if "isolation.ohfed_busytidy_light_p99_ms" in b.results:
                # Diagnostic (not the figure): a fifth phase in
                # which the heavy loop asks for tidy rows, as clients did
                # before the compact form (QueryRequest.compact); the other
                # phases ask for the compact answer, as `ohfed query` does.
                self.add("4 isolation (diagnostic) busy p99 ms, heavy answer "
                         "asked for as tidy rows (before the compact form): "
                         "light / ack; heavy queries completed",
                         self.spread("isolation.ohfed_busytidy_light_p99_ms") +
                         " / " +
                         self.spread("isolation.ohfed_busytidy_ack_p99_ms") +
                         "; " + self.spread("isolation.ohfed_busytidy_heavy_runs"),
                         "", "", "")
            # Completed only: a heavy query cut by the phase's deadline
            # is counted apart (before 2026-11-26 it was counted as done).
            self.add("4 isolation heavy queries completed per phase "
                     "(ohfed: cut by the deadline)",
                     self.spread("isolation.ohfed_busy_heavy_runs") + " (cut " +
                     self.spread("isolation.ohfed_busy_heavy_cut") + ")",
                     self.spread("isolation.pg_busy_heavy_runs"), "", "")
        if "isolation.ohfed_heavy_alone_ms" in b.results:
            tidy = ""
            if "isolation.ohfed_heavy_tidy_alone_ms" in b.results:
                tidy = ("; tidy rows " +
                        self.spread("isolation.ohfed_heavy_tidy_alone_ms") +
                        ", " + fmt(self.m(
                            "isolation.ohfed_heavy_tidy_answer_bytes") / 2**20))
            self.add("4 isolation heavy query alone, ms: first of the run "
                     "(the first run's: cold after the load) / warm; answer "
                     "MiB (compact; tidy rows: warm ms, MiB)",
                     self.spread("isolation.ohfed_heavy_first_ms") + " / " +
                     self.spread("isolation.ohfed_heavy_alone_ms") + "; " +
                     fmt(self.m("isolation.ohfed_heavy_answer_bytes") / 2**20) +
                     tidy,
                     self.spread("isolation.pg_heavy_alone_ms"),
                     self.ratio(self.m("isolation.pg_heavy_alone_ms"),
                                self.m("isolation.ohfed_heavy_alone_ms")) +
                     " faster (warm)", "")
        if "agent.import_s" in b.results:
            ev = form["events"]
            self.add(f"5 agent import {ev:,} events ({fmt(self.m('agent.csv_mib'))} MiB CSV), s",
                     self.spread("agent.import_s"),
                     "sqlite3 " + self.spread("sqlite.import_s"),
                     self.ratio(self.m("sqlite.import_s"),
                                self.m("agent.import_s")) + " faster",
                     ">= 3x")
            self.add("5 agent import peak RSS MiB",
                     self.spread("agent.peak_rss_mib"),
                     "sqlite3 " + self.spread("sqlite.peak_rss_mib"),
                     self.ratio(self.m("agent.peak_rss_mib"),
                                self.m("sqlite.peak_rss_mib")), "<= 40 MiB")
        if "footprint.rss_after_load_mib" in b.results:
            tm = self.m("footprint.trust_months")
            held = ("footprint.rss_held_mib"
                    if "footprint.rss_held_mib" in b.results
                    else "footprint.rss_after_load_mib")
            rss, ser = self.m(held), self.m("footprint.serialized_mib")
            base = self.m("footprint.rss_base_mib")
            self.add(f"6 aggregator RSS per 1000 trust-months ({fmt(tm)} held), MiB",
                     fmt(rss * 1000 / tm), "serialized " + fmt(ser * 1000 / tm),
                     self.ratio(rss, ser) + " (" + self.ratio(rss - base, ser)
                     + " above empty)", "<= 2x")
            self.add("6 aggregator RSS MiB: empty / right after load / peak / held / after queries",
                     " / ".join(fmt(self.m(f"footprint.{k}")) for k in (
                         "rss_base_mib", "rss_after_load_mib", "hwm_load_mib",
                         "rss_held_mib", "rss_after_queries_mib")), "", "", "")
            self.add("6 data dir MiB: aggregator vs PostgreSQL db",
                     fmt(self.m("footprint.agg_data_mib")),
                     fmt(self.m("footprint.pg_db_mib")),
                     self.ratio(self.m("footprint.agg_data_mib"),
                                self.m("footprint.pg_db_mib")), "")
        if "agent.idle_rss_mib" in b.results:
            self.add("6 agent RSS MiB idle (threads)",
                     self.spread("agent.idle_rss_mib") + " (" +
                     fmt(self.m("agent.idle_threads")) + ")", "", "",
                     "<= 15 MiB")
            self.add("6 agent RSS MiB after import",
                     self.spread("agent.after_rss_mib"), "",
                     self.ratio(self.m("agent.after_rss_mib"),
                                self.m("agent.idle_rss_mib")) + " of idle",
                     "back to idle")
            self.add("5 agent monthly counts differing from sqlite3's "
                     "(2026-09, by activity)",
                     fmt(max(b.results.get("agent.count_mismatches", [0]))),
                     "", "", "0")
            self.add("6 data dir MiB: agent vs sqlite3 db",
                     fmt(self.m("agent.data_mib")),
                     fmt(self.m("sqlite.db_mib")), "", "")
        ref = self.m("ingest.10.ohfed")
        for n in form["streams"]:
            self.add(f"7 scaling {n} streams: summaries/s; RSS MiB; threads",
                     fmt(self.m(f"ingest.{n}.ohfed")),
                     f"RSS {fmt(self.m(f'scaling.{n}.rss'))}; "
                     f"threads {fmt(self.m(f'scaling.{n}.threads'))}",
                     self.ratio(self.m(f"ingest.{n}.ohfed"), ref) +
                     " of 10", "0.8-1.2x (10..1000)")

    def render(self):
        self.build()
        head = ("figure", "ohfed", "baseline", "ratio", "goal")
        widths = [max(len(str(r[i])) for r in self.rows + [head])
                  for i in range(5)]
        line = lambda r: "| " + " | ".join(
            str(c).ljust(w) for c, w in zip(r, widths)) + " |"
        out = [machine(), disk_line(self.b.disk),
               f"form: {self.b.args.form}, medians of "
               f"{self.b.form['runs']} runs [min-max]", "",
               line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in self.rows]
        out += [f"note: {n}" for n in self.b.notes]
        return "\n".join(out)


def machine():
    cpu = "unknown CPU"
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
    mem = 0
    for l in open("/proc/meminfo"):
        if l.startswith("MemTotal"):
            mem = int(l.split()[1]) / 2**20
    load = open("/proc/loadavg").read().split()[:3]
    return (f"machine: nproc {os.cpu_count()}, {cpu}, {mem:.1f} GiB RAM; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
            f"load average at start {START_LOAD}, at end {' '.join(load)}")


DISK_PROBE_KB = 48


def disk_sync_ms(directory, n=100):
    """Median and p90, in ms, of appending DISK_PROBE_KB KB to a file in
    `directory` and fdatasync'ing them, `n` times: what every synced figure
    waits on. On the VM the tables come from it moved by half within an
    hour, which moves ohfed's and RocksDB's ingest figures alike."""
    path = os.path.join(directory, "disk-sync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        buf = os.urandom(DISK_PROBE_KB << 10)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, buf)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t) * 1e3)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    return times[n // 2], times[9 * n // 10]


def disk_line(probes):
    """The disk probes (disk_sync_ms) at the start and, if the run got
    there, at the end."""
    at = ["start", "end"]
    parts = [f"median {m:.2f} ms, p90 {p:.2f} at {w}"
             for (m, p), w in zip(probes, at)]
    return (f"disk: {DISK_PROBE_KB} KB append + fdatasync in the temp dir, " +
            ("; ".join(parts) if parts else "not measured"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    for form in FORMS:
        g.add_argument(f"--{form}", dest="form", action="store_const",
                       const=form)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--runs", type=int, default=0, help="runs per figure")
    ap.add_argument("--profile", action="store_true",
                    help="perf record the aggregator under 100 streams")
    ap.add_argument("--profile-out", default="bench-profile.txt")
    ap.add_argument("--only", default="",
                    help="comma list of ingest,census,queries,agent")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--window", type=int, default=WINDOW,
                    help="batches in flight per stream in the additional "
                    "ingest rows (at 1, 10 streams; 100 in --full), with "
                    "RocksDB one WriteBatch+sync and PostgreSQL one "
                    "transaction per that many batches; 1 or 0: no such "
                    f"rows (default {WINDOW})")
    args = ap.parse_args()
    args.form = args.form or "short"
    Bench(args).run()


if __name__ == "__main__":
    main()
