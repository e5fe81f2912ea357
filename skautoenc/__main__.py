"""Command line: ``skautoenc demo`` (or ``python -m skautoenc demo``)."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="skautoenc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="each estimator at its task on scikit-learn's digits, next to its baseline",
        description="Five tasks on scikit-learn's digits (reconstruction, denoising, "
        "features for a classifier, a generative model, pretraining), each estimator "
        "with its default settings next to the baseline for that task. Prints progress "
        "and a table per task; writes a figure per task and results.json.",
    )
    demo.add_argument("--output", default="demo_output", help="folder for figures and JSON")
    demo.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    demo.add_argument(
        "--quick", action="store_true", help="two epochs per model: checks the demo runs"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(args.output, random_state=args.random_state, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
