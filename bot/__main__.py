"""``python -m bot``: see bot/cli.py."""

import os
import sys

# numpy's BLAS on one thread: the bot's products are small (a question against each passage's
# vector), where more threads only cost (2x the wall time of `ask -` on two cores, measured)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
