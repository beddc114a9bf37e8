"""``nas export --ntire``: a model file and weights in the form the NTIRE efficient-SR challenge's
``test_demo.py`` loads (Amazingren/NTIRE2024_ESR ... NTIRE2026_ESR README, "How to add your model"):

* ``models/team{ID}_{Name}.py``: **one file**, plain PyTorch, no ``nas`` import. The deploy form
  (ECBs / Conv3XC merged, weight norm folded) is traced with ``torch.fx``; every leaf module is
  re-created from its constructor (``nn.Conv2d(...)``, ``nn.PReLU(...)``, ...) at its original
  path, and ``forward`` is the traced graph's code;
* ``model_zoo/team{ID}_{Name}.pth``: its ``state_dict`` (``torch.save``), which that class loads
  with ``strict=True``.

The challenge loader then does ``model = Name(); model.load_state_dict(torch.load(path),
strict=True)`` with ``data_range = 1.0``: input and output are RGB in [0, 1] (a network trained
on [0, 255] is exported with its range adapter inside). :func:`export_ntire` imports the written
file in isolation and checks that it reproduces the network within 1e-5 on two input sizes.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import fx, nn

from nas.errors import NasError
from nas.models.deploy import deploy_model, unwrap

__all__ = ["NtireExport", "ntire_source", "export_ntire", "NTIRE_TOL"]

#: Max |exported file - network| accepted.
NTIRE_TOL = 1e-5
#: Small buffers written into the file as literals (the DIV2K mean), instead of the weights.
_LITERAL_MAX = 64


@dataclass(frozen=True)
class NtireExport:
    """What :func:`export_ntire` wrote.

    Attributes:
        model_path / weights_path: ``team{ID}_{Name}.py`` and ``.pth``.
        class_name: the ``nn.Module`` class in the file.
        params: parameters of the exported (deploy-form) network.
        max_diff: max |file - deploy form| over the two check inputs.
    """

    model_path: Path
    weights_path: Path
    class_name: str
    params: int
    max_diff: float


def _traceable(model: nn.Module) -> nn.Module:
    m = copy.deepcopy(model).eval()
    for sub in m.modules():
        if hasattr(sub, "check_inputs"):
            sub.check_inputs = False
    return m


def _tensor_literal(t: torch.Tensor) -> str:
    return f"torch.tensor({t.detach().cpu().tolist()!r}, dtype=torch.{str(t.dtype).split('.')[-1]})"


def ntire_source(model: nn.Module, class_name: str, header: str = "") -> tuple[str, dict[str, torch.Tensor]]:
    """The single-file PyTorch source of ``model`` (deploy form first: :func:`deploy_model`) and
    the state dict its class loads strictly.

    Args:
        model: an ``SRNet`` or a ``PixelRange`` around one, (N, C, H, W) in [0, 1] -> (N, C, sH, sW).
        class_name: a Python identifier.
        header: text for the module docstring (architecture, source, data range).

    Raises:
        NasError: ``class_name`` is not an identifier, or the network cannot be traced.
    """
    if not class_name.isidentifier():
        raise NasError(f"--ntire: model name {class_name!r} is not a Python identifier")
    deployed = _traceable(deploy_model(model))
    try:
        gm = fx.symbolic_trace(deployed)
    except Exception as err:  # noqa: BLE001
        raise NasError(f"--ntire: cannot trace the network with torch.fx ({type(err).__name__}: {err})") from None
    code = gm.graph.python_code(root_module="self")
    lines = ["import torch", "from torch import device, inf, nan, nn  # noqa: F401 (names the traced code may use)",
             "", "_torch_Tensor_ = torch.Tensor", "NoneType = type(None)", ""]
    if "pytree" in code.src:
        lines[1:1] = ["import torch.fx._pytree as fx_pytree  # noqa: F401", "import torch.utils._pytree as pytree  # noqa: F401"]
    body = ["        super().__init__()"]
    weights: dict[str, torch.Tensor] = {}
    done: set[str] = set()
    for node in gm.graph.nodes:
        target = str(node.target)
        if target in done:
            continue
        if node.op == "call_module":
            leaf = gm.get_submodule(target)
            body.append(f"        _put(self, {target!r}, nn.{leaf!r})")
            for k, v in leaf.state_dict().items():
                weights[f"{target}.{k}"] = v.detach().clone()
            done.add(target)
        elif node.op == "get_attr":
            parent, _, attr = target.rpartition(".")
            owner = gm.get_submodule(parent) if parent else gm
            value = getattr(owner, attr)
            if isinstance(value, nn.Parameter):
                body.append(f"        _param(self, {target!r}, {tuple(value.shape)!r})")
                weights[target] = value.detach().clone()
            elif isinstance(value, torch.Tensor) and value.numel() <= _LITERAL_MAX:
                body.append(f"        _buffer(self, {target!r}, {_tensor_literal(value)})")
            elif isinstance(value, torch.Tensor):
                body.append(f"        _param(self, {target!r}, {tuple(value.shape)!r}, trainable=False)")
                weights[target] = value.detach().clone()
            else:
                raise NasError(f"--ntire: the traced graph reads {target!r}, which is not a tensor")
            done.add(target)
    forward = re.sub(r"^def forward", "    def forward", code.src.strip(), flags=re.M)
    forward = "\n".join(("    " + ln if ln and not ln.startswith("    def forward") else ln)
                        for ln in forward.splitlines())
    doc = '"""' + (header.strip() or class_name) + '\n"""\n\n'
    helpers = '''

def _holder(root, path):
    """The module at the dotted ``path`` below ``root``, created (empty) where missing."""
    node = root
    for part in path.split(".") if path else []:
        if part not in node._modules:
            node.add_module(part, nn.Module())
        node = node._modules[part]
    return node


def _put(root, path, module):
    parent, _, name = path.rpartition(".")
    _holder(root, parent).add_module(name, module)


def _param(root, path, shape, trainable=True):
    parent, _, name = path.rpartition(".")
    _holder(root, parent).register_parameter(name, nn.Parameter(torch.zeros(shape), requires_grad=trainable))


def _buffer(root, path, value):
    parent, _, name = path.rpartition(".")
    _holder(root, parent).register_buffer(name, value, persistent=False)

'''
    cls = f"\nclass {class_name}(nn.Module):\n    def __init__(self):\n" + "\n".join(body) + "\n\n" + forward + "\n"
    return doc + "\n".join(lines) + helpers + cls, weights


def _load_module(path: Path, class_name: str) -> nn.Module:
    spec = importlib.util.spec_from_file_location(f"_nas_ntire_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return getattr(mod, class_name)()


def export_ntire(model: nn.Module, config, out_dir: str | Path, team: int, name: str) -> NtireExport:
    """Write ``out_dir/models/team{team:02d}_{name}.py`` and ``out_dir/model_zoo/team{team:02d}_{name}.pth``
    and check them: the file is imported on its own, loads the weights with ``strict=True``
    and must reproduce ``model``'s deploy form within :data:`NTIRE_TOL` on two LR sizes.

    Args:
        model: the trained network (``SRNet`` or ``PixelRange`` around one), [0, 1] in and out.
        config: its ``ArchConfig`` (scale, colours, summary for the header).
        out_dir: the challenge repository's root, or any folder.
        team: the team id (0-99).
        name: the model name, a Python identifier (also the class name).

    Raises:
        NasError: a bad team id or name, an untraceable network, a Y-only network (the challenge
            is RGB), a folder that cannot be written, or a file that does not reproduce the network.
    """
    if not 0 <= int(team) <= 99:
        raise NasError(f"--ntire: team id {team} is not in 0..99 (the challenge zero-pads two digits)")
    if config.colors != 3:
        raise NasError("--ntire: the NTIRE ESR challenge is RGB; this network is Y-only (colors 1)")
    _, pixel_range = unwrap(model)
    header = (f"{name}: exported by `nas export --ntire` from the ArchConfig\n"
              f"{config.summary()} (arch_id {config.arch_id}).\n\n"
              f"Load as the NTIRE ESR test_demo.py does: model = {name}(); model.load_state_dict(torch.load(path), "
              "strict=True);\ndata_range = 1.0: RGB in [0, 1] in and out"
              + (f" (trained on [0, {pixel_range:g}]; the range adapter is part of the graph)" if pixel_range != 1.0 else "")
              + f". Scale x{config.scale}. Plain PyTorch: this file imports nothing else.")
    source, weights = ntire_source(model, name, header)
    stem = f"team{int(team):02d}_{name}"
    out = Path(out_dir)
    model_path, weights_path = out / "models" / f"{stem}.py", out / "model_zoo" / f"{stem}.pth"
    try:
        model_path.parent.mkdir(parents=True, exist_ok=True)
        weights_path.parent.mkdir(parents=True, exist_ok=True)
        model_path.write_text(source)
        torch.save(weights, weights_path)
    except OSError as err:
        raise NasError(f"{out}: cannot write the NTIRE files ({err.strerror or err})") from None
    exported = _load_module(model_path, name)
    exported.load_state_dict(torch.load(weights_path, weights_only=True), strict=True)
    exported.eval()
    reference = deploy_model(model).eval()  # deploy vs trained is checked by export_model (REPARAM_TOL)
    diff = 0.0
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for hw in ((24, 20), (33, 41)):
            x = torch.rand(1, 3, *hw, generator=gen)
            diff = max(diff, (exported(x) - reference(x)).abs().max().item())
    if not diff <= NTIRE_TOL:
        raise NasError(f"{model_path}: the exported file differs from the network by {diff:.2e} (> {NTIRE_TOL:g})")
    params = sum(p.numel() for p in exported.parameters())
    return NtireExport(model_path, weights_path, name, params, diff)
