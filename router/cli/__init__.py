"""The ``hybrid-router`` command line. Each sub-command lives in its own ``cmd_*`` module."""
