"""``python -m server`` is the same as the ``vestnik`` command."""

from server.cli import main

main()
