"""Make the published asv dashboard work offline: vendor the scripts it loads from CDNs.

    cd benchmarks && asv publish && python vendor_dashboard.py

asv 0.6's index.html loads jQuery, flot, bootstrap and three small plugins from CDNs; without
internet the page stays blank ("Can not determine continental origin of swallow"). This
fetches the same versions from the npm registry once (``npm install`` into .asv/vendor/),
copies them to <html>/vendor/ and points index.html at them. Files byte-identical to the CDN's
keep their integrity hashes. Run it after every ``asv publish`` (publishing rewrites
index.html); it is idempotent.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--html", type=Path, default=HERE / ".asv" / "html",
                   help="the published dashboard (default: .asv/html)")
    p.add_argument("--vendor-cache", type=Path, default=HERE / ".asv" / "vendor",
                   help="where npm keeps the downloaded packages (default: .asv/vendor)")
    args = p.parse_args(argv)
    if not (args.html / "index.html").exists():
        print(f"{args.html} has no published dashboard: run 'asv publish' first")
        return 1
    if shutil.which("npm") is None and not (args.vendor_cache / "node_modules").exists():
        print("vendor_dashboard needs npm once, to fetch the scripts (apt-get install npm)")
        return 1
    count = vendor(args.html, args.vendor_cache)
    print(f"vendored {count} CDN files into {args.html / 'vendor'}; serve it with: python -m "
          f"http.server --bind 127.0.0.1 8080 --directory {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
