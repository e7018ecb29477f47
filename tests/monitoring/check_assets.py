#!/usr/bin/python3
"""The shipped monitoring assets against a live sidecastd.

packaging/grafana/sidecast-dashboard.json must parse as JSON and look like a
Grafana dashboard; every metric its queries (and the alerting rules of
packaging/prometheus/sidecast-rules.yml) name must exist in the /metrics of
a real sidecastd, and every label value they select on literally (reason="x",
setting="y", reason=~"a|b") must be one that sidecastd exports. Two daemons
are scraped: a standalone one and one in cluster mode with a private
redis-server (unix socket in a temporary directory, removed afterwards).
Both scrapes must also pass `promtool check metrics`.

Usage: check_assets.py SIDECASTD DASHBOARD_JSON RULES_YML
Exit 0: all good, 1: a check failed, 77: skipped (no redis-server).
Only the Python standard library (Debian's python3).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

OUR_METRIC = re.compile(r"\b((?:sidecast|process)_[a-z0-9_]+)\b")
SELECTOR = re.compile(r"\b((?:sidecast|process)_[a-z0-9_]+)\s*\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def ok(msg):
    print("ok   " + msg)


# ---- the assets ------------------------------------------------------------------

def dashboard_queries(path):
    """Every PromQL string in the dashboard: targets' expr and template queries."""
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)  # raises on invalid JSON: the test fails
    ok("%s parses as JSON" % os.path.basename(path))
    for key in ("title", "uid", "panels", "schemaVersion", "templating"):
        if key not in dash:
            fail("dashboard has no %r" % key)
    ids = [p.get("id") for p in dash.get("panels", [])]
    if len(ids) != len(set(ids)):
        fail("dashboard panel ids are not unique: %s" % ids)
    queries = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("expr", "definition") and isinstance(v, str):
                    queries.append((where, v))
                elif k == "query" and isinstance(v, str) and "(" in v:
                    queries.append((where, v))
                else:
                    walk(v, node.get("title", where) if k != "datasource" else where)
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    walk(dash, "dashboard")
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            fail("panel %r has no queries" % p.get("title"))
        for t in targets:
            if not t.get("expr"):
                fail("panel %r has a target without expr" % p.get("title"))
        if p.get("datasource", {}).get("uid") != "${datasource}":
            fail("panel %r does not use the $datasource variable" % p.get("title"))
    ok("dashboard: %d panels, %d queries" % (len(dash.get("panels", [])), len(queries)))
    return queries


def rules_queries(path):
    """The rules file's lines, comments left out (expressions and annotations)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith("#"):
                continue
            out.append(("%s:%d" % (os.path.basename(path), n), line))
    return out


# ---- live daemons ----------------------------------------------------------------

def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start_sidecastd(binary, tmp, name, extra):
    log = os.path.join(tmp, name + ".log")
    args = [binary, "--socket", os.path.join(tmp, name + ".sock"), "--http-listen",
            "127.0.0.1:0", "--node-name", name] + extra
    with open(log, "w") as lf:
        proc = subprocess.Popen(args, stdout=lf, stderr=subprocess.STDOUT)

    def port():
        if proc.poll() is not None:
            raise RuntimeError("%s exited %d:\n%s" % (name, proc.returncode, open(log).read()))
        m = re.search(r"http: listening on 127\.0\.0\.1:(\d+)", open(log).read())
        return int(m.group(1)) if m else None

    return proc, wait_for(port, 30, name + "'s http port in " + log)


def start_redis(tmp):
    sock = os.path.join(tmp, "redis.sock")
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", tmp, "--logfile",
         os.path.join(tmp, "redis.log"), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pong():
        if proc.poll() is not None:
            raise RuntimeError("redis-server exited %d" % proc.returncode)
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(sock)
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    wait_for(pong, 30, "redis-server on " + sock)
    return proc, sock


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def parse_metrics(text):
    """{sample name: [labels dict, ...]}"""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            fail("unparsable /metrics line: %r" % line)
            continue
        labels = dict(LABEL.findall(m.group(2) or ""))
        series.setdefault(m.group(1), []).append(labels)
    return series


def promtool_check(text, what):
    if not shutil.which("promtool"):
        print("note promtool not installed: /metrics not linted")
        return
    r = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       capture_output=True)
    if r.returncode == 0:
        ok("promtool check metrics: %s" % what)
    else:
        fail("promtool check metrics (%s):\n%s%s" % (what, r.stdout, r.stderr))


def scrape(binary):
    tmp = tempfile.mkdtemp(prefix="sidecast-monitoring-")
    procs = []
    try:
        alone, port = start_sidecastd(binary, tmp, "alone", [])
        procs.append(alone)
        status, standalone = http_get(port, "/metrics")
        if status != 200:
            fail("standalone /metrics answered %d" % status)
        promtool_check(standalone, "standalone")

        redis, rsock = start_redis(tmp)
        procs.append(redis)
        node, cport = start_sidecastd(binary, tmp, "clustered",
                                      ["--redis-url", "unix://" + rsock, "--heartbeat-ms", "200"])
        procs.append(node)
        wait_for(lambda: http_get(cport, "/readyz")[0] == 200, 30, "the cluster node's /readyz")

        def with_nodes():
            st, body = http_get(cport, "/metrics")
            return body if st == 200 and "sidecast_cluster_node_info{" in body else None

        cluster = wait_for(with_nodes, 30, "sidecast_cluster_node_info in the cluster scrape")
        promtool_check(cluster, "cluster")
        return parse_metrics(standalone), parse_metrics(cluster)
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


# ---- the check -------------------------------------------------------------------

def check_queries(queries, series, source):
    names = set()
    for where, q in queries:
        for name in OUR_METRIC.findall(q):
            names.add(name)
            if name not in series:
                fail("%s (%s): metric %s is not in /metrics" % (source, where, name))
        for name, body in SELECTOR.findall(q):
            if name not in series:
                continue
            for label, op, value in MATCHER.findall(body):
                if "$" in value:
                    continue  # a dashboard variable
                have = {s[label] for s in series[name] if label in s}
                if op in ("=", "!="):
                    wanted = [value]
                else:  # each alternative of a regex must match some value
                    wanted = value.split("|")
                for w in wanted:
                    if op in ("=", "!="):
                        hit = w in have
                    else:
                        hit = any(re.fullmatch(w, h) for h in have)
                    if not hit:
                        fail('%s (%s): %s{%s%s"%s"} matches no series (values of %s: %s)'
                             % (source, where, name, label, op, w, label,
                                ", ".join(sorted(have)) or "none"))
    ok("%s: %d metric names checked against /metrics" % (source, len(names)))


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    binary, dashboard, rules = sys.argv[1:]
    if not shutil.which("redis-server"):
        print("SKIP: redis-server is not installed (bash packaging/deps.sh)")
        return 77
    dq = dashboard_queries(dashboard)
    rq = rules_queries(rules)
    standalone, cluster = scrape(binary)
    union = {k: list(v) for k, v in standalone.items()}
    for k, v in cluster.items():
        union.setdefault(k, []).extend(v)
    ok("scraped %d series standalone, %d in cluster mode"
       % (sum(map(len, standalone.values())), sum(map(len, cluster.values()))))
    check_queries(dq, union, "dashboard")
    check_queries(rq, union, "rules")
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
