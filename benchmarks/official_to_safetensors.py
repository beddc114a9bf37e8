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
  state dict the authors' test code loads;
* a network with a batch norm right after a conv (NTIRE 2024 team 13's RLFN_B: ``bn1`` after
  ``c1_r``): ``--fold-bn 'BN=>CONV'`` folds each matching BN (eval statistics) into its conv with
  ``torch.nn.utils.fusion.fuse_conv_bn_weights`` before the keys are renamed.

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


def fold_batch_norms(state: dict, rules: list[tuple[str, str]], source: str = "checkpoint") -> dict:
    r"""Fold each batch norm whose prefix matches a rule's regex into the conv the rule names.

    ``rules``: ``(BN_REGEX, CONV_REPLACEMENT)``, e.g. ``(r"(block_\d+)\.bn1", r"\1.c1_r")``; the
    BN prefix is the key less ``.running_mean``. The conv must feed the BN directly (no activation
    between). Uses ``torch.nn.utils.fusion.fuse_conv_bn_weights`` (eval-mode statistics).

    Raises:
        CheckpointError: a rule matches no BN, or its conv is not in the checkpoint (names ``source``).
    """
    from torch.nn.utils.fusion import fuse_conv_bn_weights

    from nas.errors import CheckpointError

    state = dict(state)
    for pattern, target in rules:
        rx = re.compile(pattern)
        bns = [k[: -len(".running_mean")] for k in list(state) if k.endswith(".running_mean")
               and rx.fullmatch(k[: -len(".running_mean")])]
        if not bns:
            raise CheckpointError(f"{source}: --fold-bn {pattern!r} matches no batch norm")
        for bn in bns:
            conv_name = rx.sub(target, bn)
            if f"{conv_name}.weight" not in state:
                raise CheckpointError(f"{source}: --fold-bn: no conv {conv_name!r} for {bn!r}")
            w, b = state[f"{conv_name}.weight"], state.get(f"{conv_name}.bias")
            eps = 1e-5  # nn.BatchNorm2d's default; the checkpoint does not store it
            fw, fb = fuse_conv_bn_weights(w, b, state[f"{bn}.running_mean"], state[f"{bn}.running_var"], eps,
                                          state[f"{bn}.weight"], state[f"{bn}.bias"])
            state[f"{conv_name}.weight"], state[f"{conv_name}.bias"] = fw.detach(), fb.detach()
            for suffix in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                state.pop(f"{bn}.{suffix}", None)
    return state


def convert(reference: str | None, scale: int, weights: Path, out: Path, deploy: bool = False,
            config: ArchConfig | None = None, rename: list[tuple[str, str]] = (),
            pixel_range: float | None = None, entry: str | None = None,
            fold_bn: list[tuple[str, str]] = ()) -> Path:
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
    if fold_bn:
        state = fold_batch_norms(state, list(fold_bn), source=str(weights))
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
    ap.add_argument("--fold-bn", action="append", default=[],
                    help="BN_REGEX=>CONV: fold the batch norms matching BN_REGEX into CONV (before --rename)")
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
    fold_bn = [tuple(r.split("=>", 1)) for r in args.fold_bn]
    print(convert(args.reference, args.scale, args.weights, args.out, deploy=args.deploy, config=cfg, rename=rename,
                  pixel_range=args.pixel_range, entry=args.entry, fold_bn=fold_bn))


if __name__ == "__main__":
    main()
