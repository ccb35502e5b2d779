"""`python -m leadrules …`: the same as the `leadrules` command."""

from leadrules.cli import main

main()
