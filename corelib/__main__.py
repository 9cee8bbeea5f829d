"""``python -m plugrad``: info | demo | bench | conformance.

    python -m plugrad info                 the backend table: availability, devices, providers
    python -m plugrad demo [--device D]    train a small classifier, print loss and accuracy
    python -m plugrad bench --compare      headline workloads per backend vs numpy/torch
    python -m plugrad conformance NAME     run the backend conformance kit on backend NAME
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # argparse.REMAINDER does not capture a leading "--option" ("bench --compare" fails with
    # "unrecognized arguments"), so the pass-through commands get their arguments verbatim.
    if argv[:1] == ["bench"]:
        from ._bench import main as bench_main
        return bench_main(argv[1:])
    if argv[:1] == ["conformance"]:
        from .plugins.conformance import main as conformance_main
        return conformance_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m plugrad", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="list backends, availability and devices")
    demo = sub.add_parser("demo", help="train a small classifier and print loss and accuracy")
    demo.add_argument("--device", default=None, help="device string (default: best available)")
    demo.add_argument("--epochs", type=int, default=30)
    bench = sub.add_parser("bench", help="benchmark headline workloads per backend")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    conf = sub.add_parser("conformance", help="run the backend conformance kit")
    conf.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "info":
        from .plugins.info import info_table
        print(info_table())
        return 0
    if args.command == "demo":
        from ._demo import run
        return run(args.device, args.epochs)
    if args.command == "bench":
        from ._bench import main as bench_main
        return bench_main(args.rest)
    from .plugins.conformance import main as conformance_main
    return conformance_main(args.rest)


if __name__ == "__main__":
    sys.exit(main())
