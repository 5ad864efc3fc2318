"""CLI commands (placeholder until its owner fills it)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
