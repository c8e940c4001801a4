import shutil

import pandas as pd
import pytest

from valuechain import config


@pytest.fixture
def data_copy(tmp_path):
    """A writable copy of the bundled dataset; returns its folder."""
    target = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, target)
    return target


def edit_csv(folder, name, edit):
    """Apply ``edit(frame) -> frame`` to one CSV of a dataset copy (all columns as text)."""
    path = folder / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)
