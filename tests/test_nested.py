"""The one walk over nested parameters: paths, leaves, mappings kept whole."""
from valuechain import nested


def test_every_leaf_has_its_path_in_order_and_an_empty_mapping_is_a_leaf():
    data = {"a": {"b": 1, "c": [1, 2]}, "d": None, "e": {}, "f": {"2025": 0.5, "2026": 0.4}}
    assert nested.leaves(data) == {("a", "b"): 1, ("a", "c"): [1, 2], ("d",): None, ("e",): {},
                                   ("f", "2025"): 0.5, ("f", "2026"): 0.4}
    assert list(nested.dotted(data)) == ["a.b", "a.c", "d", "e", "f.2025", "f.2026"]


def test_a_mapping_the_caller_keeps_whole_is_one_leaf():
    years = {"2025": 0.5, "2026": 0.4}
    kept = nested.leaves({"f": years, "g": {"h": 1}}, whole=lambda m: all(k.isdigit() for k in m))
    assert kept == {("f",): years, ("g", "h"): 1}


def test_keys_are_text_and_a_bare_value_is_the_leaf_of_the_empty_path():
    assert nested.dotted({1: {2: "x"}}) == {"1.2": "x"}
    assert nested.leaves(3) == {(): 3} and nested.leaves({}) == {}
