"""ArchConfig: validation errors name the field; YAML/JSON round-trips; arch_id is canonical."""

import json

import pytest
import yaml

from nas.arch import REFERENCES, ArchConfig, RFDBConfig, load_arch_config, reference_config
from nas.errors import ArchConfigError


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_roundtrips_yaml_and_json(tmp_path, name):
    ref = REFERENCES[name]
    for scale in ref.scales:
        cfg = reference_config(name, scale)
        for suffix in (".yaml", ".json"):
            path = cfg.save(tmp_path / f"{name}_x{scale}{suffix}")
            back = load_arch_config(path)
            assert back == cfg
            assert back.arch_id == cfg.arch_id


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"nf": 0}, "nf"),
        ({"scale": 5}, "scale"),
        ({"blocks": []}, "blocks"),
        ({"blocks": [{"type": "rfdb", "attention": "se"}]}, "blocks.0.attention"),
        ({"blocks": [{"type": "rfdb", "attention": "pfa", "residual": True}]}, "blocks.0.residual"),
        ({"blocks": [{"type": "imdb", "attention": "pfa"}]}, "blocks.0.attention"),
        ({"blocks": [{"type": "convnext"}]}, "blocks.0"),
        ({"blocks": [{"type": "rfdb", "stages": -1}]}, "blocks.0.stages"),
        ({"upsampler": "transposed"}, "upsampler"),
        ({"colour": 3}, "colour"),
    ],
)
def test_invalid_field_is_named(patch, field):
    data = {"scale": 4, "nf": 32, "blocks": [{"type": "rfdb"}], **patch}
    with pytest.raises(ArchConfigError) as exc:
        ArchConfig.from_dict(data, source="my.yaml")
    msg = str(exc.value)
    assert msg.startswith(f"my.yaml: {field}:"), msg
    assert "\n" not in msg


def test_unknown_block_type_lists_known_types():
    with pytest.raises(ArchConfigError, match="unknown block type 'convnext'.*rfdb, imdb, lfb, ecb"):
        ArchConfig.from_dict({"scale": 4, "nf": 32, "blocks": [{"type": "convnext"}]})


def test_broken_yaml_file_names_file_and_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("scale: 4\nnf: [32\nblocks: []\n")
    with pytest.raises(ArchConfigError, match=r"bad\.yaml: line \d+"):
        load_arch_config(p)
    with pytest.raises(ArchConfigError, match="missing.yaml: cannot read"):
        load_arch_config(tmp_path / "missing.yaml")


def test_arch_id_ignores_name_and_unused_options():
    a = ArchConfig(scale=4, nf=32, blocks=[RFDBConfig(attention="esa", cca_reduction=4)], name="a")
    b = ArchConfig(scale=4, nf=32, blocks=[RFDBConfig(attention="esa", cca_reduction=16)], name="b")
    c = ArchConfig(scale=4, nf=32, blocks=[RFDBConfig(attention="cca", cca_reduction=4)])
    assert a.arch_id == b.arch_id
    assert a.arch_id != c.arch_id
    assert a.replace(scale=2).arch_id != a.arch_id


#: arch_ids stored in studies and results before fields were added to ArchConfig (session 22:
#: ``fusion_channels``, rfdb ``refine`` / ``dilations``, resblock ``attention``); they must never move.
_PINNED_IDS = {("imdn", 4): "f920050a38ea", ("rfdn", 2): "043314473b56", ("erfdn", 4): "40272293d776",
               ("rlfn_ntire", 4): "0316334cf80d", ("span_ntire", 4): "8fff51b0c764", ("bsrn", 3): "01299ba8f9cd",
               ("awsrn", 8): "e1e8bab983a8", ("ecbsr_m4c16", 2): "7abfec28dc61", ("efdn", 4): "7c04ed74befd"}


def test_fields_added_later_leave_stored_ids_and_exports_alone():
    for (name, scale), arch_id in _PINNED_IDS.items():
        cfg = reference_config(name, scale)
        assert cfg.arch_id == arch_id, name
        assert "fusion_channels" not in cfg.to_dict()
        assert all(k not in b for b in cfg.to_dict()["blocks"] for k in ("refine", "dilations"))
    from nas.arch.ground_truth import GROUND_TRUTH

    edsr = GROUND_TRUTH["edsr_baseline"].build(4)
    assert all("attention" not in b for b in edsr.to_dict()["blocks"])
    erfdn = reference_config("erfdn", 4)
    dilated = erfdn.replace(blocks=[b.model_copy(update={"dilations": (1, 2, 5)}) for b in erfdn.blocks])
    assert dilated.arch_id != erfdn.arch_id and dilated.to_dict()["blocks"][0]["dilations"] == [1, 2, 5]
    assert ArchConfig.from_dict(dilated.to_dict()) == dilated


def test_fusion_channels_narrows_the_span_tail_only():
    span = reference_config("span_ntire", 4)
    narrow = span.replace(fusion_channels=20)
    assert narrow.arch_id != span.arch_id and narrow.to_dict()["fusion_channels"] == 20
    assert ArchConfig.from_dict(narrow.to_dict()) == narrow
    with pytest.raises(ArchConfigError, match="fusion_channels: only the span fusion"):
        reference_config("erfdn", 4).replace(fusion_channels=20)
    with pytest.raises(ArchConfigError, match="blocks.0.dilations: 2 dilations for 3 stages"):
        ArchConfig.from_dict({"scale": 4, "nf": 16, "blocks": [{"type": "rfdb", "dilations": [1, 2]}]})


def test_paper_rfdn_and_released_erfdn_are_different_networks():
    rfdn, erfdn = reference_config("rfdn", 4), reference_config("erfdn", 4)
    assert (rfdn.nf, len(rfdn.blocks), rfdn.blocks[0].attention, rfdn.blocks[0].residual) == (48, 6, "cca", True)
    assert (erfdn.nf, len(erfdn.blocks), erfdn.blocks[0].attention, erfdn.blocks[0].residual) == (50, 4, "esa", False)


def test_unknown_reference_lists_known():
    with pytest.raises(ArchConfigError, match="unknown reference 'srcnn'.*imdn"):
        reference_config("srcnn", 4)


def test_to_dict_is_plain_json():
    d = reference_config("imdn", 3).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert yaml.safe_load(reference_config("imdn", 3).to_yaml()) == d


def test_a_config_that_cannot_build_is_refused_naming_the_file(tmp_path, monkeypatch, capsys):
    # valid field by field, but CCA reduction 16 on the 6 channels it sees at nf 12 leaves none
    from tests.evaluation.helpers import run_cli

    path = tmp_path / "winner.yaml"
    path.write_text("name: trial1\nscale: 4\nnf: 12\nfusion: conv1x1\nblocks:\n"
                    "  - {type: imdb, stages: 1, distill_ratio: 0.25, attention: cca, cca_reduction: 16}\n")
    code, _, err = run_cli(monkeypatch, capsys, "info", path, "--no-latency")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.strip().startswith(f"error: {path}: blocks.0.cca_reduction:"), err
