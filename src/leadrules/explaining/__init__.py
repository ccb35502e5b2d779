"""The words of `leadrules explain`, one file per language (messages/<lang>.yaml)."""
