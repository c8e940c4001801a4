"""The ``valuechain`` command line.

Every refused input ends with one line on stderr and exit code 2 (command-line usage errors
included); a run stopped by SIGINT, SIGTERM or SIGHUP exits with 128 + the signal number.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from valuechain import config
from valuechain.exceptions import ValuechainError, one_line


def _fail(message: str, code: int = 2):
    click.echo(f"valuechain: error: {one_line(message)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns the project's errors, usage errors and stray OS errors into one line on stderr and exit code 2."""

    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            sys.exit(130)
        except click.UsageError as exc:
            where = f"valuechain {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else "valuechain"
            _fail(f"{exc.format_message()} (see '{where} --help')", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), 2)

    def invoke(self, ctx):
        try:
            rv = super().invoke(ctx)
        except ValuechainError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", 2)
            click.echo("valuechain: interrupted; finished items are kept, unfinished ones were stopped", err=True)
            sys.exit(128 + int(signum))
        except OSError as exc:  # a file the checks could not foresee (removed or made unwritable meanwhile)
            _fail(f"{exc.filename or 'a file'}: {exc.strerror or exc}; check that it exists and can be read and written")
        if isinstance(rv, int) and rv:  # a command's own exit status
            sys.exit(rv)
        return rv


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


@main.command("list")
def list_cmd():
    """List the scenarios in params/ with their titles."""
    from valuechain.exceptions import ParameterError
    from valuechain.params import list_scenarios, load_scenario

    for name in list_scenarios():
        try:
            title = load_scenario(name).title
        except ParameterError as exc:
            title = f"INVALID: {exc}"
        click.echo(f"{name:<16} {one_line(title)}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def validate(files):
    """Validate scenario FILES (default: every file in params/) without running anything.

    Every problem of every file is reported, one line each on stderr; the exit code is 2 if any.
    """
    from valuechain.exceptions import ParameterError
    from valuechain.params import list_scenarios, load_scenario

    targets = [str(f) for f in files] or list_scenarios()
    problems = []
    for target in targets:
        try:
            sc = load_scenario(target)
        except ParameterError as exc:
            problems += exc.problems
            continue
        click.echo(f"ok  {sc.name}: {one_line(sc.title)}")
    for problem in problems:
        click.echo(f"valuechain: error: {problem}", err=True)
    return 2 if problems else 0


def _run(scenarios, run_all, notebooks, jobs, force, timeout, outputs=None):
    from valuechain import runner

    if scenarios and run_all:
        raise click.UsageError("give scenario names or --all, not both")
    outcomes = runner.run(scenarios=list(scenarios) or None, notebooks=list(notebooks) or None, jobs=jobs,
                          force=force, timeout=timeout, outputs=outputs)
    click.echo(runner.summary_table(outcomes))
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        where = f" in cell In[{o.failing_cell}]" if o.failing_cell else ""
        click.echo(one_line(f"FAILED {o.scenario}/{o.notebook}{where}: {o.error}"), err=True)
    return failed


@main.command()
@click.argument("scenarios", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every scenario in params/ (the default when none is named).")
@click.option("--notebooks", "-n", multiple=True,
              help="Notebook to run, by stem or file name (repeatable); default: all notebooks.")
@click.option("--jobs", "-j", type=int, default=None, help="Parallel processes (default: number of cores).")
@click.option("--force", is_flag=True, help="Re-run items whose inputs are unchanged.")
@click.option("--timeout", type=int, default=600, show_default=True,
              help="Seconds a single cell may run (1 or more; there is no unlimited setting).")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: outputs/).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Change one scenario value by its dotted key (repeatable), e.g. "
                   "--set demand_gap.break_even.target_return=0.12. The run is a variant of the one scenario named, "
                   "recorded in params/variants/<scenario>-set-<hash>.yaml and written to outputs/<that name>/.")
def run(scenarios, run_all, notebooks, jobs, force, timeout, outputs, sets):
    """Execute every notebook for every scenario into outputs/<scenario>/, then publish the site."""
    from valuechain import site

    if sets:
        from valuechain import params

        if len(scenarios) != 1 or run_all:
            raise click.UsageError("--set changes one scenario; name exactly one, e.g. 'valuechain run base --set key=value'")
        name = params.write_variant(scenarios[0], params.parse_assignments(sets))
        click.echo(f"Variant of {scenarios[0]}: {name} (params/{params.VARIANTS}/{name}.yaml)")
        scenarios = (name,)
    failed = _run(scenarios, run_all, notebooks, jobs, force, timeout, outputs)
    index = site.publish(outputs, rerender=False, **_current())
    click.echo(f"Site: {index}")
    if failed:
        sys.exit(1)


@main.command()
@click.argument("scenario")
@click.option("--grid", "grids", multiple=True, metavar="KEY=V1,V2,...",
              help="Values of one assumption, by dotted key (repeatable; every combination is evaluated).")
@click.option("--draws", type=int, default=None, help="Draws of the scenario's priors (its uncertainty block).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: this process; dask: a dask.distributed cluster (a LocalCluster unless --scheduler is given).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Address of a running Dask scheduler.")
@click.option("--workers", type=int, default=2, show_default=True, help="Workers of the LocalCluster (dask without --scheduler).")
@click.option("--csv", "as_csv", is_flag=True, help="Write the table as CSV instead of Parquet.")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: outputs/); the sweep goes to <outputs>/sweeps/<scenario>-sweep-<hash>/.")
def sweep(scenario, grids, draws, executor, scheduler, workers, as_csv, outputs):
    """Evaluate the model core (not the notebooks) over a grid of assumptions or draws of the priors.

    \b
    Examples:
      valuechain sweep base --grid valuation.discount_rate=0.1,0.15,0.2 --grid valuation.exit_multiple=8,10,12
      valuechain sweep base --draws 100000 --executor dask --workers 2
      valuechain sweep base --draws 100000 --executor dask --scheduler tcp://10.0.0.5:8786

    Writes a tidy table (one row per grid point or draw: the assumptions varied, then the headline
    figures) and a summary page with the sensitivity charts. The same seed gives the same table on
    1 or N workers.
    """
    import valuechain as vc
    from valuechain import core, params
    from valuechain import sweep as sw

    if workers < 1:
        raise click.UsageError(f"--workers {workers} is not allowed; give 1 or more")
    sc = params.load_scenario(scenario)
    ds = vc.load_dataset()
    grid = sw.parse_grid(grids) if grids else None
    inputs = core.inputs(sc, ds)
    table = sw.sweep(sc, ds, grid, draws, executor, scheduler, workers, progress=True, inputs=inputs)
    folder = Path(outputs or config.OUTPUTS_DIR) / "sweeps" / sw.folder_name(sc.name, grid, draws)
    names = dict(zip(ds.companies["company_id"], ds.companies["name"]))
    page = sw.write(table, folder, sc, inputs, grid, as_csv, names)
    click.echo(f"{len(table):,} evaluations; table and summary in {folder} (open {page.name})")


@main.command()
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the runs (default: outputs/).")
def publish(outputs):
    """Rebuild the HTML site under outputs/ from the executed notebooks."""
    from valuechain import site

    click.echo(f"Site: {site.publish(outputs, **_current())}")


def _current() -> dict:
    """The scenarios and notebooks that exist now: the site shows only their outputs."""
    from valuechain.params import list_scenarios
    from valuechain.runner import notebook_names

    return {"scenarios": list_scenarios(), "notebooks": notebook_names()}


@main.command()
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the runs (default: outputs/).")
def clean(outputs):
    """Remove the outputs of scenarios and notebooks that no longer exist, then rebuild the index."""
    from valuechain import runner, site

    removed = runner.prune(outputs)
    for path in removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(removed)} stale output{'s' if len(removed) != 1 else ''} removed")
    if (Path(outputs or config.OUTPUTS_DIR) / "run.json").exists():
        click.echo(f"Site: {site.publish(outputs, rerender=False, **_current())}")


@main.command()
@click.option("--jobs", "-j", type=int, default=None, help="Parallel processes (default: number of cores).")
def report(jobs):
    """The main job: validate the data, run every notebook for every shipped scenario, publish the site."""
    from valuechain import reporting, site

    click.echo(reporting.write_data_summary(out=config.OUTPUTS_DIR / "data_coverage.csv"))
    failed = _run((), True, (), jobs, False, 600)
    index = site.publish(rerender=False, **_current())
    click.echo(f"Site: {index}")
    shot = site.screenshot(index, config.OUTPUTS_DIR / "index.png")
    click.echo(f"Screenshot of the index: {shot}" if shot else "Screenshot skipped: no Chromium on this machine")
    if failed:
        sys.exit(1)


@main.group()
def data():
    """Work with the dataset files (refresh them from SEC XBRL company facts)."""


@data.command()
@click.option("--user-agent", envvar="VALUECHAIN_SEC_USER_AGENT", default=None, metavar="'NAME EMAIL'",
              help="Your identity for SEC, e.g. 'Jane Analyst jane@example.com' (or set VALUECHAIN_SEC_USER_AGENT).")
@click.option("--company", "companies", multiple=True, metavar="ID",
              help="Refresh only this company_id (repeatable); default: every SEC filer in xbrl_concepts.yaml.")
@click.option("--since", type=int, default=None, metavar="YEAR", help="Stage only periods ending in YEAR or later.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Staged change file to write (default: outputs/refresh/staged_changes.csv).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the dataset files (default: the bundled data).")
@click.option("--apply", "apply_file", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Merge the rows of a reviewed staged FILE whose accept column is yes (no network).")
def refresh(user_agent, companies, since, out, data_dir, apply_file):
    """Stage figures from SEC XBRL company facts for review, or --apply a reviewed file.

    Without --apply: fetch data.sec.gov company facts for the SEC filers, derive quarters and
    write a staged change file (action: new, changed, unchanged, unmapped); no dataset file changes.
    With --apply FILE: merge the accepted rows into financials.csv and sources.csv after validating
    the result; a failure changes nothing.
    """
    from valuechain import refresh as refresh_mod

    if apply_file is not None:
        click.echo(refresh_mod.apply_staged(apply_file, data_dir=data_dir).describe())
        return
    summary_ = refresh_mod.stage_refresh(user_agent, data_dir=data_dir, out=out, company_ids=companies, since=since)
    click.echo(summary_.describe())


if __name__ == "__main__":
    main()
