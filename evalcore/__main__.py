"""``python -m evalcore``."""

from evalcore.cli import console_main

console_main()
