"""The asv dashboard's offline step and its browser check (issue 17.9).

``vendor_dashboard.py`` is its own documented step after ``asv publish`` (the dashboard was
blank offline: asv loads jQuery/flot from CDNs), and ``dashboard_check.py`` writes its
screenshot outside the repository unless told where.
"""
from __future__ import annotations

import json
import pathlib
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import dashboard_check  # noqa: E402
import vendor_dashboard  # noqa: E402


def _fake_npm_cache(cache):
    """node_modules as ``npm install`` leaves it, one small file per vendored path."""
    for spec, path, _ in vendor_dashboard.VENDOR.values():
        package = vendor_dashboard._package_dir(cache / "node_modules", spec)
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(f"/* {spec} {path} */")
        (package / "package.json").write_text(json.dumps({"name": spec}))
        if spec.startswith("bootstrap@"):
            (package / "dist" / "fonts").mkdir(parents=True, exist_ok=True)
            (package / "dist" / "fonts" / "icons.woff").write_text("font")


def test_vendoring_points_index_html_at_local_copies(tmp_path):
    html, cache = tmp_path / "html", tmp_path / "cache"
    html.mkdir()
    _fake_npm_cache(cache)
    tags = [f'<script src="{url}" integrity="sha384-x" crossorigin="anonymous"></script>'
            for url in vendor_dashboard.VENDOR]
    (html / "index.html").write_text("<html><head>" + "\n".join(tags) + "</head></html>")
    assert vendor_dashboard.main(["--html", str(html), "--vendor-cache", str(cache)]) == 0
    text = (html / "index.html").read_text()
    assert "https://" not in text                                 # nothing left on a CDN
    for url, (spec, path, keep) in vendor_dashboard.VENDOR.items():
        local = f"vendor/{spec}/{path}"
        assert (html / local).read_text() == f"/* {spec} {path} */"
        tag = next(t for t in text.splitlines() if local in t)
        assert ("integrity=" in tag) == keep, tag             # only identical files keep it
    assert (html / "vendor/bootstrap@3.1.1/dist/fonts/icons.woff").exists()
    again = vendor_dashboard.vendor(html, cache)                  # idempotent
    assert again == 0 and (html / "index.html").read_text() == text


def test_vendoring_without_a_published_dashboard_says_so(tmp_path, capsys):
    assert vendor_dashboard.main(["--html", str(tmp_path)]) == 1
    assert "run 'asv publish' first" in capsys.readouterr().out


def test_the_check_needs_chromium_and_says_so(tmp_path, capsys):
    code = dashboard_check.main(["--html", str(tmp_path), "--chromium", "no-such-chromium"])
    assert code == 1 and "needs Chromium" in capsys.readouterr().out


def test_the_screenshot_goes_outside_the_tree_unless_asked(tmp_path):
    default = dashboard_check.screenshot_path(None)
    assert BENCH.parent not in default.parents and default.parent.is_dir()
    default.parent.rmdir()
    asked = tmp_path / "shot.png"
    assert dashboard_check.screenshot_path(asked) == asked
