"""The standard SR workflow on the command line: ``nas eval``, ``nas upscale``, ``nas train``.

Registered on :data:`nas.cli.app.app` (``nas/cli/__init__.py`` imports this module). Thin: resolve the
model (:func:`resolve_model`), call :mod:`nas.evaluation` / :mod:`nas.training`, print.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from nas.cli.app import app, err, out
from nas.cli.progress import LOG_FORMAT_HELP, LogFormat, TrainProgress, console_for
from nas.errors import NasError

__all__ = ["resolve_model"]


def _log(message: str) -> None:
    err.print(message, highlight=False, markup=False, soft_wrap=True)


def _set_threads(threads: Optional[int]) -> None:
    """``torch.set_num_threads(threads)`` unless None.

    Raises:
        NasError: ``threads`` < 1.
    """
    if threads is not None and threads < 1:
        raise NasError(f"--threads must be at least 1, got {threads}")
    if threads:
        import torch

        torch.set_num_threads(threads)


def load_config_file(path: Path):
    """``load_arch_config(path)``, then a shapes-only build (``check_buildable``), so that a
    config valid field by field but not buildable at its width is refused naming the file.

    Raises:
        ArchConfigError: ``"<file>: <field>: <problem>"``, one line.
    """
    from nas.arch import load_arch_config
    from nas.errors import ArchConfigError
    from nas.models import check_buildable

    cfg = load_arch_config(path)
    try:
        check_buildable(cfg)
    except ArchConfigError as err:
        msg = str(err)
        for prefix in (f"{cfg.name}: " if cfg.name else None, "config: "):
            if prefix and msg.startswith(prefix):
                msg = msg[len(prefix):]
                break
        raise ArchConfigError(f"{path}: {msg}") from None
    return cfg


def _image_mode(path: Path) -> str | None:
    """Pillow's mode of an image file (``RGB``, ``L``, ``RGBA``, ``I;16`` ...), header only."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.mode
    except Exception:  # noqa: BLE001 - read_image has already reported unreadable files
        return None


def _check_tiling(tile: Optional[int], overlap: int) -> None:
    """Raises NasError for a negative ``--tile`` or ``--tile-overlap`` (LR px)."""
    if tile is not None and tile < 0:
        raise NasError(f"--tile must be >= 0 LR px (0 = whole image), got {tile}")
    if overlap < 0:
        raise NasError(f"--tile-overlap must be >= 0 LR px, got {overlap}")


def resolve_model(config: Optional[Path], reference: Optional[str], weights: Path, scale: Optional[int],
                  device: str = "cpu"):
    """Build the network of ``CONFIG`` / ``--reference NAME`` (or the one stored in the weights
    file) and load ``--weights`` strictly. Returns a :class:`nas.checkpoints.LoadedModel`.

    Raises:
        NasError: both or a conflicting CONFIG / --reference, a scale that disagrees with the
            config, or any checkpoint / config error (names the file and key).
    """
    from nas.checkpoints import load_model
    from nas.models.device import resolve_device

    if config is not None and reference is not None:
        raise NasError("pass a CONFIG file or --reference NAME, not both")
    cfg = load_config_file(config) if config is not None else None
    if cfg is not None and scale is not None and scale != cfg.scale:
        raise NasError(f"{config}: the config is x{cfg.scale}, --scale says x{scale}")
    dev = resolve_device(device)
    loaded = load_model(weights, config=cfg, reference=reference, scale=scale, device=dev)
    if scale is not None and loaded.config.scale != scale:
        raise NasError(f"{weights}: the model is x{loaded.config.scale}, --scale says x{scale}")
    return loaded


# ---------------------------------------------------------------------- eval
@app.command("eval")
def eval_cmd(
    config: Optional[Path] = typer.Argument(None, help="ArchConfig YAML/JSON (or use --reference, or a "
                                                        "checkpoint that stores its config)."),
    reference: Optional[str] = typer.Option(None, help="A published network (see `nas zoo`); with "
                                                       "authors' weights the official key mapping is used."),
    weights: Path = typer.Option(..., help="Weights: authors' .pth, `nas train` .pt, or .safetensors."),
    data: List[Path] = typer.Option(..., help="Benchmark folder (HR/ + LR_bicubic/X{s}/, or images); repeatable."),
    scale: Optional[int] = typer.Option(None, help="Upscaling factor (default: the config's; 4 for --reference)."),
    as_json: bool = typer.Option(False, "--json", help="Print {dataset: {psnr_db, ssim, per_image}} as JSON."),
    bicubic_lr: bool = typer.Option(False, "--bicubic-lr", help="Ignore shipped LR_bicubic; make LR with our "
                                                                 "MATLAB bicubic."),
    device: str = typer.Option("cpu", help="cpu | cuda | auto."),
    tile: Optional[int] = typer.Option(None, help="Tiled inference with LR tiles of this size (default: whole)."),
    tile_overlap: int = typer.Option(16, help="LR px of context around each tile."),
    y_rounded: bool = typer.Option(False, "--y-rounded", help="Round Y to integers first (IMDN's Python "
                                                               "test script) instead of MATLAB's float Y."),
    metric: str = typer.Option("y", help="y (the papers: BT.601 Y) or rgb (the NTIRE efficient-SR challenges: "
                                         "8-bit RGB PSNR, border = scale)."),
    threads: Optional[int] = typer.Option(None, help="torch threads on CPU (default: torch's choice)."),
) -> None:
    """PSNR / SSIM (Y, BT.601, border = scale; or RGB with --metric rgb) of a model on benchmark
    folders, per image and mean."""
    from nas.checkpoints import describe
    from nas.data import dataset_name
    from nas.evaluation import evaluate_dataset

    _set_threads(threads)
    _check_tiling(tile, tile_overlap)
    if metric not in ("y", "rgb"):
        raise NasError(f"--metric must be y or rgb, got {metric!r}")
    for folder in data:
        if folder.is_file():
            raise NasError(f"{folder}: is a file; --data takes a benchmark folder (HR/ + LR_bicubic/X{{s}}/, or images)")
    loaded = resolve_model(config, reference, weights, scale, device)
    s = loaded.config.scale
    _log(describe(loaded))
    results: dict[str, dict] = {}
    for folder in data:
        name = dataset_name(folder)
        if name in results:
            raise NasError(f"{folder}: two --data folders are both named {name!r}")
        t = time.perf_counter()
        res = evaluate_dataset(loaded.model, folder, s, bicubic_lr=bicubic_lr,
                               device=next(loaded.model.parameters()).device, tile=tile, tile_overlap=tile_overlap,
                               y_convention="rounded" if y_rounded else "float", metric=metric)
        results[name] = res
        _log(f"{name} x{s}: {res['psnr_db']:.3f} dB / SSIM {res['ssim']:.4f} over {len(res['per_image'])} "
             f"images ({time.perf_counter() - t:.1f} s, LR {'our bicubic' if bicubic_lr else 'shipped when present'})")
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    for name, res in results.items():
        where = "RGB" if metric == "rgb" else "Y channel"
        table = Table(title=f"{name} x{s} ({loaded.config.name or 'model'}; {where}, {s} px shaved)")
        table.add_column("image")
        table.add_column("PSNR dB", justify="right")
        table.add_column("SSIM", justify="right")
        for img, v in res["per_image"].items():
            table.add_row(img, f"{v['psnr_db']:.3f}", f"{v['ssim']:.4f}")
        table.add_section()
        table.add_row("mean", f"{res['psnr_db']:.3f}", f"{res['ssim']:.4f}", style="bold")
        out.print(table)


# ---------------------------------------------------------------------- upscale
@app.command()
def upscale(
    inputs: List[Path] = typer.Argument(..., help="[CONFIG] INPUT...: images (a first .yaml/.json is the config)."),
    reference: Optional[str] = typer.Option(None, help="A published network (see `nas zoo`)."),
    weights: Path = typer.Option(..., help="Weights: authors' .pth, `nas train` .pt, or .safetensors."),
    out_dir: Path = typer.Option(..., "--out", help="Output folder (<stem>_x<s>.png per input)."),
    scale: Optional[int] = typer.Option(None, help="Upscaling factor (default: the config's; 4 for --reference)."),
    tile: int = typer.Option(256, help="LR tile side in px (0 = whole image); bounds memory."),
    tile_overlap: int = typer.Option(16, help="LR px of context around each tile (>= receptive field "
                                              "radius for exact results)."),
    device: str = typer.Option("cpu", help="cpu | cuda | auto."),
    threads: Optional[int] = typer.Option(None, help="torch threads on CPU (default: torch's choice)."),
) -> None:
    """Super-resolve images of any size (tiled, no seams); writes PNGs."""
    from nas.data import read_image, write_image
    from nas.evaluation import super_resolve

    _set_threads(threads)
    _check_tiling(tile, tile_overlap)
    config = None
    if inputs and inputs[0].suffix.lower() in (".yaml", ".yml", ".json"):
        config, inputs = inputs[0], inputs[1:]
    if not inputs:
        raise NasError("no INPUT images given")
    stems: dict[str, Path] = {}
    for p in inputs:  # a.png and a.jpg would both become a_x<s>.png: the first result lost
        if p.stem in stems and stems[p.stem] != p:
            raise NasError(f"{p}: has the same name as {stems[p.stem]}; both would be written to "
                           f"{p.stem}_x<s>.png (rename one)")
        stems[p.stem] = p
    loaded = resolve_model(config, reference, weights, scale, device)
    s, colors = loaded.config.scale, loaded.config.colors
    dev = next(loaded.model.parameters()).device
    images = [(p, read_image(p)) for p in inputs]  # read all first: a bad file fails before any work
    for p, _img in images:
        mode = _image_mode(p)
        if mode not in ("RGB", "P", None):
            _log(f"note: {p} is {mode}; it is super-resolved as RGB"
                 + (" (the alpha channel is dropped)" if "A" in mode else " (written as RGB)"))
    if out_dir.exists() and not out_dir.is_dir():
        raise NasError(f"{out_dir}: exists and is not a folder (--out is the output folder)")
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, img in images:
        t = time.perf_counter()
        try:
            sr = super_resolve(loaded.model, img, s, colors, tile or None, tile_overlap, dev)
        except ValueError as e:
            raise NasError(f"{path}: {e}") from None
        dest = write_image(out_dir / f"{path.stem}_x{s}.png", sr)
        _log(f"{path} ({img.shape[1]}x{img.shape[0]}) -> {dest} ({sr.shape[1]}x{sr.shape[0]}, "
             f"{time.perf_counter() - t:.1f} s)")


# ---------------------------------------------------------------------- export --weights (called by `nas export`)
def export_trained(config_file: Optional[Path], config, reference: Optional[str], weights: Path, out: Path,
                   onnx: bool, ntire: Optional[int] = None, ntire_name: str = "NasSR") -> None:
    """``nas export --weights``: load the trained model strictly, write the config, deploy-form
    safetensors, (``--onnx``) a verified ONNX graph and (``--ntire ID``) the NTIRE ESR files next
    to ``out``."""
    from nas.checkpoints import describe, load_model
    from nas.export import export_model

    cfg = config if config is not None else (load_config_file(config_file) if config_file is not None else None)
    loaded = load_model(weights, config=cfg, reference=reference, scale=cfg.scale if cfg is not None else None)
    _log(describe(loaded))
    res = export_model(loaded.model, loaded.config, out, onnx=onnx)
    _log(f"wrote {res.config_path}: {loaded.config.summary()} (arch_id {loaded.config.arch_id})")
    form = (f"ECBs merged into 3x3 convs, {res.params_trained:,} -> {res.params_deployed:,} params"
            if res.reparameterized else f"{res.params_deployed:,} params")
    _log(f"wrote {res.weights_path}: deploy form ({form}; max |deploy - trained| = {res.reparam_max_diff:.1e})")
    if res.onnx_path is not None:
        _log(f"wrote {res.onnx_path}: input 'lr' (N, {loaded.config.colors}, H, W) in [0, 1], output 'sr'; "
             f"max |onnxruntime - torch| = {res.onnx_max_diff:.1e}")
    if ntire is not None:
        from nas.export.ntire import export_ntire

        nt = export_ntire(loaded.model, loaded.config, Path(out).parent, ntire, ntire_name)
        _log(f"wrote {nt.model_path} (class {nt.class_name}, {nt.params:,} params, plain PyTorch) and "
             f"{nt.weights_path}; loads with strict=True, data_range 1.0; max |file - deploy form| = {nt.max_diff:.1e}")


# ---------------------------------------------------------------------- train
@app.command("train")
def train_cmd(
    config: Optional[Path] = typer.Argument(None, help="ArchConfig YAML/JSON to train (e.g. from `nas export`)."),
    reference: Optional[str] = typer.Option(None, help="Train a published network instead of a file."),
    data: Path = typer.Option(..., help="Training folder, DIV2K style (HR/ [+ LR_bicubic/X{s}/]) or images."),
    scale: Optional[int] = typer.Option(None, help="Scale (default: the config's; overrides it, e.g. x3 of a x2 "
                                                   "config with --init)."),
    iters: int = typer.Option(1_000_000, help="Total iterations (a resumed run continues up to this)."),
    batch: int = typer.Option(64, help="Patch pairs per iteration."),
    patch: Optional[int] = typer.Option(None, help="HR patch side in px (default 64 x scale)."),
    lr: float = typer.Option(5e-4, help="Initial learning rate (Adam 0.9/0.999), halved every --lr-step."),
    lr_step: int = typer.Option(200_000, help="Iterations between learning-rate halvings."),
    val_data: Optional[Path] = typer.Option(None, help="Validation folder (Set5 style)."),
    val_every: int = typer.Option(5_000, help="Iterations between validations (best.pt)."),
    ckpt_every: int = typer.Option(1_000, help="Iterations between last.pt writes."),
    resume: bool = typer.Option(False, "--resume", help="Continue from <out>/last.pt."),
    init: Optional[Path] = typer.Option(None, help="Start from these weights (x2 model for x3/x4; upsampler skipped)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda (mixed precision on CUDA)."),
    amp: bool = typer.Option(True, "--amp/--no-amp", help="float16 autocast + GradScaler on CUDA."),
    seed: int = typer.Option(0, help="Seeds the weights and the batch order."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run folder (default runs/<name>_x<s>)."),
    threads: Optional[int] = typer.Option(None, help="torch threads on CPU (default: torch's choice)."),
    log_format: LogFormat = typer.Option(LogFormat.auto, "--log-format", help=LOG_FORMAT_HELP + " The bar: "
                                         "iterations, loss, last validation PSNR, lr, elapsed, ETA; without it "
                                         "one line per validation."),
) -> None:
    """Train a config with the papers' protocol (L1, Adam, lr 5e-4 halved every 200k, 64*s patches, flips/rot90)."""
    from nas.arch import reference_config
    from nas.training import TrainCallbacks, TrainSettings, train

    if (config is None) == (reference is None):
        raise NasError("pass a CONFIG file or --reference NAME")
    cfg = load_config_file(config) if config is not None else reference_config(reference, scale or 4)
    if scale is not None and scale != cfg.scale:
        cfg = cfg.replace(scale=scale)
    _set_threads(threads)
    out = out_dir or Path("runs") / f"{cfg.name or cfg.arch_id}_x{cfg.scale}"
    settings = TrainSettings(iters=iters, batch=batch, patch=patch, lr=lr, lr_step=lr_step, val_every=val_every,
                             ckpt_every=ckpt_every, seed=seed, device=device, amp=amp)
    console, bar = console_for(log_format, err)
    log = lambda m: console.print(m, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
    progress = TrainProgress(console, enabled=bar, log=log)
    cbs = TrainCallbacks(start=progress.start, step=progress.step, validated=progress.validated, log=log)
    try:
        res = train(cfg, data, out, settings, val_data=val_data, resume=resume, init=init, callbacks=cbs)
    except KeyboardInterrupt:
        progress.stop()
        raise typer.Exit(130) from None
    finally:
        progress.stop()
    _log(f"done: iteration {res.iteration:,} ({res.iteration - res.started_at:,} this run, {res.train_s / 60:.1f} min); "
         f"best validation PSNR {res.best_psnr_db:.3f} dB; checkpoints in {res.out_dir}/ (best.pt, last.pt)")
