"""One module per subcommand of the `leadrules` CLI, each exposing `command`."""
