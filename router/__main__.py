"""``python -m router`` runs the ``hybrid-router`` command line."""

import sys

from router.cli.main import main

sys.exit(main())
