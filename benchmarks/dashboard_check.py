"""Check the published asv dashboard in a real browser: per-backend graphs must render.

    python dashboard_check.py [--html .asv/html] [--screenshot ../docs/asv-dashboard.png]

Run it from benchmarks/ after ``asv publish``. Needs Chromium (Debian: ``apt-get install
chromium``). Steps:

1. The dashboard's scripts are vendored (:mod:`vendor_dashboard`, the same step the README
   runs after ``asv publish``), so the check needs no internet.
2. ``python -m http.server --bind 127.0.0.1`` serves the dashboard (never on other interfaces).
3. Headless Chromium (Debian's ``chromium``) opens each checked benchmark's graph inside a
   small harness page, lets the scripts run (``--virtual-time-budget``) and dumps the DOM, into
   which the harness wrote the series flot plotted. The check passes when every backend that
   has results in the published data of that benchmark has a drawn line with points.
4. A screenshot of one graph page is written to a temporary folder (its path is printed);
   ``--screenshot ../docs/asv-dashboard.png`` refreshes the picture the README shows.

Exit status 0 on success, 1 with a message per failed check.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

from vendor_dashboard import vendor

HERE = Path(__file__).resolve().parent

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--hide-scrollbars"]
DEFAULT_BENCHMARKS = ("bench_ops.Elementwise.time_add", "bench_overhead.Dispatch.track_add_us",
                      "bench_training.DigitsMLP.time_train_step")
SCREENSHOT_PAGE = "bench_ops.Elementwise.time_add?y-axis-scale=log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(html: Path):
    """``python -m http.server`` on 127.0.0.1 only; returns (process, base URL)."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                             str(port), "--directory", str(html)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urlopen(base + "index.json", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"http.server did not come up on {base}")


def chromium(binary, url, *extra, budget_ms=15000, timeout=120):
    cmd = [binary, *CHROMIUM_FLAGS, f"--virtual-time-budget={budget_ms}", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def expected_backends(html: Path, benchmark: str) -> set:
    """Backends that have at least one value in the published data of ``benchmark``."""
    index = json.loads((html / "index.json").read_text())
    info = index["benchmarks"][benchmark]
    names = info["param_names"]
    if "backend" not in names:
        raise ValueError(f"{benchmark} is not parametrized by backend")
    axis = names.index("backend")
    found = set()
    for path in (html / "graphs").rglob(f"{benchmark}.json"):
        if "summary" in path.parts:
            continue
        for _, values in json.loads(path.read_text()):
            if values is None:
                continue
            values = values if isinstance(values, list) else [values]
            # values are flattened over the parameter grid, backend varying slowest
            inner = len(values) // len(info["params"][axis])
            for i, value in enumerate(values):
                if value is not None:
                    found.add(info["params"][axis][i // inner].strip("'\""))
    return found


# A page beside index.html that opens one graph in an iframe and, once flot has drawn it,
# writes each plotted series' label and number of points into the DOM for --dump-dom.
HARNESS = """<!doctype html><html><body>
<iframe id="dash" src="index.html#%s" width="1280" height="800"></iframe>
<pre id="result">pending</pre>
<script>
var tries = 0;
function poll() {
  var w = document.getElementById("dash").contentWindow;
  var plot = w.$ && w.$("#main-graph").data("plot");
  if (plot && plot.getData().length) {
    document.getElementById("result").textContent = JSON.stringify(plot.getData().map(
      function (s) { return [s.label, s.data.filter(function (p) { return p[1] !== null; })
                                             .length]; }));
  } else if (w.document.title.indexOf("error") >= 0 || ++tries > 100) {
    document.getElementById("result").textContent = "no plot: " + w.document.title;
  } else {
    setTimeout(poll, 100);
  }
}
setTimeout(poll, 100);
</script></body></html>
"""


def plotted_series(binary, base, html, page) -> list | str:
    """[(label, points drawn)] of the graph flot drew for ``page``, or why there is none."""
    harness = html / "plugrad-graph-check.html"
    harness.write_text(HARNESS % page)
    try:
        run = chromium(binary, f"{base}{harness.name}", "--dump-dom")
    finally:
        harness.unlink()
    found = re.search(r'<pre id="result">(.*?)</pre>', run.stdout, re.S)
    if run.returncode != 0 or not found:
        return f"chromium exited {run.returncode}: {run.stderr[-500:]}"
    text = found.group(1)
    return json.loads(text) if text.startswith("[") else text


def check_graph(binary, base, html, benchmark) -> list:
    """Problems with one graph page (empty list: every backend with results has a line)."""
    series = plotted_series(binary, base, html, benchmark)
    if isinstance(series, str):
        return [f"{benchmark}: {series}"]
    drawn = {}
    for label, points in series:
        # asv labels a series "backend-cpu; machine-vm; size-small"
        match = re.search(r"\bbackend-([^;\s]+)", label)
        if match:
            drawn[match.group(1)] = drawn.get(match.group(1), 0) + points
    wanted = expected_backends(html, benchmark)
    problems = [] if wanted else [f"{benchmark}: no backend has results (run asv first)"]
    for backend in sorted(wanted):
        if not drawn.get(backend):
            problems.append(f"{benchmark}: backend {backend!r} has results but no line was "
                            f"drawn (series: {series})")
    if not problems:
        lines = ", ".join(f"{b} ({drawn[b]} points)" for b in sorted(wanted))
        print(f"ok  {benchmark}: flot drew {len(series)} series; lines for {lines}")
    return problems


def screenshot_path(requested: Path | None) -> Path:
    """The path asked for, else a file in a new temporary folder: a check run must not
    rewrite the committed docs/asv-dashboard.png by default."""
    if requested is not None:
        return requested
    return Path(tempfile.mkdtemp(prefix="plugrad-dashboard-")) / "asv-dashboard.png"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--html", type=Path, default=HERE / ".asv" / "html")
    p.add_argument("--vendor-cache", type=Path, default=HERE / ".asv" / "vendor")
    p.add_argument("--screenshot", type=Path, default=None,
                   help="where to write the screenshot (default: a new temporary folder, "
                        "outside the repository; ../docs/asv-dashboard.png updates the docs)")
    p.add_argument("--no-screenshot", action="store_true")
    p.add_argument("--no-vendor", action="store_true",
                   help="leave index.html loading its scripts from the CDNs (needs internet)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    p.add_argument("--screenshot-page", default=SCREENSHOT_PAGE,
                   help="graph page (with URL state) for the screenshot")
    p.add_argument("benchmarks", nargs="*", default=list(DEFAULT_BENCHMARKS),
                   help="benchmarks whose graphs must show a line per backend with results")
    args = p.parse_args(argv)
    if shutil.which(args.chromium) is None:
        print(f"dashboard_check needs Chromium ({args.chromium!r} not found): apt-get install "
              "chromium, or pass --chromium PATH")
        return 1
    args.screenshot = screenshot_path(args.screenshot)
    if not (args.html / "index.json").exists():
        print(f"{args.html} has no published dashboard: run 'asv publish' first")
        return 1
    if not args.no_vendor:
        count = vendor(args.html, args.vendor_cache)
        print(f"vendored {count} CDN files into {args.html / 'vendor'}")
    server, base = serve(args.html)
    try:
        problems = []
        for name in args.benchmarks:
            problems += check_graph(args.chromium, base, args.html, name)
        if not args.no_screenshot and not problems:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            shot = chromium(args.chromium, f"{base}#{args.screenshot_page}",
                            f"--screenshot={args.screenshot.resolve()}", "--window-size=1280,800")
            if shot.returncode != 0 or not args.screenshot.exists():
                problems.append(f"screenshot failed: {shot.stderr[-500:]}")
            else:
                print(f"screenshot: {args.screenshot}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    for problem in problems:
        print("FAIL", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
