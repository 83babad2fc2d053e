"""Deployment benchmark: ONNX float32 / int8 and pruned models against torch, and the HTTP server.

Part A (SST-2 dev): the default model is fine-tuned once (``--train-size``
sentences, ``--epochs``), saved, and exported to ONNX (float32 + int8). For
torch float32 (the estimator's ``predict_proba``), ONNX float32, ONNX int8,
and models pruned to ``num_layers`` = 3 and 4 (fine-tuned the same way):
prediction sentences/s over the dev set (best of ``--repeats`` passes) and
dev accuracy; the largest probability difference of ONNX against torch; and,
each in a fresh process, the time from process start to the first prediction
and the peak resident memory, for the torch and the ONNX runtimes.

Part B (server, 127.0.0.1 only): ``sktransformers serve`` on the ONNX int8
export, one worker; a load test of one-sentence requests at 1, 8 and 32
concurrent clients with micro-batching on and off (``--requests`` per run,
each run also bounded by ``--max-seconds``): throughput, p50 and p99
latency, failures. Then a run of malformed requests, every one of which must
be answered 4xx, and ``/healthz`` checked afterwards. Client and server share
the machine's cores.

Usage::

    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_deploy.py
    python benchmarks/bench_deploy.py --quick      # a minute: proves the script runs

Needs ``pip install "sktransformers[onnx,serve,benchmark]"``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import inspect
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np


def _glue_dir():
    """``glue/`` in the data folder: ``--data-dir``, else ``$SKTRANSFORMERS_DATA_DIR``, else
    ``../shared/data`` (``sktransformers.datasets.get_data_dir``)."""
    from sktransformers.datasets import get_data_dir

    return get_data_dir() / "glue"


GLUE = _glue_dir()


def load_sst2(n_train, n_dev, seed=0):
    import pandas as pd

    def read(name):
        return pd.read_csv(GLUE / "SST-2" / f"{name}.tsv", sep="\t", quoting=csv.QUOTE_NONE)

    if not (GLUE / "SST-2" / "dev.tsv").is_file():
        sys.exit(f"SST-2 not found in {GLUE / 'SST-2'} (pass --data-dir, the folder with glue/).")
    train, dev = read("train"), read("dev")
    rows = np.random.default_rng(seed).choice(len(train), min(n_train, len(train)), replace=False)
    train = train.iloc[np.sort(rows)]
    if n_dev:
        dev = dev.iloc[:n_dev]
    return (
        train["sentence"].astype(str).tolist(),
        train["label"].to_numpy(),
        dev["sentence"].astype(str).tolist(),
        dev["label"].to_numpy(),
    )


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def machine():
    cpu = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import onnxruntime
    import torch

    return (
        f"{cpu}, {len(os.sched_getaffinity(0))} cores; torch {torch.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; load {os.getloadavg()[0]:.2f}"
    )


# ----------------------------------------------------------------------
# Part A
# ----------------------------------------------------------------------
def fit(train_x, train_y, args, **params):
    from sktransformers import TransformerClassifier

    clf = TransformerClassifier(
        max_epochs=args.epochs, lr=args.lr, random_state=0, device="cpu", **params
    )
    start = time.perf_counter()
    clf.fit(train_x, train_y)
    return clf, time.perf_counter() - start


def part_a(args, work):
    from sktransformers import TransformerClassifier
    from sktransformers import onnx as skonnx
    from sktransformers.deploy._export import export_onnx

    train_x, train_y, dev_x, dev_y = load_sst2(args.train_size, args.dev_size)
    print(f"fine-tuning on {len(train_x)} sentences, {args.epochs} epoch(s) ...", flush=True)
    clf, fit_s = fit(train_x, train_y, args)
    saved = clf.save_pretrained(work / "saved")
    export_onnx(clf, work / "onnx", quantize="int8")
    rows, notes = [], []

    def row(name, seconds, proba, classes):
        acc = float(np.mean(classes[proba.argmax(axis=1)] == dev_y))
        rows.append((name, len(dev_x) / seconds, acc, seconds))

    seconds, torch_proba = best_time(lambda: clf.predict_proba(dev_x), args.repeats)
    row("torch float32 (`predict_proba`)", seconds, torch_proba, clf.classes_)
    diffs = {}
    for precision in ("fp32", "int8"):
        model = skonnx.load(work / "onnx", precision=precision)
        seconds, proba = best_time(lambda m=model: m.predict_proba(dev_x), args.repeats)
        row(f"ONNX {precision.replace('fp32', 'float32')}", seconds, proba, model.classes_)
        diffs[precision] = float(np.abs(proba - torch_proba).max())
    if "num_layers" in inspect.signature(TransformerClassifier).parameters:
        for k in args.num_layers:
            print(f"fine-tuning the model pruned to {k} layers ...", flush=True)
            pruned, _ = fit(train_x, train_y, args, num_layers=k)
            seconds, proba = best_time(lambda p=pruned: p.predict_proba(dev_x), args.repeats)
            row(f"torch float32, num_layers={k}", seconds, proba, pruned.classes_)
            export_onnx(pruned, work / f"onnx-{k}", quantize="int8")
            model = skonnx.load(work / f"onnx-{k}")
            seconds, proba = best_time(lambda m=model: m.predict_proba(dev_x), args.repeats)
            row(f"ONNX int8, num_layers={k}", seconds, proba, model.classes_)
    else:
        notes.append(
            "Pruned rows skipped: this TransformerClassifier has no `num_layers` parameter yet."
        )
    base = rows[0][1]
    lines = [
        f"Fine-tuned once: {len(train_x)} SST-2 training sentences, {args.epochs} epoch(s), "
        f"lr {args.lr} ({fit_s:.0f} s). Dev: {len(dev_x)} sentences, best of {args.repeats} "
        "passes.",
        "",
        "| model | sentences/s | speed-up vs torch | dev accuracy | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {sps:.0f} | {sps / base:.2f}x | {acc:.4f} | {s:.2f} |" for n, sps, acc, s in rows
    ]
    lines += [
        "",
        f"Max |probability difference| against torch: ONNX float32 "
        f"{diffs['fp32']:.2e}, ONNX int8 {diffs['int8']:.2e}.",
        *notes,
    ]
    lines += ["", *startup_table(saved, work / "onnx", dev_x[:1])]
    return lines


STARTUP_CODE = {
    "torch (`from_pretrained` + `predict`)": """
        from sktransformers import TransformerClassifier
        model = TransformerClassifier.from_pretrained({path!r}, device="cpu")
    """,
    "ONNX int8 (`sktransformers.onnx.load` + `predict`)": """
        from sktransformers import onnx
        model = onnx.load({path!r})
    """,
}


def startup_table(saved, onnx_dir, text):
    lines = [
        "| runtime | start to first prediction (s) | peak RSS (MiB) | torch imported |",
        "|---|---:|---:|---|",
    ]
    for (name, code), path in zip(STARTUP_CODE.items(), (saved, onnx_dir)):
        script = textwrap.dedent(code.format(path=str(path))) + textwrap.dedent(f"""
            model.predict({text!r})
            import sys, json
            # VmHWM: this process's peak RSS (ru_maxrss would include the parent's, kept
            # across fork + exec on Linux).
            hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
            print(json.dumps({{"rss": int(hwm.split()[1]) / 1024,
                               "torch": "torch" in sys.modules}}))
        """)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if out.returncode != 0:
            lines.append(f"| {name} | failed: {out.stderr.strip().splitlines()[-1]} | | |")
            continue
        info = json.loads(out.stdout.strip().splitlines()[-1])
        lines.append(f"| {name} | {seconds:.2f} | {info['rss']:.0f} | {info['torch']} |")
    return lines


# ----------------------------------------------------------------------
# Part B
# ----------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, directory, batching, args):
        import httpx

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "sktransformers",
            "serve",
            str(directory),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--max-batch-size",
            str(args.max_batch_size if batching else 1),
            "--max-wait-ms",
            str(args.max_wait_ms),
        ]
        self.log = open(Path(directory).parent / f"server-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("server not ready after 120 s")
            time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


async def load_run(base, texts, concurrency, n_requests, max_seconds):
    import httpx

    latencies, failures = [], 0
    counter = iter(range(n_requests))
    deadline = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker():
            nonlocal failures
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                start = time.perf_counter()
                try:
                    r = await client.post("/predict", json={"texts": [texts[i % len(texts)]]})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                failures += not ok

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    lat = np.asarray(latencies) * 1000
    return {
        "requests": len(lat),
        "failures": failures,
        "rps": len(lat) / wall,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
    }


BAD_BODIES = [
    '{"texts": ["a", ',
    "",
    "[1, 2]",
    '{"texts": "one string"}',
    '{"texts": []}',
    '{"texts": [1, 2]}',
    '{"texts": [null]}',
    '{"texts": ["a"], "extra": 1}',
    '{"text": ["a"]}',
    '{"texts": [["a", "b"]]}',
    '{"texts": ["' + "x" * 20_000 + '"]}',
    '{"texts": ' + json.dumps(["a"] * 1000) + "}",
    "\xff\xfe garbage",
]


async def malformed_run(base, n):
    import httpx

    statuses = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for i in range(n):
            body = BAD_BODIES[i % len(BAD_BODIES)]
            r = await client.post(
                "/predict",
                content=body.encode("utf-8", "replace"),
                headers={"content-type": "application/json"},
            )
            statuses.append(r.status_code)
        health = (await client.get("/healthz")).status_code
    return statuses, health


def part_b(args, work, dev_x):
    lines = [
        f"`sktransformers serve` on the ONNX int8 export, 1 worker, 127.0.0.1; one sentence per "
        f"request; up to {args.requests} requests or {args.max_seconds:.0f} s per run; "
        f"micro-batching: --max-batch-size {args.max_batch_size} --max-wait-ms "
        f"{args.max_wait_ms}.",
        "",
        "| micro-batching | clients | requests | failures | requests/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = failures = 0
    for batching in (True, False):
        server = Server(work / "onnx", batching, args)
        try:
            for concurrency in args.concurrency:
                r = asyncio.run(
                    load_run(server.base, dev_x, concurrency, args.requests, args.max_seconds)
                )
                total += r["requests"]
                failures += r["failures"]
                lines.append(
                    f"| {'on' if batching else 'off'} | {concurrency} | {r['requests']} "
                    f"| {r['failures']} | {r['rps']:.1f} | {r['p50']:.1f} | "
                    f"{r['p99']:.1f} |"
                )
                print(lines[-1], flush=True)
            if batching:
                statuses, health = asyncio.run(malformed_run(server.base, args.malformed))
        finally:
            server.stop()
    four = sum(400 <= s < 500 for s in statuses)
    lines += [
        "",
        f"Total {total} requests, {failures} failed.",
        f"Malformed requests: {len(statuses)} sent, {four} answered 4xx, "
        f"{sum(s >= 500 for s in statuses)} answered 5xx; statuses "
        f"{sorted(set(statuses))}; /healthz afterwards: {health}.",
    ]
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-size", type=int, default=2000)
    p.add_argument("--dev-size", type=int, default=0, help="0 = the whole dev set (872)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--num-layers", type=int, nargs="*", default=[3, 4])
    p.add_argument("--requests", type=int, default=1000, help="requests per load-test run")
    p.add_argument("--max-seconds", type=float, default=120.0, help="time bound per run")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--max-batch-size", type=int, default=32)
    p.add_argument("--max-wait-ms", type=float, default=0.0)
    p.add_argument("--malformed", type=int, default=500)
    p.add_argument("--skip-server", action="store_true")
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny settings to check that the script runs (numbers meaningless)",
    )
    p.add_argument("--workdir", default=None, help="keep the models here (default: a temp dir)")
    p.add_argument(
        "--data-dir",
        default=None,
        help="data folder holding glue/SST-2/ (default: $SKTRANSFORMERS_DATA_DIR, "
        "else ../shared/data)",
    )
    args = p.parse_args(argv)
    if args.data_dir:
        global GLUE
        os.environ["SKTRANSFORMERS_DATA_DIR"] = str(Path(args.data_dir).resolve())  # children too
        GLUE = _glue_dir()
    if args.quick:
        args.train_size, args.dev_size, args.repeats = 64, 64, 1
        args.num_layers, args.requests, args.malformed = [3], 40, 26
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        out = [
            f"## Deployment benchmark ({datetime.date.today()})",
            "",
            f"Machine: {machine()}.",
            "",
            f"Command: `python benchmarks/bench_deploy.py {' '.join(argv or sys.argv[1:])}`",
            "",
            "### Prediction: torch, ONNX, int8, pruned",
            "",
        ]
        out += part_a(args, work)
        if not args.skip_server:
            _, _, dev_x, _ = load_sst2(1, args.dev_size)
            out += ["", "### Server load test", ""] + part_b(args, work, dev_x)
        print("\n" + "\n".join(out))


if __name__ == "__main__":
    main()
