"""python -m plugrad (or plugrad): info | demo | bench | conformance.

    python -m plugrad info                 the backend table: availability, devices, providers
    python -m plugrad demo [--device D]    train a small classifier, print loss and accuracy
                         [--plot P.png]    ... and save its loss curve and decision boundary
    python -m plugrad bench --compare      headline workloads per backend vs numpy/torch
    python -m plugrad conformance NAME     run the backend conformance kit on backend NAME
"""
from __future__ import annotations

import argparse
import os
import sys


def program_name() -> str:
    """How the user started us, for usage lines: ``plugrad`` (the console script) or
    ``python -m plugrad``."""
    return "plugrad" if os.path.basename(sys.argv[0] or "") == "plugrad" else "python -m plugrad"


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
    parser = argparse.ArgumentParser(prog=program_name(), description=(
        "plugrad's command line: the backends here, a demo, benchmarks, the conformance kit."))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="list backends, availability and devices")
    demo = sub.add_parser("demo", help="train a small classifier and print loss and accuracy")
    demo.add_argument("--device", default=None,
                      help="device string: cpu, opencl, cuda:1, ... (default: the fastest for "
                           "this demo: a GPU when there is one, else cpu)")
    demo.add_argument("--epochs", type=int, default=30,
                      help="passes over the 1,000 training points (default: 30)")
    demo.add_argument("--plot", metavar="PATH", default=None,
                      help="save a picture of the loss curve and decision boundary to PATH "
                           "(.png, .svg, .pdf; needs matplotlib)")
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
        return run(args.device, args.epochs, args.plot)
    if args.command == "bench":
        from ._bench import main as bench_main
        return bench_main(args.rest)
    from .plugins.conformance import main as conformance_main
    return conformance_main(args.rest)


if __name__ == "__main__":
    sys.exit(main())
