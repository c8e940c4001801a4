"""The supplier mapping: each application's and lab's clouds, with how each link is known."""
import pytest

from tests.conftest import edit_csv
from valuechain import load_dataset
from valuechain.dataset import disclosures, suppliers
from valuechain.exceptions import DataValidationError


def test_every_pair_names_a_series_a_cloud_and_a_source_unless_assumed():
    ds = load_dataset()
    links = suppliers.load(ds)
    clouds = set(ds.companies.loc[ds.companies["layer"] == "cloud", "company_id"])
    assert set(links["supplier_id"]) <= clouds
    assert set(links["series_id"]) <= set(disclosures.load(ds)["series_id"])
    sourced = links[links["basis"] != "assumption"]
    assert (sourced["source_id"] != "").all() and set(sourced["source_id"]) <= set(ds.sources["source_id"])
    # the labs' own suppliers are sourced; the brief's pairs are there
    assert set(links.loc[links["series_id"] == "openai_revenue", "supplier_id"]) == {"microsoft", "oracle", "coreweave"}
    assert set(links.loc[links["series_id"] == "anthropic_revenue", "supplier_id"]) == {"amazon", "alphabet"}
    assert not links.duplicated(["series_id", "supplier_id"]).any()


@pytest.mark.parametrize("column, value, rule", [
    ("supplier_id", "nvidia", "cloud_supplier"),  # a chip maker supplies no cloud capacity
    ("basis", "reported_unsourced", "known_basis"),
    ("source_id", "nowhere", "known_source"),
])
def test_bad_pairs_get_one_line_naming_file_row_and_fix(data_copy, column, value, rule):
    def edit(frame):
        frame.loc[0, column] = value
        return frame

    edit_csv(data_copy, "suppliers.csv", edit)
    with pytest.raises(DataValidationError) as err:
        suppliers.load(load_dataset(data_copy))
    assert str(err.value).startswith(f"suppliers.csv row 2, column {column}: rule '{rule}' failed")


def test_a_pair_that_is_not_assumed_must_cite_a_source(data_copy):
    edit_csv(data_copy, "suppliers.csv", lambda f: f.assign(source_id=f["source_id"].where(f.index != 0, "")))
    with pytest.raises(DataValidationError, match="sourced_unless_assumed"):
        suppliers.load(load_dataset(data_copy))
