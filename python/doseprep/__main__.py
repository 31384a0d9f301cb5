"""The ``doseprep`` command: the Rust command of ``doseprep-cli``, run
through the extension (``python -m doseprep`` runs it too)."""

from __future__ import annotations

import signal
import sys

from doseprep._core import run_command


def main() -> int:
    """Run the command on this process's arguments; returns its exit status."""
    # Ctrl-C stops the command at once, as it stops the Rust binary: the
    # command runs in Rust, where Python's handler would wait for it to end.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return run_command(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
