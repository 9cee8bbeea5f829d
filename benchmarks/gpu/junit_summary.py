"""One line of counts, then the failing tests, from pytest --junitxml files (run.sh, step 3).

    python benchmarks/gpu/junit_summary.py junit-*.xml

A shard stopped at its budget by SIGINT still writes its file (pytest's KeyboardInterrupt
path); a shard killed outright writes none, and is counted as missing.
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter


def _reason(element):
    """The message's first line; for a collection failure, the exception pytest reports
    (the traceback's last 'E ' line), which says what was missing."""
    message = (element.get("message") or "").strip().splitlines()
    first = message[0] if message else ""
    if first == "collection failure" or not first:
        raised = [line[1:].strip() for line in (element.text or "").splitlines()
                  if line.startswith("E ")]
        if raised:
            return f"{first}: {raised[-1]}" if first else raised[-1]
    return first


def summarize(paths):
    counts, failures, missing = Counter(), [], []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            missing.append(path)
            continue
        for case in root.iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = {"failure": "failed", "error": "errors"}.get(child.tag, "skipped")
                    if outcome != "skipped":
                        failures.append(f"{'ERROR' if outcome == 'errors' else 'FAILED'} "
                                        f"{name}: {_reason(child)[:160]}")
                    break
            counts[outcome] += 1
    head = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "errors", "skipped"))
    head += f" ({len(paths) - len(missing)} of {len(paths)} result files"
    head += f"; missing: {', '.join(missing)})" if missing else ")"
    return [head] + failures


if __name__ == "__main__":
    print("\n".join(summarize(sys.argv[1:])))
