"""Check the published asv dashboard in a real browser: per-backend graphs must render.

    python dashboard_check.py [--html .asv/html] [--screenshot ../docs/asv-dashboard.png]

Run it from benchmarks/ after ``asv publish``. Steps:

1. asv's index.html loads jQuery, flot, bootstrap and three small plugins from CDNs, which an
   offline machine (CI) cannot reach. The same versions come from the npm registry (``npm
   install`` into .asv/vendor/, once), are copied to <html>/vendor/ and index.html is pointed at
   them. The files that are byte-identical to the CDN's keep their integrity hashes.
2. ``python -m http.server --bind 127.0.0.1`` serves the dashboard (never on other interfaces).
3. Headless Chromium (Debian's ``chromium``) opens each checked benchmark's graph inside a
   small harness page, lets the scripts run (``--virtual-time-budget``) and dumps the DOM, into
   which the harness wrote the series flot plotted. The check passes when every backend that
   has results in the published data of that benchmark has a drawn line with points.
4. A screenshot of one graph page is written for the docs.

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
import time
from pathlib import Path
from urllib.request import urlopen

HERE = Path(__file__).resolve().parent

# CDN URL in asv 0.6's index.html -> (npm package@version, file in it, keep integrity?)
VENDOR = {
    "https://code.jquery.com/jquery-3.3.1.min.js":
        ("jquery@3.3.1", "dist/jquery.min.js", True),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js":
        ("flot@0.8.3", "jquery.flot.js", False),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js":
        ("flot@0.8.3", "jquery.flot.time.js", False),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js":
        ("flot@0.8.3", "jquery.flot.selection.js", False),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js":
        ("flot@0.8.3", "jquery.flot.categories.js", False),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js":
        ("flot-orderbars@1.0.0", "js/jquery.flot.orderBars.js", True),
    # npm has stupid-table-plugin 1.1.3 only; its $.fn.stupidtable is the API asv calls
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js":
        ("stupid-table-plugin@1.1.3", "stupidtable.js", False),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js":
        ("blueimp-md5@2.19.0", "js/md5.min.js", False),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js":
        ("bootstrap@3.1.1", "dist/js/bootstrap.min.js", True),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css":
        ("bootstrap@3.1.1", "dist/css/bootstrap.min.css", True),
}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--hide-scrollbars"]
DEFAULT_BENCHMARKS = ("bench_ops.Elementwise.time_add", "bench_overhead.Dispatch.track_add_us",
                      "bench_training.DigitsMLP.time_train_step")
SCREENSHOT_PAGE = "bench_ops.Elementwise.time_add?y-axis-scale=log"


def _package_dir(modules: Path, spec: str) -> Path:
    return modules / spec.rsplit("@", 1)[0]


def vendor(html: Path, cache: Path) -> int:
    """Point index.html at local copies of its CDN scripts; returns how many were replaced."""
    modules = cache / "node_modules"
    wanted = sorted({spec for spec, _, _ in VENDOR.values()})
    if not all((_package_dir(modules, s) / "package.json").exists() for s in wanted):
        subprocess.run(["npm", "install", "--no-save", "--no-package-lock", "--no-audit",
                        "--no-fund", "--prefix", str(cache), *wanted], check=True)
    index = html / "index.html"
    text = index.read_text()
    replaced = 0
    for url, (spec, path, keep_integrity) in VENDOR.items():
        if url not in text:
            continue
        source = _package_dir(modules, spec) / path
        local = Path("vendor") / spec / path
        (html / local).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, html / local)
        if spec.startswith("bootstrap@"):  # the CSS finds its icon font beside itself
            shutil.copytree(source.parent.parent / "fonts", html / local.parent.parent / "fonts",
                            dirs_exist_ok=True)
        tag = re.compile(r'<(script|link)\b[^>]*"' + re.escape(url) + r'"[^>]*>')
        for match in list(tag.finditer(text)):
            new = match.group(0).replace(url, local.as_posix())
            if not keep_integrity:
                new = re.sub(r'\s+integrity="[^"]*"', "", new)
            text = text.replace(match.group(0), new)
        replaced += 1
    index.write_text(text)
    return replaced


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--html", type=Path, default=HERE / ".asv" / "html")
    p.add_argument("--vendor-cache", type=Path, default=HERE / ".asv" / "vendor")
    p.add_argument("--screenshot", type=Path, default=HERE.parent / "docs" / "asv-dashboard.png")
    p.add_argument("--no-screenshot", action="store_true")
    p.add_argument("--no-vendor", action="store_true",
                   help="leave index.html loading its scripts from the CDNs (needs internet)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    p.add_argument("--screenshot-page", default=SCREENSHOT_PAGE,
                   help="graph page (with URL state) for the screenshot")
    p.add_argument("benchmarks", nargs="*", default=list(DEFAULT_BENCHMARKS),
                   help="benchmarks whose graphs must show a line per backend with results")
    args = p.parse_args(argv)
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
