"""Search spaces: the default file is valid, holds the references, and round-trips configs."""

import optuna
import pytest
import yaml

from nas.arch import SEARCH_REFERENCES, reference_config
from nas.errors import SearchSpaceError
from nas.space import DEFAULT_SPACE, load_space

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(scope="module")
def space():
    return load_space()


@pytest.mark.parametrize("name", SEARCH_REFERENCES)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_references_are_points_of_the_default_space(space, name, scale):
    cfg = reference_config(name, scale)
    params = space.to_params(cfg)
    rebuilt = space.suggest(optuna.trial.FixedTrial(params), scale)
    assert rebuilt.canonical() == cfg.canonical()


def test_sampled_configs_roundtrip_through_params(space):
    study = optuna.create_study(directions=["maximize"], sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(30):
        trial = study.ask()
        cfg = space.suggest(trial, 4)
        assert space.to_params(cfg) == trial.params
        study.tell(trial, 0.0)


def test_enqueued_reference_is_sampled_exactly(space):
    study = optuna.create_study(directions=["maximize"])
    cfg = reference_config("erfdn", 4)
    study.enqueue_trial(space.to_params(cfg))
    trial = study.ask()
    assert space.suggest(trial, 4).arch_id == cfg.arch_id


def test_space_code_needs_no_torch():
    import subprocess
    import sys

    code = ("import sys, optuna; from nas.space import load_space; from nas.arch import reference_config; "
            "s = load_space(); s.to_params(reference_config('imdn', 4)); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def _write(tmp_path, text):
    p = tmp_path / "space.yaml"
    p.write_text(text)
    return p


def _default_doc():
    return yaml.safe_load(DEFAULT_SPACE.read_text())


def test_file_that_is_not_utf8_is_one_clear_error(tmp_path):
    p = tmp_path / "space.yaml"
    p.write_bytes(b"name: x\n\xff\xfe\n")
    with pytest.raises(SearchSpaceError, match=r"space\.yaml: cannot read search-space file \(not UTF-8"):
        load_space(p)


def test_broken_yaml_names_file_and_line(tmp_path):
    p = _write(tmp_path, "name: x\nnetwork:\n  nf: {type: int, low: 16\nblocks: {}\n")
    with pytest.raises(SearchSpaceError, match=r"space\.yaml: line \d+, column \d+: invalid YAML"):
        load_space(p)


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda d: d["blocks"]["type"].__setitem__("choices", ["rfdb", "transformer"]), "blocks.type.choices"),
        (lambda d: d["blocks"]["options"]["rfdb"].__setitem__("attention", {"type": "categorical", "choices": ["esa", "se"]}),
         "blocks.options.rfdb.attention.choices"),
        (lambda d: d["blocks"]["options"]["rfdb"].__setitem__("bogus", 1), "blocks.options.rfdb.bogus"),
        (lambda d: d["network"].__setitem__("nf", {"type": "int", "low": 0, "high": 8}), "network.nf"),
        (lambda d: d["network"].__setitem__("num_blocks", {"type": "int", "low": -1, "high": 4}), "network.num_blocks"),
        (lambda d: d["network"].__setitem__("depth", 3), "network.depth"),
        (lambda d: d["network"].__setitem__("nf", {"type": "integer", "low": 8, "high": 16}), "network.nf.type"),
        (lambda d: d.pop("blocks"), "blocks"),
        # caught up front, not by every trial failing later
        (lambda d: d["network"].__setitem__("nf", {"type": "float", "low": 16, "high": 64}), "network.nf.type"),
        (lambda d: d["network"].__setitem__("nf", {"type": "int", "low": 16.7, "high": 64}), "network.nf.low"),
        (lambda d: d["network"].__setitem__("nf", {"type": "int", "low": 16, "high": 64, "log": "no"}), "network.nf.log"),
        (lambda d: d["blocks"]["options"]["rfdb"]["cca_reduction"].__setitem__("when", {"attention": "se"}),
         "blocks.options.rfdb.cca_reduction.when.attention"),
    ],
)
def test_invalid_space_names_file_and_key(tmp_path, mutate, key):
    doc = _default_doc()
    mutate(doc)
    p = _write(tmp_path, yaml.safe_dump(doc))
    with pytest.raises(SearchSpaceError) as exc:
        load_space(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: {key}:"), msg
    assert "\n" not in msg


def test_reference_outside_space_is_refused(tmp_path):
    doc = _default_doc()
    doc["network"]["nf"] = {"type": "int", "low": 16, "high": 48, "step": 2}
    space = load_space(_write(tmp_path, yaml.safe_dump(doc)))
    with pytest.raises(SearchSpaceError, match="imdn is not a point of search space.*nf=64"):
        space.to_params(reference_config("imdn", 4))


def test_shared_block_space(tmp_path):
    doc = _default_doc()
    doc["blocks"]["per_position"] = False
    space = load_space(_write(tmp_path, yaml.safe_dump(doc)))
    params = space.to_params(reference_config("imdn", 4))
    assert "b.type" in params and not any(k.startswith("b1.") for k in params)
    with pytest.raises(SearchSpaceError):
        mixed = reference_config("imdn", 4)
        mixed = mixed.replace(blocks=[b.model_dump() for b in mixed.blocks[:5]]
                              + [reference_config("erfdn", 4).blocks[0].model_dump()])
        space.to_params(mixed)


def test_when_condition(space):
    params = space.to_params(reference_config("erfdn", 4))
    assert not any(k.endswith("cca_reduction") for k in params)  # ESA: reduction not sampled
    params = space.to_params(reference_config("rfdn", 4))
    assert params["b0.rfdb.cca_reduction"] == 4


SHIPPED_SPACES = sorted((DEFAULT_SPACE.parent).glob("*.yaml"))


def _zoo():
    from nas.arch import REFERENCES

    return [(name, s) for name, ref in REFERENCES.items() for s in ref.scales]


@pytest.mark.parametrize("name, scale", _zoo())
def test_every_zoo_reference_is_a_point_of_a_shipped_space(name, scale):
    """`nas search --references` takes the whole zoo: each network is exactly a point of one of
    search_spaces/*.yaml (the RGB seed networks of the default space, RLFN / SPAN / BSRN of ntire_esr)."""
    cfg = reference_config(name, scale)
    homes = []
    for path in SHIPPED_SPACES:
        sp = load_space(path)
        if sp.contains(cfg):
            rebuilt = sp.suggest(optuna.trial.FixedTrial(sp.to_params(cfg)), scale)
            assert rebuilt.canonical() == cfg.canonical()
            homes.append(sp.name)
    assert homes, f"{name} x{scale} is a point of no shipped space"
    from nas.arch import REFERENCES

    if cfg.colors == 3 and REFERENCES[name].family in ("imdn", "rfdn", "awsrn", "ecbsr"):
        assert "lightweight_sr" in homes  # the 2019-2021 seed networks: the default space
    if REFERENCES[name].family in ("rlfn", "span", "bsrn"):
        assert "ntire_esr" in homes


def test_network_when_keeps_the_default_when_inactive(space):
    imdn = space.to_params(reference_config("imdn", 4))
    assert imdn["fusion"] == "concat" and "upsampler" not in imdn and "weight_norm" not in imdn
    awsrn = space.to_params(reference_config("awsrn_m", 4))
    assert awsrn["fusion"] == "last" and awsrn["upsampler"] == "awms" and awsrn["input_skip"] == "conv"
    cfg = space.suggest(optuna.trial.FixedTrial({**imdn}), 4)
    assert cfg.upsampler == "pixelshuffle" and cfg.global_residual and not cfg.weight_norm


@pytest.mark.parametrize("when, problem", [
    ({"bogus": 1}, "'bogus' is not another network field"),
    ({"colors": 3}, "'colors' is not another network field"),
    ({"fusion": "sideways"}, "'sideways' is never a value of fusion"),
])
def test_network_when_names_a_known_field_and_value(tmp_path, when, problem):
    doc = _default_doc()
    doc["network"]["colors"] = {"type": "categorical", "choices": [3], "when": when}
    with pytest.raises(SearchSpaceError, match=f"network.colors.when.*{problem}"):
        load_space(_write(tmp_path, yaml.safe_dump(doc)))


def test_network_when_cycle_is_refused(tmp_path):
    doc = _default_doc()
    doc["network"]["fusion"] = {"type": "categorical", "choices": ["concat", "last"], "when": {"upsampler": "awms"}}
    with pytest.raises(SearchSpaceError, match="cycle"):
        load_space(_write(tmp_path, yaml.safe_dump(doc)))


def test_key_order_of_the_file_does_not_matter(tmp_path):
    sorted_space = load_space(_write(tmp_path, yaml.safe_dump(_default_doc(), sort_keys=True)))
    assert sorted_space.to_params(reference_config("awsrn_sd", 4)) == load_space().to_params(
        reference_config("awsrn_sd", 4))
