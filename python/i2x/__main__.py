"""``python -m i2x drain --out DIR [--endpoint E] [--timeout S]``: send what a run left behind."""

import argparse
import logging
import sys

from .errors import I2XError
from .sender import drain


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i2x", description="i2x Python tools")
    commands = parser.add_subparsers(dest="command", required=True)
    drain_parser = commands.add_parser("drain", help="send what a run (Python or i2x-train) left in DIR/outbox")
    drain_parser.add_argument("--out", required=True, help="the run's output directory (its outbox is DIR/outbox)")
    drain_parser.add_argument("--endpoint", default="tcp://127.0.0.1:7070")
    drain_parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        from .outbox import Outbox
        import os

        before = len(Outbox(os.path.join(arguments.out, "outbox")).pending()) if os.path.isdir(
            os.path.join(arguments.out, "outbox")) else 0
        pending = drain(arguments.out, arguments.endpoint, arguments.timeout)
    except I2XError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 64 if error.code == "usage" else 69
    print(f"sent {before - pending} of {before} outbox entries; {pending} pending")
    return 0 if pending == 0 else 69


if __name__ == "__main__":
    sys.exit(main())
