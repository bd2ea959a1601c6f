"""``python -m cronkeeper.cli``: the same as the ``cronkeeper`` command."""

import sys

from cronkeeper.cli.main import main

sys.exit(main())
