"""``python -m pocketflow``: the same as the ``pocketflow`` command."""

from pocketflow.cli import main

raise SystemExit(main())
