"""Turn an authors' checkpoint that ``nas eval --reference`` cannot read directly into a
``nas`` safetensors file, so that ``nas eval FILE.safetensors`` measures it.

Two cases the ground truth (``nas/arch/ground_truth.py``) needs:

* a deploy-form checkpoint (only the merged ``eval_conv`` of SPAN's Conv3XC, e.g.
  Amazingren/NTIRE2024_ESR ``model_zoo/team38_span_ch28_slim.pth``): ``--deploy`` builds the
  re-parameterised network first;
* a checkpoint at a scale the reference does not declare (icandle/EFDN
  ``model_zoo/EFDNx2_baseline.pth`` is EFDN at x2): ``--scale`` with ``--config-from REF``;
* a challenge entry that is a ground-truth network but no reference (``--ground-truth NAME``
  builds its config): keys renamed with a reference's key map (``--reference``), or with
  explicit ``--rename 'REGEX=>REPLACEMENT'`` rules (applied in order, first match wins, before the
  reference's map when both are given), at ``--pixel-range`` (the range the authors' test code
  feeds, 1 or 255);
* a BasicSR training checkpoint (``{"params": ..., "params_ema": ...}``): ``--entry`` names the
  state dict the authors' test code loads.

The keys are renamed with the reference's official key map (``nas.checkpoints.official``) and
loaded strictly (every key, every shape); the pixel range is the reference's unless given. Nothing
is downloaded; the weights are never committed.

    python benchmarks/official_to_safetensors.py --reference span_ntire --scale 4 --deploy \
        --weights team38_span_ch28_slim.pth --out /tmp/span_ntire_x4.safetensors
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from nas.arch import REFERENCES, ArchConfig
from nas.checkpoints import map_official_keys
from nas.checkpoints.io import load_state_dict_strict, read_state_dict, save_safetensors
from nas.models import build_model
from nas.models.deploy import PixelRange, deploy_model


def convert(reference: str | None, scale: int, weights: Path, out: Path, deploy: bool = False,
            config: ArchConfig | None = None, rename: list[tuple[str, str]] = (),
            pixel_range: float | None = None, entry: str | None = None) -> Path:
    """Write ``out`` (safetensors with config and pixel range) from the authors' ``weights``.

    Raises:
        CheckpointError: a key missing or left over, or a shape that differs (strict loading).
    """
    ref = REFERENCES[reference] if reference else None
    cfg = config if config is not None else ref.build(scale)
    model = build_model(cfg)
    if deploy:
        model = deploy_model(model)
    state = read_state_dict(weights, entry=entry)
    if rename:
        rules = [(re.compile(p), r) for p, r in rename]

        def _rename(key: str) -> str:
            for pattern, repl in rules:
                new, n = pattern.subn(repl, key, count=1)
                if n:
                    return new
            return key

        state = {_rename(k): v for k, v in state.items()}
    if ref is not None:
        state = map_official_keys(state, ref.name, cfg, source=str(weights))
    load_state_dict_strict(model, state, source=str(weights))
    rng = pixel_range if pixel_range is not None else (ref.pixel_range if ref else 1.0)
    wrapped = PixelRange(model, rng) if rng != 1.0 else model
    return save_safetensors(out, wrapped, cfg, form="deploy" if deploy else "train",
                            extra_meta={"source": str(weights)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", default=None, help="key map, pixel range and (default) config of this reference")
    ap.add_argument("--ground-truth", default=None, help="build the config of this nas.arch.ground_truth entry")
    ap.add_argument("--rename", action="append", default=[], help="REGEX=>REPLACEMENT on the authors' keys")
    ap.add_argument("--pixel-range", type=float, default=None, help="input range of the authors' code (1 or 255)")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--entry", default=None,
                    help="take this entry of a training checkpoint (params_ema, params: the one the authors' "
                         "test code loads)")
    ap.add_argument("--deploy", action="store_true", help="the checkpoint holds the re-parameterised form")
    ap.add_argument("--config-from", default=None,
                    help="build the config with this reference's builder at --scale even where it does not "
                         "declare the scale (e.g. efdn at x2)")
    args = ap.parse_args()
    cfg = REFERENCES[args.config_from].build(args.scale) if args.config_from else None
    if args.ground_truth:
        from nas.arch.ground_truth import GROUND_TRUTH

        cfg = GROUND_TRUTH[args.ground_truth].build(args.scale)
    if cfg is None and args.reference is None:
        ap.error("give --reference, --config-from or --ground-truth")
    rename = [tuple(r.split("=>", 1)) for r in args.rename]
    print(convert(args.reference, args.scale, args.weights, args.out, deploy=args.deploy, config=cfg, rename=rename,
                  pixel_range=args.pixel_range, entry=args.entry))


if __name__ == "__main__":
    main()
