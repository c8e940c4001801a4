"""The ``valuechain`` command line.

Every refused input ends with one line on stderr and exit code 2.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from valuechain import config
from valuechain.exceptions import ValuechainError


class _Group(click.Group):
    """Turns the project's errors into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ValuechainError as exc:
            click.echo(f"valuechain: error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="valuechain")
def main():
    """Who captures the profit in the AI value chain, and is downstream demand
    catching up with upstream spending?"""


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the dataset files (default: the bundled data).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the coverage table to this CSV (default: outputs/data_coverage.csv).")
def summary(data_dir, out):
    """Validate the dataset and print what it covers."""
    from valuechain import reporting

    text = reporting.write_data_summary(data_dir=data_dir, out=out or config.OUTPUTS_DIR / "data_coverage.csv")
    click.echo(text)


@main.command()
def report():
    """Run the main job on the bundled data and default scenarios, writing under outputs/."""
    from valuechain import reporting

    click.echo(reporting.write_data_summary(out=config.OUTPUTS_DIR / "data_coverage.csv"))
if __name__ == "__main__":
    main()
