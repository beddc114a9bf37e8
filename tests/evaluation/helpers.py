"""Small fixtures shared by the evaluation tests: synthetic benchmark folders and a CLI runner."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from nas.data import bicubic_downscale, write_image


def smooth_image(h: int, w: int, seed: int) -> np.ndarray:
    """A deterministic natural-ish uint8 (h, w, 3) image: sums of random low-frequency waves + texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(4):
            fy, fx, ph = rng.uniform(0.02, 0.3), rng.uniform(0.02, 0.3), rng.uniform(0, 6.3)
            img[..., c] += np.sin(fy * yy + fx * xx + ph)
    img = (img - img.min()) / (img.max() - img.min()) * 200 + 20 + rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_benchmark(root: Path, scale: int, sizes=((50, 43), (37, 61)), shipped_lr: bool = True) -> Path:
    """``root/HR/img{i}.png`` (+ ``root/LR_bicubic/X{s}/img{i}x{s}.png`` made with our bicubic)."""
    for i, (h, w) in enumerate(sizes):
        hr = smooth_image(h, w, seed=i)
        write_image(root / "HR" / f"img{i}.png", hr)
        if shipped_lr:
            crop = hr[: h - h % scale, : w - w % scale]
            write_image(root / "LR_bicubic" / f"X{scale}" / f"img{i}x{scale}.png", bicubic_downscale(crop, scale))
    return root


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``nas ARGS`` in-process through the console entry point; ``(exit code, stdout, stderr)``."""
    from nas.cli import main

    monkeypatch.setattr(sys, "argv", ["nas", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
