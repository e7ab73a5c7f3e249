"""Subcommands of the ``bptt`` CLI that belong to the core library."""
