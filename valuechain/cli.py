"""The ``valuechain`` command line.

Every refused input ends with one line on stderr and exit code 2 (command-line usage errors
included); a run stopped by SIGINT, SIGTERM or SIGHUP exits with 128 + the signal number.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from valuechain import paths
from valuechain.exceptions import ValuechainError, one_line, terminal_text

# jsonschema, which nbformat and papermill import, registers a checker for the "iri" string format when
# rfc3987_syntax is installed (JupyterLab's dependencies install it), and importing that package builds its
# grammars: 0.75 s of every command that reads a notebook, before a batch can start its workers. The notebook
# format's schema has no such format and nbformat checks none, so the command goes without it.
sys.modules.setdefault("rfc3987_syntax", None)


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
        except BrokenPipeError:  # the reader of the output stopped (`valuechain list | head`): nothing is wrong
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
            sys.exit(0)
        except OSError as exc:  # a file the checks could not foresee (removed or made unwritable meanwhile)
            _fail(f"{exc.filename or 'a file'}: {exc.strerror or exc}; check that it exists and can be read and written")
        if isinstance(rv, int) and rv:  # a command's own exit status
            sys.exit(rv)
        return rv


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="valuechain")
def main():
    """Who captures the profit in the AI value chain, and is downstream demand
    catching up with upstream spending?

    Each command has its own help: valuechain COMMAND --help.

    \b
    Examples:
      valuechain report            # the main job: every notebook for every scenario, then the site
      valuechain run base bear     # two scenarios only
      valuechain summary           # what the dataset covers
    """


@main.command(short_help="Validate the dataset and print what it covers.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the dataset files (default: the bundled data).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the coverage table to this CSV (default: outputs/data_coverage.csv).")
def summary(data_dir, out):
    """Validate the dataset and print what it covers, with the coverage table.

    \b
    Examples:
      valuechain summary
      valuechain summary --data-dir my_data --out coverage.csv
    """
    from valuechain.dataset import coverage

    text = coverage.write_data_summary(data_dir=data_dir, out=out or paths.OUTPUTS_DIR / "data_coverage.csv")
    click.echo(terminal_text(text))  # the data's own text (publishers, notes) cannot drive the terminal


@main.command("list", short_help="List the scenarios and their titles.")
def list_cmd():
    """List the scenarios in params/ with their titles (an invalid file is marked INVALID).

    \b
    Example:
      valuechain list
    """
    from valuechain.exceptions import ParameterError
    from valuechain.scenario.load import load_scenario
    from valuechain.scenario.names import list_scenarios

    for name in list_scenarios():
        try:
            title = load_scenario(name).title
        except ParameterError as exc:
            title = f"INVALID: {exc}"
        click.echo(f"{name:<16} {one_line(title)}")


@main.command(short_help="Check scenario files without running anything.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def validate(files):
    """Validate scenario FILES (default: every file in params/) without running anything.

    Every problem of every file is reported, one line each on stderr; the exit code is 2 if any.

    \b
    Examples:
      valuechain validate
      valuechain validate params/bear.yaml ~/my_case.yaml
    """
    from valuechain.exceptions import ParameterError
    from valuechain.scenario.load import load_scenario
    from valuechain.scenario.names import list_scenarios

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


def _run(scenarios, run_all, notebooks, jobs, force, timeout, outputs=None, on_locked=None):
    from valuechain.batch import runner

    if scenarios and run_all:
        raise click.UsageError("give scenario names or --all, not both")
    outcomes = runner.run(scenarios=list(scenarios) or None, notebooks=list(notebooks) or None, jobs=jobs,
                          force=force, timeout=timeout, outputs=outputs, on_locked=on_locked)
    click.echo(runner.summary_table(outcomes))
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        where = f" in cell In[{o.failing_cell}]" if o.failing_cell else ""
        click.echo(one_line(f"FAILED {o.scenario}/{o.notebook}{where}: {o.error}"), err=True)
    return failed


@main.command(short_help="Run notebooks for scenarios, then publish the site.")
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
                   "recorded in params/variants/<name>.yaml and written to outputs/<name>/. A key no notebook reads "
                   "is refused.")
@click.option("--name", "variant", default=None, metavar="NAME",
              help="With --set: the variant's name (default: <scenario>-set-<hash of the overrides>).")
@click.option("--why", default=None, metavar="TEXT",
              help="With --set: the rationale shown beside the changed values (default: 'Set on the command line' "
                   "and the values set).")
def run(scenarios, run_all, notebooks, jobs, force, timeout, outputs, sets, variant, why):
    """Execute every notebook for every scenario into outputs/<scenario>/, then publish the site.

    SCENARIOS are names of files in params/ (base, bear, ...) or paths of scenario files in any
    folder (some/folder/mine.yaml runs as 'mine' into outputs/mine/ and is then known by that name);
    with none, or --all, every file in params/ runs. A scenario file may begin with 'extends: base'
    and then hold only the keys that differ, each changed block with a rationale of its own; the
    parameters it resolves to are injected into every notebook and recorded in
    <outputs>/<scenario>/parameters.json.

    Cache: an item (one scenario x one notebook) whose inputs are unchanged since its last good
    run (the notebook, the resolved parameters, the data files and the package code) is not
    executed again; --force re-runs it.

    Outputs go to outputs/ in the project (or the --outputs folder): per item
    <scenario>/<notebook>.ipynb (executed), .html (its page) and .json (key figures); per scenario
    metrics.json and parameters.json; for the whole batch metrics.csv, run.json and index.html,
    the site to open. A failed item keeps its previous good output and leaves
    <scenario>/<notebook>.failed.ipynb; the exit code is then 1.

    \b
    Examples:
      valuechain run base bear                   # two scenarios, every notebook
      valuechain run --all -n 02_demand_gap      # one notebook, every scenario
      valuechain run base --force --outputs /tmp/vc
      valuechain run ~/cases/mine.yaml           # a scenario file of your own
      valuechain run base --set valuation.discount_rate=0.2 --name dr20 --why "A riskier build-out"
    """
    from valuechain.publish import site

    if (variant is not None or why is not None) and not sets:
        raise click.UsageError("--name and --why name and explain a variant made with --set; add --set KEY=VALUE")
    if sets:
        from valuechain.scenario import variants
        from valuechain.scenario.names import VARIANTS, scenario_argument

        if len(scenarios) != 1 or run_all:
            raise click.UsageError("--set changes one scenario; name exactly one, e.g. 'valuechain run base --set key=value'")
        base, file = scenario_argument(scenarios[0])
        if file is not None:
            raise click.UsageError(f"--set varies a scenario of params/; for {scenarios[0]}, write the change in a file "
                                   f"beside it that says 'extends: {base}', with a rationale")
        name = variants.write_variant(base, variants.parse_assignments(sets), name=variant, why=why)
        click.echo(f"Variant of {base}: {name} (params/{VARIANTS}/{name}.yaml)")
        scenarios = (name,)
    failed = _run(scenarios, run_all, notebooks, jobs, force, timeout, outputs)
    index = site.publish(outputs, rerender=False, when_changed=True, **_current(outputs))
    click.echo(f"Site: {index}")
    if failed:
        sys.exit(1)


@main.command()
@click.argument("scenario")
@click.option("--grid", "grids", multiple=True, metavar="KEY=V1,V2,...",
              help="Values of one assumption, by dotted key (repeatable; every combination is evaluated).")
@click.option("--draws", type=int, default=None, help="Draws of the scenario's priors (its uncertainty block), at most 1,000,000.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: this process; dask: a dask.distributed cluster (a LocalCluster unless --scheduler is given).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Address of a running Dask scheduler (tcp:// or tls://; with --executor dask; 3 s to answer).")
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
    figures) and a summary page with the sensitivity charts, and prints how far each headline figure
    moves (its range over a grid, its 5th to 95th percentile over draws). The same seed gives the
    same table on 1 or N workers. The site's index links every sweep under its outputs folder.
    """
    import json

    import valuechain as vc
    from valuechain.model.inputs import build as build_inputs
    from valuechain.scenario.load import load_scenario
    from valuechain.scenario.schema import MAX_DRAWS
    from valuechain.batch import sweep as sw

    if workers < 1:
        raise click.UsageError(f"--workers {workers} is not allowed; give 1 or more")
    # The arguments are checked before the scenario and the data are loaded, so a mistake is told at once.
    if scheduler is not None:
        if executor != "dask":
            raise click.UsageError("--scheduler works only with --executor dask; add --executor dask, or leave --scheduler out")
        sw.check_scheduler(scheduler)
    if draws is not None and not 1 <= draws <= MAX_DRAWS:
        raise click.UsageError(f"--draws {draws} is not allowed; give 1 to {MAX_DRAWS:,} (the cap a scenario file's "
                               f"uncertainty.draws has too)")
    grid = sw.parse_grid(grids) if grids else None
    if scheduler is not None:
        sw.reach_scheduler(scheduler)
    sc = load_scenario(scenario)
    ds = vc.load_dataset()
    inputs = build_inputs(sc, ds)
    folder = Path(outputs or paths.OUTPUTS_DIR) / "sweeps" / sw.folder_name(sc.name, grid, draws)
    table = sw.sweep(sc, ds, grid, draws, executor, scheduler, workers, progress=True, inputs=inputs, log=folder / sw.LOG)
    page = sw.write(table, folder, sc, inputs, grid, as_csv, ds.company_names)
    for line in json.loads((folder / sw.RECORD).read_text(encoding="utf-8"))["spread"]:  # as the record just written says
        click.echo(line)
    click.echo(f"{len(table):,} evaluations; table and summary in {folder} (open {page.name})")
    if (folder.parent.parent / "index.html").is_file():  # a site is there: its index links the new sweep
        from valuechain.publish import site

        site.publish(folder.parent.parent, rerender=False, when_changed=True, **_current())


@main.command(short_help="Rebuild the HTML site from the executed notebooks.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the runs (default: outputs/).")
def publish(files, outputs):
    """Rebuild the HTML site under outputs/ from the executed notebooks (nothing is executed).

    The site shows the scenarios of params/ and the scenario files outside it that 'valuechain run'
    wrote into the folder. FILES (scenario files in any folder) are added to those, e.g. when the
    file has moved since its run; each must have run into the folder already.

    \b
    Examples:
      valuechain publish
      valuechain publish --outputs /tmp/vc ~/cases/mine.yaml
    """
    from valuechain.batch import sources
    from valuechain.exceptions import ParameterError
    from valuechain.files import OutputsLock
    from valuechain.publish import site
    from valuechain.scenario.load import load_scenario
    from valuechain.scenario.names import scenario_argument

    folder = Path(outputs or paths.OUTPUTS_DIR)
    found = {}
    for file in files:
        name, path = scenario_argument(file)
        load_scenario(path or name)  # a file that does not validate is not shown
        if path is not None:
            if not (folder / name / "parameters.json").is_file():
                raise ParameterError(f"{file}: has not run into {folder} (no {name}/parameters.json there); "
                                     f"run it first: valuechain run {file}")
            found[name] = path
    if found:
        with OutputsLock(folder):
            sources.record(folder, found)
    click.echo(f"Site: {site.publish(outputs, **_current(outputs))}")


def _current(outputs: Path | None = None) -> dict:
    """The scenarios and notebooks that exist now: the site shows only their outputs (the scenarios of params/
    and the scenario files outside it that runs into ``outputs`` recorded)."""
    from valuechain.batch import sources
    from valuechain.batch.runner import notebook_names

    return {"scenarios": sources.current(outputs), "notebooks": notebook_names()}


@main.command(short_help="Remove the outputs of deleted scenarios and notebooks.")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the runs (default: outputs/).")
def clean(outputs):
    """Remove the outputs of scenarios and notebooks that no longer exist, then rebuild the index.

    Only files valuechain writes are removed, recognised by name and place, and only in a folder
    'valuechain run' made (it holds a .valuechain marker, or a run.json written by an older
    version); another folder is refused. A symbolic link is never followed. What is removed is
    decided in full before the first file goes.

    \b
    Example:
      valuechain clean
    """
    from valuechain.batch import runner
    from valuechain.publish import site

    removed = runner.prune(outputs)
    gone = set(removed)
    shown = [path for path in removed if path.parent not in gone]  # a removed folder stands for its files
    for path in shown:
        click.echo(f"removed {path}")
    click.echo(f"{len(shown)} stale output{'s' if len(shown) != 1 else ''} removed")
    if (Path(outputs or paths.OUTPUTS_DIR) / "run.json").exists():
        click.echo(f"Site: {site.publish(outputs, rerender=False, **_current(outputs))}")


@main.command(short_help="The main job: run everything, publish the site.")
@click.option("--jobs", "-j", type=int, default=None, help="Parallel processes (default: number of cores).")
@click.option("--force", is_flag=True, help="Re-run items whose inputs are unchanged.")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: outputs/).")
@click.option("--verbose", "-v", is_flag=True, help="Also print the dataset's coverage table first (as 'valuechain summary').")
def report(jobs, force, outputs, verbose):
    """The main job: validate the data, run every notebook for every scenario in params/, publish the site.

    This is what 'make report' runs: 'valuechain run --all' (same cache, same outputs, see
    'valuechain run --help'), after checking the dataset and writing its coverage table to
    <outputs>/data_coverage.csv, and followed by a screenshot of the index (index.png) where
    Chromium is installed.

    \b
    Examples:
      valuechain report
      valuechain report --jobs 2 --force --outputs /tmp/vc -v
    """
    from valuechain.dataset import coverage
    from valuechain.publish import site

    folder = Path(outputs or paths.OUTPUTS_DIR)
    # The dataset is validated first, then the scenarios; the coverage table is written only under the
    # run's lock, once every check has passed, so a refused report writes nothing.
    from valuechain.dataset.load import load_dataset

    load_dataset()

    def write_coverage():
        text = coverage.write_data_summary(out=folder / "data_coverage.csv")
        if verbose:
            click.echo(text)

    failed = _run((), True, (), jobs, force, 600, outputs, on_locked=write_coverage)
    index = site.publish(outputs, rerender=False, when_changed=True, **_current(outputs))
    click.echo(f"Site: {index}")
    shot = site.screenshot(index, folder / "index.png")
    click.echo(f"Screenshot of the index: {shot}" if shot else "Screenshot skipped: no Chromium on this machine")
    if failed:
        sys.exit(1)


@main.group(short_help="Refresh the dataset from SEC XBRL company facts; rewrite the earnings calendar.")
def data():
    """Work with the dataset files: refresh them from SEC XBRL company facts, rewrite the earnings calendar.

    \b
    Example:
      valuechain data refresh --user-agent 'Jane Analyst jane@example.com'
    """


@data.command(short_help="Stage SEC figures for review, or apply a reviewed file.")
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

    \b
    Examples:
      valuechain data refresh --user-agent 'Jane Analyst jane@example.com' --since 2024
      valuechain data refresh --apply outputs/refresh/staged_changes.csv
    """
    from valuechain.dataset import refresh as refresh_mod

    if apply_file is not None:
        click.echo(terminal_text(refresh_mod.apply_staged(apply_file, data_dir=data_dir).describe()))
        return
    summary_ = refresh_mod.stage_refresh(user_agent, data_dir=data_dir, out=out, company_ids=companies, since=since)
    click.echo(terminal_text(summary_.describe()))


@data.command("calendar", short_help="Rewrite the earnings calendar from the data and list what is overdue.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the dataset files (default: the bundled data).")
def calendar_cmd(data_dir):
    """Rewrite earnings_calendar.csv from the data, then print the reports that are overdue today.

    Each company's last filed period, its next period and the usual filing lag are derived from
    the data; a published date (basis published, with its source) is kept while it still applies.
    Run it after adding filed figures (for example after 'valuechain data refresh --apply').

    \b
    Example:
      valuechain data calendar
    """
    from valuechain.dataset import calendar, coverage
    from valuechain.dataset.load import load_dataset

    ds = load_dataset(data_dir)
    click.echo(f"Earnings calendar written to {calendar.write(ds, data_dir)}")
    click.echo(terminal_text(coverage.overdue_line(ds)))


@main.command(short_help="Print the answer: each question's verdict and headline figures from the latest outputs.")
@click.argument("scenario", default="base")
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the runs (default: outputs/).")
def answer(scenario, outputs):
    """Print the answer for SCENARIO (default: base) from its latest outputs, with the data vintage.

    For each question, the first sentences of the page's executive summary (generated from the numbers;
    for the demand gap, the verdict rule's) and the headline figures. Nothing is recomputed: run
    `valuechain run SCENARIO` or `make report` first.

    \b
    Examples:
      valuechain answer
      valuechain answer bear --outputs /tmp/vc
    """
    from valuechain import paths
    from valuechain.publish.answer import answer as written

    click.echo(terminal_text(written(Path(outputs or paths.OUTPUTS_DIR), scenario)))


@main.command(short_help="Zip the pages, briefs, workbooks and decks to send (no executed notebooks).")
@click.argument("scenarios", nargs=-1)
@click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the runs (default: outputs/).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The zip to write (default: valuechain-bundle.zip in the outputs folder).")
def bundle(scenarios, outputs, out):
    """Write a zip of the site to send: the index, each scenario's pages, one-page brief, workbook,
    deck and charts (SVG), without the executed notebooks; print its path and size.

    SCENARIOS default to every scenario with outputs. Only files valuechain wrote are taken, and a
    link planted in the outputs folder is never followed. Run `valuechain report` first.

    \b
    Examples:
      valuechain bundle
      valuechain bundle base bear --out ~/ai-value-chain.zip
    """
    from valuechain.publish import bundle as bundle_mod

    written = bundle_mod.write(Path(outputs or paths.OUTPUTS_DIR), list(scenarios) or None, out)
    count = len(bundle_mod.zip_names(written))
    click.echo(f"Bundle written to {written} ({count} files, {written.stat().st_size / 1e6:.1f} MB)")


@main.command(short_help="Score the forecast ledger, or append the forecasts of new vintages.")
@click.option("--update", is_flag=True, help="Append the forecasts of every vintage the data support that the ledger "
                                             "does not hold yet (earlier rows are never rewritten).")
@click.option("--scenario", default="base", show_default=True, help="Scenario whose assumptions the forecasts use.")
@click.option("--file", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Ledger file (default: the bundled valuechain/dataset/data/forecast_ledger.csv).")
def ledger(update, scenario, ledger_path):
    """Print the forecast ledger's track record, or --update it with the vintages it lacks.

    Each vintage (a quarter's end) forecasts D and R* for the next four quarters from what was
    published by its date; the rows are appended once and never rewritten.

    \b
    Examples:
      valuechain ledger
      valuechain ledger --update
    """
    from valuechain.dataset import ledger as ledger_file
    from valuechain.dataset.load import load_dataset
    from valuechain.model import ledger as ledger_model
    from valuechain.scenario.load import load_scenario

    ds, sc = load_dataset(), load_scenario(scenario)
    if update:
        added = ledger_model.update(sc, ds, ledger_path)
        vintages = sorted({str(v.date()) for v in added["vintage"]})
        click.echo(f"{len(added)} forecasts appended ({', '.join(vintages)})" if vintages
                   else "The ledger holds every vintage the data support; nothing appended.")
        return
    record = ledger_model.track_record(sc, ds, ledger_file.load(ledger_path), sc.demand_gap.downstream.band)
    for key, value in record.summary().items():
        click.echo(f"{key:<32} {value}")


if __name__ == "__main__":
    main()
