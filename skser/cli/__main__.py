"""``python -m skser.cli``."""

# SPDX-License-Identifier: BSD-3-Clause

import sys

from . import main

if __name__ == "__main__":  # not when imported (e.g. by pytest --doctest-modules)
    sys.exit(main())
