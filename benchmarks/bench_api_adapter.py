"""Samples/s of the OpenAI-compatible adapter against a local server, and how its bounds hold.

A server on 127.0.0.1 answers every chat completion after a fixed delay (a stand-in for the model's
latency). The adapter's ``predict`` is timed over the same synthetic images at several ``concurrency``
values; the ideal is ``concurrency / delay`` requests per second, so the gap is the adapter's own cost
(encoding PNGs, JSON, HTTP); encoding the same images without HTTP is timed too, since on a small
machine it is what limits high concurrency. Then two bounds are timed: a server that drips one byte every 0.25 s
against ``timeout=1`` (the total deadline per request), and a 100 MB reply against the default size cap.
Writes ``benchmarks/results/api_adapter.json``.

    python benchmarks/bench_api_adapter.py                 # ~30 s
    python benchmarks/bench_api_adapter.py --n 32 --delay 0.1 --out /tmp/api.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from fixtures.openai_server import Call, LoopbackServer  # noqa: E402 - after the path is set

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "api_adapter.json"
ANSWER = json.dumps(
    {"choices": [{"message": {"role": "assistant", "content": "This is a fake image."}}]}
).encode()


class Server(LoopbackServer):
    """Answers after ``delay`` seconds; ``mode`` drip or big misbehaves instead."""

    def __init__(self, delay: float) -> None:
        super().__init__(keep_alive=True)
        self.delay = delay
        self.mode = "answer"

    def respond(self, call: Call) -> None:
        if self.mode == "drip":
            call.start(200, 1000)
            for _ in range(1000):
                call.wfile.write(b" ")
                call.wfile.flush()
                time.sleep(0.25)
        elif self.mode == "big":
            call.start(200, 100 * 2**20)
            for _ in range(100):
                call.wfile.write(b"x" * 2**20)
        else:
            time.sleep(self.delay)
            call.send(200, ANSWER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="samples per pass (default 64)")
    parser.add_argument("--delay", type=float, default=0.05, help="server latency in seconds (default 0.05)")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated (default 1,4,16)")
    parser.add_argument("--image-size", type=int, default=256, help="side of the images (default 256)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per setting (default 3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    import numpy as np
    from PIL import Image

    from spotfake.adapters.openai_api import OpenAIChatModel
    from spotfake.harness.model import Item
    from spotfake.harness.types import Sample

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    rng = np.random.RandomState(0)
    items = [
        Item(
            Sample(id=f"b{i:04d}", label="fake", prompt="Is this image real or fake?"),
            [Image.fromarray(rng.randint(0, 256, (args.image_size, args.image_size, 3), dtype=np.uint8))],
        )
        for i in range(args.n)
    ]
    load = round(os.getloadavg()[0], 2)
    server = Server(args.delay)
    server.start()
    rows = []
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        model = OpenAIChatModel(model="bench", base_url=server.base_url, concurrency=str(concurrency))
        model.predict(items[:concurrency])  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            responses = model.predict(items)
            times.append(time.perf_counter() - start)
        best = min(times)
        ideal = concurrency / args.delay
        with ThreadPoolExecutor(concurrency) as pool:  # the CPU share: encoding the same images, no HTTP
            start = time.perf_counter()
            list(pool.map(model.encoded_body, items))
            encode_s = time.perf_counter() - start
        model.close()
        rows.append(
            {
                "concurrency": concurrency,
                "n_samples": len(items),
                "seconds_best": round(best, 4),
                "seconds_median": round(statistics.median(times), 4),
                "samples_per_s": round(len(items) / best, 2),
                "ideal_samples_per_s": round(ideal, 2),
                "share_of_ideal": round(len(items) / best / ideal, 3),
                "encode_only_samples_per_s": round(len(items) / encode_s, 2),
                "errors": sum(r.error is not None for r in responses),
            }
        )
        print(
            f"concurrency {concurrency:3}: {len(items) / best:7.2f} samples/s (ideal {ideal:.0f}, "
            f"encoding alone {len(items) / encode_s:.0f}/s)",
            flush=True,
        )

    bounds = {}
    for mode, extra in (("drip", {"timeout": "1"}), ("big", {})):
        server.mode = mode
        model = OpenAIChatModel(
            model="bench", base_url=server.base_url, max_retries="0", max_failures="0", **extra
        )
        start = time.perf_counter()
        (response,) = model.predict(items[:1])
        bounds[mode] = {"seconds": round(time.perf_counter() - start, 3), "error": response.error}
        model.close()
        print(f"{mode}: {bounds[mode]['seconds']:.2f} s -> {response.error}", flush=True)
    server.stop()

    import httpx

    result = {
        "benchmark": "api_adapter",
        "what": "OpenAIChatModel.predict against a local server with a fixed latency",
        "server_delay_s": args.delay,
        "image_size": args.image_size,
        "rows": rows,
        "bounds": {
            "drip_one_byte_per_0.25s_with_timeout_1s": bounds["drip"],
            "100MB_reply_with_default_cap": bounds["big"],
        },
        "machine": {
            "python": platform.python_version(),
            "httpx": httpx.__version__,
            "cpus": os.cpu_count(),
            "load_average_1min_at_start": load,
            "platform": platform.platform(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
