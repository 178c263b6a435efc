"""Allow ``python -m ringsight``."""

from ringsight.cli import main

main()
