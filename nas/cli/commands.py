"""`nas search`, `confirm`, `show`, `report`, `export`, `info`, `zoo`: parse flags, call the package, print.

Registered on :data:`nas.cli.app.app`; the workflow commands (eval, upscale, train) are in
:mod:`nas.cli.workflow`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from nas.cli.app import app, err, out
from nas.cli.app import fail as _fail
from nas.cli.progress import LOG_FORMAT_HELP, ConfirmProgress, LogFormat, SearchProgress, console_for
from nas.errors import NasError


# ---------------------------------------------------------------------- search
def _sigterm_as_interrupt() -> None:
    """Treat SIGTERM (batch schedulers, `kill`) like Ctrl-C: mark the trial, write outputs, exit."""
    import signal

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _objective_help() -> str:
    """The registered objectives for ``--help``: ``psnr_db (psnr, dB, max)``, ..."""
    from nas.scoring.objectives import OBJECTIVE_REGISTRY

    return "; ".join(f"{o.name}" + (f" ({'/'.join(o.aliases)})" if o.aliases else "") + f": {o.unit}, {o.direction[:3]}"
                     for o in OBJECTIVE_REGISTRY.values()) + "."


@app.command()
def search(
    space: Optional[Path] = typer.Option(None, help="Search-space YAML (default: search_spaces/lightweight_sr.yaml)."),
    budget: int = typer.Option(200, help="COMPLETE trials the study should hold (references included)."),
    scale: int = typer.Option(4, help="Upscaling factor: 2, 3, 4 or 8."),
    data: Optional[Path] = typer.Option(None, help="Training images: DIV2K-style folder (default: built-in photographs)."),
    val_data: Optional[Path] = typer.Option(None, help="Validation folder, Set5/Set14 style."),
    profile: str = typer.Option("default", help="Proxy profile: default (zoo-predicted where it has a "
                                "calibration: shipped for x2 / x3 / x4, Y- and RGB-PSNR, 20 iters, or yours from nas "
                                "calibrate; else it stops with the command that makes one, see --calibrate; a "
                                "resumed study keeps the one it was created with), zoo-predicted (20 iters over a proxy-only "
                                "bicubic skip, ranked by the predicted fully-trained Set5 PSNR of the zoo-gt "
                                "calibration, candidates outside its domain pruned), bicubic-predicted (the same, "
                                "ranked by the older zoo-skip calibration), halving (successive halving 20 -> 60 -> 180 iters, eta "
                                "3, raw proxy PSNR), accelerator (for a GPU: halving 1 K -> 3 K -> 9 K steps, batch 32, bf16, "
                                "ranked by a calibration made with nas calibrate --profile accelerator), accelerator-fixed "
                                "(its first rung alone, 1 K steps: a calibration costs a ninth), predicted, "
                                "fixed (60 iters each), fast, long, smoke, smoke-halving."),
    iters: Optional[int] = typer.Option(None, help="Override the profile's proxy iterations (rung 0 with successive halving)."),
    sampler: str = typer.Option("tpe", help="tpe | nsga2 | random | gp."),
    seed: int = typer.Option(0, help="Sampler seed."),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    study: Optional[str] = typer.Option(None, help="Study name (default <space>_x<scale>)."),
    storage: Optional[str] = typer.Option(None, help="Optuna storage URL (default sqlite in the output folder)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "--out-dir", help="Output folder (default runs/<study>, e.g. runs/lightweight_sr_x4)."),
    threads: Optional[int] = typer.Option(None, help="torch threads of the proxy training, part of the "
                                          "protocol (default: the profile's, 1). Latency uses every core."),
    jobs: int = typer.Option(0, envvar="NAS_JOBS", help="Worker processes on this machine sharing the study "
                             "(0: one per usable core on CPU, 1 on CUDA; env NAS_JOBS)."),
    worker_id: int = typer.Option(0, help="This worker's index when several share one study (seeds differ)."),
    heartbeat: int = typer.Option(20, help="Seconds between heartbeats of the running trial; a trial silent "
                                           "for 3x as long (killed worker) is marked FAILED and re-queued."),
    references: Optional[str] = typer.Option(None, help="Published configs enqueued first (comma-separated "
                                             "names from `nas zoo`, or 'none'; default imdn,rfdn,rfdn_l,erfdn, "
                                             "those that exist at --scale)."),
    max_params: Optional[int] = typer.Option(None, help="Reject candidates with more parameters, before training."),
    max_mult_adds: Optional[float] = typer.Option(None, help="Reject candidates above this many Mult-Adds "
                                                  "(MACs for a 1280x720 HR output, e.g. 2e10), before training."),
    max_latency_ms: Optional[float] = typer.Option(None, help="Reject candidates slower than this (ms, the "
                                                   "study's latency setting), before training."),
    checkpoint_dir: Optional[Path] = typer.Option(None, help="Between-rung checkpoints of successive halving "
                                                  "(default <out>/checkpoints; share it between machines)."),
    objectives: Optional[str] = typer.Option(None, help="Objectives, comma-separated, psnr first (default "
                                             "psnr,params,mult_adds,latency; a resumed study keeps its own). "
                                             "Known: " + _objective_help()),
    preset: Optional[str] = typer.Option(None, help="ntire-esr: the NTIRE efficient-SR challenge's setting "
                                         "(x4, search_spaces/ntire_esr.yaml, RGB PSNR, NTIRE FLOPs, RLFN / EFDN / "
                                         "SPAN as references, the 2026 score in the report); flags given win."),
    metric: Optional[str] = typer.Option(None, help="Validation PSNR of the proxy: y (the papers) or rgb (NTIRE "
                                         "ESR); part of the protocol."),
    min_psnr: Optional[float] = typer.Option(None, help="Reject candidates whose PSNR objective is below this "
                                             "(dB; predicted full-training PSNR when the profile has a predictor)."),
    calibration: Optional[Path] = typer.Option(None, help="A calibration file (nas calibrate --out) searched first "
                                               "for this scale and protocol (default: <out>/calibration.json if "
                                               "there)."),
    calibrate: str = typer.Option("never", help="never | auto: where the default profile finds no calibration, "
                                  "or only one fitted on other data, auto runs nas calibrate on this protocol and "
                                  "data first (when it trains at most a quarter of --budget networks); never stops "
                                  "where none fits, with the command that makes one."),
    log_format: LogFormat = typer.Option(LogFormat.auto, "--log-format", help=LOG_FORMAT_HELP + " The bar: "
                                         "trials done / budget, elapsed, ETA, the front's size, hypervolume and "
                                         "best PSNR; the per-trial lines print in every format."),
    outputs: bool = typer.Option(True, "--outputs/--no-outputs", hidden=True),
) -> None:
    """Run (or resume) an architecture search; writes trials.csv, pareto.csv, pareto.html.
    With --jobs N (default: one per core) N processes train at once, cooperating on one study."""
    from nas.report.tables import write_outputs
    from nas.search import SearchSettings, run_search

    if scale not in (2, 3, 4, 8):
        _fail(f"--scale must be 2, 3, 4 or 8, got {scale}")
    if jobs < 0:
        _fail(f"--jobs must be at least 0 (0: one per core), got {jobs}")
    settings = SearchSettings(
        space=str(space) if space else None, budget=budget, scale=scale,
        data=str(data) if data else None, val_data=str(val_data) if val_data else None,
        profile=profile, iters=iters, sampler=sampler, seed=seed, device=device, study=study,
        storage=storage, out=str(out_dir) if out_dir else None, threads=threads,
        worker_id=worker_id, heartbeat=heartbeat, max_params=max_params, max_mult_adds=max_mult_adds,
        max_latency_ms=max_latency_ms, checkpoint_dir=str(checkpoint_dir) if checkpoint_dir else None,
        references=(None if references is None else
                    tuple(r.strip() for r in references.split(",") if r.strip() and r.strip().lower() != "none")),
        outputs=outputs, objectives=objectives, preset=preset, metric=metric, min_psnr=min_psnr,
        calibration=str(calibration) if calibration else None, calibrate=calibrate,
    )
    jobs = jobs or _default_jobs(device)
    settings.jobs = jobs
    console, bar = console_for(log_format, err)
    log = lambda m: console.print(m, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
    progress = SearchProgress(console, enabled=bar)
    _sigterm_as_interrupt()
    helpers: list[tuple[subprocess.Popen, Path]] = []

    def start_helpers(study_name: str, storage_url: str, out: Path) -> None:
        for i in range(1, jobs):
            log_path = out / "logs" / f"job{i}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "nas.cli", "search", *_search_args(settings),
                   "--study", study_name, "--storage", storage_url, "--out", str(out),
                   "--worker-id", str(worker_id + i), "--jobs", "1", "--no-outputs", "--log-format", "lines"]
            with open(log_path, "ab") as fh:
                # own session: a Ctrl-C in the terminal reaches this process only, which passes
                # one SIGINT on (a second one would interrupt a job while it records its trial)
                helpers.append((subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                                 env={**os.environ, "NAS_JOBS": "1"}), log_path))
        if helpers:
            log(f"{jobs} jobs on this machine: this one and {len(helpers)} more "
                f"(logs in {out / 'logs'}/job*.log), {settings.threads or 1} training thread(s) each")

    try:
        outcome = run_search(settings, log=log, progress=progress, on_ready=start_helpers, write_outputs=write_outputs)
    except KeyboardInterrupt:
        _stop_helpers(helpers)
        err.print("interrupted: the running trial was marked FAILED and the outputs were written")
        raise typer.Exit(130) from None
    except BaseException:
        _stop_helpers(helpers)
        raise
    failed = _wait_helpers(helpers)
    if helpers:
        _rewrite_outputs(outcome)
    if not outputs:
        return
    err.print(f"done: {outcome.complete} complete, {outcome.failed} failed trials in "
              f"{outcome.wall_s / 60:.1f} min; outputs in {outcome.out_dir}/")
    _print_front(outcome.out_dir, outcome.study_name, outcome.storage, sort="params")
    if failed:
        _fail("; ".join(failed) + " (the study is intact: run the same command again to check or resume)", code=1)


@app.command()
def calibrate(
    scale: int = typer.Option(4, help="Upscaling factor: 2, 3 or 4 (where the ground truth has enough networks)."),
    metric: Optional[str] = typer.Option(None, help="Validation PSNR of the proxy: y or rgb (as nas search)."),
    profile: str = typer.Option("zoo-predicted", help="Proxy profile whose protocol is calibrated (zoo-predicted: "
                                "the default search's)."),
    iters: Optional[int] = typer.Option(None, help="Override the profile's proxy iterations (as nas search --iters)."),
    threads: Optional[int] = typer.Option(None, help="torch threads of the training (as nas search --threads)."),
    data: Optional[Path] = typer.Option(None, help="Training images of the proxy (default: built-in photographs)."),
    val_data: Optional[Path] = typer.Option(None, help="Validation folder of the proxy, Set5/Set14 style."),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    jobs: int = typer.Option(0, envvar="NAS_JOBS", help="Processes training at once (0: one per core on CPU)."),
    out_file: Path = typer.Option(Path("calibration.json"), "--out", help="Calibration file to write (an entry "
                             "of that name in it is replaced, others kept); its cache lies beside it."),
    name: Optional[str] = typer.Option(None, help="The calibration's name (default calibrated-x<scale>-<metric>-<iters>)."),
    networks: Optional[str] = typer.Option(None, help="Only these published networks (comma-separated; default: "
                                           "every one with a fully-trained Set5 PSNR at --scale)."),
) -> None:
    """Fit a predictor of the fully-trained PSNR for one proxy protocol: train the published
    networks of the ground truth by it, fit, write the calibration with its out-of-family
    statistics. `nas search --calibration FILE` ranks by it; a killed run resumes."""
    from nas.models.device import resolve_device
    from nas.scoring.calibrate import CalibrationSettings
    from nas.scoring.calibrate import calibrate as run_calibration

    if scale not in (2, 3, 4, 8):
        _fail(f"--scale must be 2, 3, 4 or 8, got {scale}")
    if jobs < 0:
        _fail(f"--jobs must be at least 0 (0: one per core), got {jobs}")
    dev = str(resolve_device(device))
    s = CalibrationSettings(scale=scale, profile=profile, iters=iters, threads=threads, metric=metric,
                            data=str(data) if data else None, val_data=str(val_data) if val_data else None,
                            out=str(out_file), name=name, jobs=jobs or _default_jobs(device), device=dev,
                            networks=None if networks is None else tuple(n.strip() for n in networks.split(",")
                                                                         if n.strip()))
    _sigterm_as_interrupt()
    try:
        path, cal_name, summ = run_calibration(s, log=lambda m: err.print(m, highlight=False, markup=False,
                                                                          soft_wrap=True))
    except KeyboardInterrupt:
        err.print(f"interrupted: the networks finished so far are kept in {out_file}.cache.jsonl; run the same "
                  "command again to resume", highlight=False, markup=False)
        raise typer.Exit(130) from None
    table = Table(title=f"{cal_name}: out-of-family predictions (leave one family out)")
    for col in ("network", "family", "params", "depth", "proxy PSNR", "predicted", "published"):
        table.add_column(col, justify="left" if col in ("network", "family") else "right")
    for r in sorted(summ["rows"], key=lambda r: r["truth"]):
        table.add_row(r["name"], r["family"], f"{r['params']:,}", str(r["depth"]),
                      "diverged" if r["proxy_psnr"] is None else f"{r['proxy_psnr']:.2f}",
                      "" if r["predicted"] is None else f"{r['predicted']:.2f}", f"{r['truth']:.2f}")
    out.print(table)
    ci, mci = summ["spearman_ci"], summ["mae_ci"]
    err.print(f"{cal_name} -> {path}: {summ['n']} networks of {summ['families']} families; out of family Spearman "
              f"{summ['spearman']:.2f} [95 % {ci[0]:.2f}, {ci[1]:.2f}], Kendall {summ['kendall']:.2f}, clear pairs "
              f"{summ['clear_pairs']:.0%}, MAE {summ['mae_db']:.3f} dB [{mci[0]:.3f}, {mci[1]:.3f}], sigma "
              f"{summ['sigma_db']:.3f} dB; params + depth alone on the same folds: Spearman "
              f"{summ['spearman_params_depth']:.2f} (the proxy adds {summ['paired_vs_params_depth']['diff']:+.2f}, "
              f"95 % [{summ['paired_vs_params_depth']['lo']:+.2f}, {summ['paired_vs_params_depth']['hi']:+.2f}])"
              + (f"; diverged: {', '.join(summ['diverged'])}" if summ["diverged"] else ""),
              highlight=False)
    err.print(f"use it: nas search --scale {scale}" + (f" --profile {profile}" if profile != "zoo-predicted" else "")
              + (f" --metric {metric}" if metric else "")
              + (f" --iters {iters}" if iters else "") + f" --calibration {path}", highlight=False, markup=False)


def _default_jobs(device: str) -> int:
    """``--jobs 0``: one process per usable core on CPU (the proxy's small tensors use one core
    each best, results/benchmarks/workers_load.md), one on CUDA (pass --jobs N to share a GPU)."""
    if device == "cuda":
        return 1
    if device == "auto":
        import torch

        if torch.cuda.is_available():
            return 1
    from nas.metrics.quiet import usable_cores

    return usable_cores()


def _search_args(s) -> list[str]:
    """The ``nas search`` flags that reproduce ``s`` (a ``SearchSettings``) in another process,
    without the study, storage, output folder and worker id."""
    args = ["--budget", str(s.budget), "--scale", str(s.scale), "--profile", s.profile, "--sampler", s.sampler,
            "--seed", str(s.seed), "--device", s.device, "--heartbeat", str(s.heartbeat)]
    if s.references is not None:
        args += ["--references", ",".join(s.references) or "none"]
    for flag, value in (("--space", s.space), ("--data", s.data), ("--val-data", s.val_data),
                        ("--iters", s.iters), ("--threads", s.threads), ("--max-params", s.max_params),
                        ("--max-mult-adds", s.max_mult_adds), ("--max-latency-ms", s.max_latency_ms),
                        ("--checkpoint-dir", s.checkpoint_dir), ("--objectives", s.objectives),
                        ("--preset", s.preset), ("--metric", s.metric), ("--min-psnr", s.min_psnr),
                        ("--calibration", s.calibration)):
        if value is not None:
            args += [flag, str(value)]
    return args


def _stop_helpers(helpers) -> None:
    """SIGINT to the other jobs still running (each marks its trial FAILED and re-queues it), then
    wait for them (SIGKILL after 60 s)."""
    import signal

    for p, _ in helpers:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p, _ in helpers:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _wait_helpers(helpers) -> list[str]:
    """Wait for the other jobs; one line per job that failed."""
    failed = []
    for i, (p, log_path) in enumerate(helpers, start=1):
        rc = p.wait()
        if rc != 0:
            failed.append(f"job {i} exited with {rc} (log: {log_path})")
    return failed


def _rewrite_outputs(outcome) -> None:
    """The outputs once every job has ended (their last trials included)."""
    from nas.report.tables import write_outputs
    from nas.search import load_existing_study

    write_outputs(load_existing_study(outcome.study_name, outcome.storage), outcome.out_dir)


# ---------------------------------------------------------------------- show / export
def _open_study(out_dir: Optional[Path], study: Optional[str], storage: Optional[str]):
    from nas.search import load_existing_study

    return load_existing_study(study, _storage_url(out_dir, storage))


def _storage_url(out_dir: Optional[Path], storage: Optional[str]) -> str:
    """``storage``, else the SQLite study of the search folder ``out_dir`` (one-line errors)."""
    if storage is None:
        if out_dir is None:
            _fail("pass --out-dir DIR (a search's output folder) or --storage URL")
        db = Path(out_dir) / "study.db"
        if not db.is_file():
            hint = ("" if Path(out_dir).is_dir() else
                    "; run `nas search` first, or pass --out-dir results/lightweight_sr_x4 (the committed reference run)")
            raise NasError(f"{out_dir}: no study.db found (is this a `nas search` output folder?){hint}")
        storage = f"sqlite:///{db.as_posix()}"
    return storage


def _print_front(out_dir, study_name, storage, sort: str, fmt: str = "table", show_all: bool = False,
                 dominating: Optional[str] = None) -> None:
    from nas.report import build_report_data
    from nas.report.terminal import front_table, front_view
    from nas.search import load_existing_study

    st = load_existing_study(study_name, storage)
    data = build_report_data(st, out_dir, with_hypervolume=False)
    df = front_view(data, sort=sort, show_all=show_all, dominating=dominating)
    margin = data.facts.claim_margin_db
    if dominating and df.empty:
        err.print(f"no searched candidate dominates {dominating} at the same fidelity (fewer or equal params, "
                  "Mult-Adds and latency, PSNR " + (f"more than {margin:.2f} dB ("
                                                  + ("the predictor's error at 95 %" if data.facts.claim_basis == "prediction"
                                                     else "the seed-to-seed noise") + ") above"
                                                  if margin else ">=") + " its own)", highlight=False, markup=False)
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
        return
    if fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=2) + "\n")
        return
    out.print(front_table(df, f"{st.study_name}: Pareto front (+ references)" if not show_all else st.study_name))
    out.print(f"PSNR: {data.facts.psnr_basis}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def show(
    out_dir: Optional[Path] = typer.Option(Path("runs/lightweight_sr_x4"), "--out-dir", "--out",
                                           help="A search's output folder (default: where `nas search` writes; "
                                                "the committed reference run is results/lightweight_sr_x4)."),
    study: Optional[str] = typer.Option(None, help="Study name (if the storage holds several)."),
    storage: Optional[str] = typer.Option(None, help="Storage URL instead of <out-dir>/study.db."),
    sort: str = typer.Option("params", help="Column to sort by."),
    csv: bool = typer.Option(False, "--csv", help="Print CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    show_all: bool = typer.Option(False, "--all", help="Every trial, not only the front."),
    dominating: Optional[str] = typer.Option(None, help="Only candidates that dominate this reference."),
) -> None:
    """Print the Pareto front of a study (with the references) as a table, CSV or JSON."""
    if csv and as_json:
        _fail("--csv and --json exclude each other")
    st = _open_study(out_dir, study, storage)
    url = storage or f"sqlite:///{(Path(out_dir) / 'study.db').as_posix()}"
    _print_front(out_dir, st.study_name, url, sort, "csv" if csv else "json" if as_json else "table",
                 show_all, dominating)


@app.command()
def report(
    out_dir: Optional[Path] = typer.Option(None, "--out", "--out-dir",
                                           help="A search's output folder; the report is written there "
                                                "(default runs/lightweight_sr_x4, where `nas search` writes, or runs/<study> with --storage)."),
    study: Optional[str] = typer.Option(None, help="Study name (if the storage holds several)."),
    storage: Optional[str] = typer.Option(None, help="Storage URL instead of <out>/study.db."),
    png: bool = typer.Option(True, "--png/--no-png", help="Also write pareto.png (matplotlib)."),
    screenshot: Optional[Path] = typer.Option(None, help="Also screenshot report.html with headless Chromium "
                                                         "(1600x1200 PNG), e.g. results/report_screenshot.png."),
) -> None:
    """Write report.html (self-contained, offline), report.json and pareto.png for a study."""
    from nas.report import build_report_data, write_report
    from nas.report.terminal import facts_table

    if out_dir is None and storage is None:
        out_dir = Path("runs/lightweight_sr_x4")
    st = _open_study(out_dir, study, storage)
    out_dir = out_dir if out_dir is not None else Path("runs") / st.study_name
    data = build_report_data(st, out_dir, storage=storage)
    paths = write_report(st, out_dir, storage=storage, png=png, data=data)
    out.print(facts_table(data))
    if screenshot is not None:
        from nas.report.browser import screenshot as _shot

        paths["screenshot"] = _shot(paths["html"], screenshot)
    for key in ("html", "png", "json", "screenshot"):
        if key in paths:
            err.print(f"wrote {paths[key]}", highlight=False, markup=False)


@app.command()
def confirm(
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", "--out",
                                           help="A search's output folder, its tables and report rewritten (default "
                                                "runs/lightweight_sr_x4, or runs/<study> with --storage)."),
    study: Optional[str] = typer.Option(None, help="Study name (if the storage holds several)."),
    storage: Optional[str] = typer.Option(None, help="Storage URL instead of <out-dir>/study.db."),
    top: int = typer.Option(4, "--top", help="Searched front members to retrain (claims first, then PSNR); "
                                             "every reference is retrained too."),
    profile: str = typer.Option("confirm", help="Proxy profile of the confirmation (a longer protocol)."),
    data: Optional[Path] = typer.Option(None, help="The study's training folder (default: built-in photographs)."),
    val_data: Optional[Path] = typer.Option(None, help="The study's validation folder."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    threads: int = typer.Option(0, help="torch threads of the training, part of the protocol (0: the profile's, 1)."),
    jobs: int = typer.Option(0, envvar="NAS_JOBS", help="Processes training at once on this machine, each claiming "
                             "its own networks (0: one per usable core on CPU, 1 on CUDA; env NAS_JOBS)."),
    log_format: LogFormat = typer.Option(LogFormat.auto, "--log-format", help=LOG_FORMAT_HELP + " The bar: "
                                         "networks x training steps (every process's), elapsed, ETA; the "
                                         "per-network lines print in every format."),
    outputs: bool = typer.Option(True, "--outputs/--no-outputs", hidden=True),
) -> None:
    """Retrain the best front members and the references from scratch with a longer protocol,
    store the scores in the study (psnr_confirm_db) and mark each dominance claim confirmed or not.
    Resumable; several `nas confirm` processes on one study share the work."""
    from nas.report import build_report_data, write_report
    from nas.search.confirm import ConfirmSettings, run_confirm

    if threads < 0 or jobs < 0:
        _fail("--threads and --jobs must be at least 0")
    jobs = jobs or _default_jobs(device)
    if out_dir is None and storage is None:
        out_dir = Path("runs/lightweight_sr_x4")
    url = _storage_url(out_dir if storage is None else None, storage)
    st = _open_study(None, study, url)
    if out_dir is None:
        out_dir = Path("runs") / st.study_name
    settings = ConfirmSettings(study_name=st.study_name, storage_url=url, out_dir=out_dir, top_k=top,
                               profile=profile, data=str(data) if data else None,
                               val_data=str(val_data) if val_data else None, device=device, threads=threads)
    console, bar = console_for(log_format, err)
    log = lambda m: console.print(m, highlight=False, markup=False)  # noqa: E731
    helpers = []
    logs = Path(out_dir) / "logs" if bar and Path(out_dir).is_dir() else None
    for i in range(1, jobs):  # more processes on the same study: each claims its own networks
        cmd = [sys.executable, "-m", "nas.cli", "confirm", "--storage", url, "--study", st.study_name,
               "--top", str(top), "--profile", profile, "--device", device, "--threads", str(threads), "--jobs", "1",
               "--no-outputs", "--log-format", "lines",
               *(["--data", str(data)] if data else []), *(["--val-data", str(val_data)] if val_data else [])]
        if logs is None:  # their lines on our stderr, as ours
            helpers.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env={**os.environ, "NAS_JOBS": "1"}))
            continue
        logs.mkdir(exist_ok=True)  # under a live bar their lines would tear it: a file each, as nas search's jobs
        with open(logs / f"confirm_job{i}.log", "ab") as fh:
            helpers.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=fh,
                                            env={**os.environ, "NAS_JOBS": "1"}))
    if logs is not None and helpers:
        log(f"{jobs} confirm processes on this machine: this one and {len(helpers)} more "
            f"(logs in {logs}/confirm_job*.log)")
    def write() -> None:
        if outputs and Path(out_dir).is_dir():
            write_report(st, out_dir, storage=storage, png=False)
            log(f"wrote {Path(out_dir) / 'trials.csv'} and {Path(out_dir) / 'report.html'}")

    try:
        run_confirm(settings, log=log, progress=ConfirmProgress(console, enabled=bar),
                    read_points=lambda study: build_report_data(study, out_dir, with_hypervolume=False))
        failed = [p.wait() for p in helpers]
    except NasError:  # refused before training: nothing written
        for p in helpers:
            p.terminate()
        raise
    except KeyboardInterrupt:
        for p in helpers:
            p.terminate()
        write()
        raise NasError("interrupted: the finished networks are stored; run the same command again to "
                       "continue") from None
    write()
    if any(failed):
        raise NasError(f"{sum(1 for rc in failed if rc)} of the {len(helpers)} other confirm process(es) failed")
    if outputs:
        _print_front(out_dir, st.study_name, url, "params")


@app.command()
def export(
    config_file: Optional[Path] = typer.Argument(None, help="With --weights: the trained model's ArchConfig "
                                                            "(default: the one stored in the checkpoint)."),
    out: Path = typer.Option(..., "--out", help="Config file to write (.yaml or .json)."),
    reference: Optional[str] = typer.Option(None, help="Export a published network (see `nas zoo`)."),
    scale: int = typer.Option(4, help="Scale for --reference."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="A search's output folder (with --trial)."),
    trial: Optional[int] = typer.Option(None, help="Trial number to export."),
    study: Optional[str] = typer.Option(None, help="Study name (if the storage holds several)."),
    storage: Optional[str] = typer.Option(None, help="Storage URL instead of <out-dir>/study.db."),
    weights: Optional[Path] = typer.Option(None, help="Trained weights to export too: <out>.safetensors "
                                                      "(deploy form; see nas/export)."),
    onnx: bool = typer.Option(False, "--onnx", help="With --weights: also <out>.onnx, checked with onnxruntime."),
    ntire: Optional[int] = typer.Option(None, help="With --weights: also the NTIRE ESR challenge's files for this "
                                        "team id, models/teamID_NAME.py (one plain-PyTorch file) and "
                                        "model_zoo/teamID_NAME.pth, next to --out (data_range 1.0)."),
    ntire_name: str = typer.Option("NasSR", help="Model (and class) name of the --ntire files."),
) -> None:
    """Write an ArchConfig: a reference (--reference NAME --scale S) or a trial (--out-dir DIR --trial N);
    with --weights also the trained weights (safetensors), with --onnx an ONNX graph and with --ntire
    the NTIRE ESR challenge's model file and weights."""
    from optuna.trial import TrialState

    from nas.arch import reference_config
    from nas.search import trial_config

    if weights is None and (onnx or ntire is not None):
        _fail(f"{'--onnx' if onnx else '--ntire'} exports trained weights: pass --weights W (a `nas train` .pt, "
              "authors' .pth or .safetensors)")
    if weights is None and config_file is not None:
        _fail(f"{config_file}: a CONFIG argument is exported with its trained weights: pass --weights W")
    if out.suffix.lower() not in (".yaml", ".yml", ".json"):
        _fail(f"{out}: --out is a config file ending in .yaml, .yml or .json (weights go beside it)")
    if weights is not None and reference is None and trial is None:  # the checkpoint (or CONFIG) has the arch
        from nas.cli.workflow import export_trained

        export_trained(config_file, None, None, weights, out, onnx, ntire, ntire_name)
        return
    if (reference is None) == (trial is None):
        _fail("pass either --reference NAME or --trial N (with --out-dir)")
    if reference is not None:
        config = reference_config(reference, scale)
    else:
        st = _open_study(out_dir, study, storage)
        numbers = {t.number: t for t in st.get_trials(deepcopy=False)}
        if trial not in numbers:
            raise NasError(f"study {st.study_name!r} has no trial {trial} (trials 0..{len(numbers) - 1})")
        t = numbers[trial]
        if t.state != TrialState.COMPLETE:
            raise NasError(f"trial {trial} of study {st.study_name!r} did not complete (state {t.state.name})")
        config = trial_config(t)
    if weights is not None:
        from nas.cli.workflow import export_trained

        export_trained(None, config, reference, weights, out, onnx, ntire, ntire_name)
        return
    try:
        config.save(out)
    except OSError as e:
        raise NasError(f"{out}: cannot write ({e.strerror or e})") from None
    err.print(f"wrote {out}: {config.summary()} (arch_id {config.arch_id})", highlight=False, markup=False)


# ---------------------------------------------------------------------- info / zoo
def _costs(config, latency: bool, ntire: bool = False) -> dict:
    from nas.metrics import count_params, measure_latency, mult_adds, ntire_flops
    from nas.models import build_model
    from nas.scoring.evaluate import deploy_form

    trained = build_model(config)
    model = deploy_form(trained)  # the costs a user pays: ECBs merged (issue 18 §3)
    row = {"name": config.name, "scale": config.scale, "params": count_params(model),
           "mult_adds": mult_adds(model, config.scale, in_channels=config.colors),
           "arch_id": config.arch_id, "summary": config.summary()}
    if model is not trained:
        row["train_params"] = count_params(trained)
    if ntire:
        row["ntire_flops"] = ntire_flops(model, config.scale, in_channels=config.colors)
    if latency:
        lat = measure_latency(model, lr_hw=(64, 64), in_channels=config.colors)
        row.update(latency_ms=round(lat.median_ms, 3), latency_input=f"{config.colors}x64x64",
                   threads=lat.threads, device=lat.device)
    return row


def _ntire_rows(rows: list[dict], year: int, scale: int) -> tuple[dict, dict]:
    """Add the challenge's scores of ``year`` to each row (which holds ``ntire_flops``,
    ``params`` and ``latency_ms``), against the baseline measured here the same way. Returns the
    baseline facts and the baseline's own row."""
    from nas.arch import REFERENCES, reference_config
    from nas.scoring.ntire import ntire_baseline, ntire_score

    base = ntire_baseline(year)
    if scale != 4:
        raise NasError(f"--ntire: the NTIRE efficient-SR challenge is x4 (got --scale {scale})")
    if base.reference not in REFERENCES:
        raise NasError(f"--ntire {year}: its baseline {base.reference!r} is not in the zoo yet (nas zoo lists it)")
    ref = next((r for r in rows if r.get("name") == base.reference), None) or \
        _costs(reference_config(base.reference, 4), latency=True, ntire=True)
    for r in rows:
        r.update({k: round(v, 4) for k, v in ntire_score(r["latency_ms"], r["ntire_flops"], r["params"],
                                                           ref["latency_ms"], ref["ntire_flops"], ref["params"],
                                                           base.weights).items()})
    return {"year": year, "baseline": base.reference, "weights": list(base.weights), "source": base.source,
            "published": {"runtime_ms": base.runtime_ms, "flops_g": base.flops_g, "params_m": base.params_m},
            "psnr_threshold_db": base.psnr_valid_db}, ref


@app.command()
def info(
    config: Optional[Path] = typer.Argument(None, help="ArchConfig YAML/JSON file."),
    reference: Optional[str] = typer.Option(None, help="A published network instead of a file."),
    scale: int = typer.Option(4, help="Scale for --reference."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    latency: bool = typer.Option(True, "--latency/--no-latency", help="Measure CPU latency (64x64 LR)."),
    ntire: Optional[int] = typer.Option(None, help="Also the NTIRE ESR challenge's FLOPs (MACs at a 256x256 LR "
                                        "input) and its score of that year (2024, 2025, 2026) against the "
                                        "year's baseline timed here the same way."),
) -> None:
    """Params, Mult-Adds (1280x720 HR output) and latency of a config."""
    from nas.arch import reference_config

    if (config is None) == (reference is None):
        _fail("pass a CONFIG file or --reference NAME")
    from nas.cli.workflow import load_config_file

    cfg = load_config_file(config) if config is not None else reference_config(reference, scale)
    row = _costs(cfg, latency or ntire is not None, ntire=ntire is not None)
    if ntire is not None:
        facts, _ = _ntire_rows([row], ntire, cfg.scale)
        row["ntire"] = facts
    if as_json:
        sys.stdout.write(json.dumps(row, indent=2) + "\n")
        return
    table = Table(show_header=False, title=str(config or reference))
    for k, v in row.items():
        table.add_row(k, f"{v:,}" if isinstance(v, int) and k in ("params", "mult_adds", "train_params", "ntire_flops") else str(v))
    out.print(table)


@app.command()
def zoo(
    scale: int = typer.Option(4, help="Scale."),
    latency: bool = typer.Option(False, "--latency/--no-latency", help="Also measure CPU latency."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ntire: Optional[int] = typer.Option(None, help="Also the NTIRE ESR FLOPs (MACs, 256x256 LR input) and the "
                                        "score of that year's ranking (2024, 2025, 2026; latency measured)."),
) -> None:
    """List the reference models with params and Mult-Adds (MACs, 1280x720 HR output) of the
    deploy form (ECBs merged), the training form's params beside them where they differ."""
    from nas.arch import REFERENCES

    scales = sorted({sc for ref in REFERENCES.values() for sc in ref.scales})
    if scale not in scales:
        raise NasError(f"--scale: no reference model exists at x{scale} (scales: {', '.join(map(str, scales))})")
    if ntire is not None:
        from nas.scoring.ntire import ntire_baseline

        ntire_baseline(ntire)  # an unknown year fails before any measurement
        latency = True
    rows = []
    for name, ref in REFERENCES.items():
        if scale not in ref.scales:
            continue
        rows.append({"title": ref.title, **_costs(ref.build(scale), latency, ntire=ntire is not None)})
    facts = _ntire_rows(rows, ntire, scale)[0] if ntire is not None else None
    if as_json:
        sys.stdout.write(json.dumps(rows if facts is None else {"ntire": facts, "rows": rows}, indent=2) + "\n")
        return
    title = f"reference models, x{scale} (Mult-Adds for a 1280x720 HR output)"
    if facts is not None:
        title += (f"; NTIRE ESR {ntire}: FLOPs = MACs at a 256x256 LR input, score against {facts['baseline']} "
                  f"timed here (lower is better, the baseline scores 7.389)")
    table = Table(title=title)
    cols = ["name", "params", "train params", "Mult-Adds G"] + (["latency ms"] if latency else [])
    cols += ["NTIRE FLOPs G", "NTIRE score"] if facts is not None else []
    for col in cols + ["architecture"]:
        table.add_column(col, justify="left" if col in ("name", "architecture") else "right")
    for r in rows:
        train = f"{r['train_params']:,}" if "train_params" in r else ""
        extra = [f"{r['ntire_flops'] / 1e9:.2f}", f"{r['score_final']:.3f}"] if facts is not None else []
        table.add_row(r["name"], f"{r['params']:,}", train, f"{r['mult_adds'] / 1e9:.2f}",
                      *([f"{r['latency_ms']:.1f}"] if latency else []), *extra, r["summary"])
    out.print(table)
