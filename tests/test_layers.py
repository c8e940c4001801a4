"""The layer list is spelled once; every other list of layers derives from it."""
import typing

from valuechain.report import charts
from valuechain.dataset import load as dataset
from valuechain import layers
from valuechain.scenario import schema as params
from valuechain.scenario.load import load_scenario


def test_every_list_of_layers_is_the_one_definition():
    assert layers.LAYERS == ("chips", "servers", "cloud", "labs", "apps")
    assert dataset.LAYERS is layers.LAYERS
    assert typing.get_args(params.LayerName) == layers.LAYERS
    assert params.CHAIN_ORDER == layers.CHAIN_ORDER == ("apps", "labs", "cloud", "servers", "chips")
    assert tuple(charts.LAYER_COLOURS) == layers.LAYERS and len(set(charts.LAYER_COLOURS.values())) == len(layers.LAYERS)
    assert charts.UPSTREAM_FIRST == layers.LAYERS


def test_the_scenario_schema_and_the_dataset_rule_accept_exactly_those_layers():
    base = load_scenario("base")
    assert set(base.layers) == set(base.projection.final_margins) == set(layers.LAYERS)
    check = next(c for c in dataset._schema_companies().columns["layer"].checks if c.name == "known_layer")
    assert check.error == "layer must be one of chips, servers, cloud, labs, apps"
