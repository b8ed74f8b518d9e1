"""The live page's error-surface panel: computed in Python, kept by the recorded page."""

import numpy as np
import pytest

from tinygrad_bp.landscape import dataset_loss
from tinygrad_bp.watch import record, session


def test_the_frame_holds_the_slice_around_the_current_weights_and_the_path_so_far():
    run = session.Session(session.make_config(dataset="xor", seed=3))
    start = run.frame()["landscape"]
    assert start["kind"] == "filter"  # one point is no plane yet
    assert len(start["loss"]) == session.LANDSCAPE_GRID**2
    assert np.allclose(start["path"], 0.0)
    for _ in range(12):
        run.step_epoch()
    surface = run.frame()["landscape"]
    assert surface["kind"] == "pca" and surface["labels"][0].startswith("PC1")
    assert len(surface["path"]) == len(run.curve) + 2  # epoch 0, each epoch kept, now
    assert np.allclose(surface["path"][-1], 0.0, atol=1e-12)  # the path ends at the centre
    J = dataset_loss(run.X, run.y)(run.model).data
    assert surface["center"] == pytest.approx(J, abs=1e-12)
    middle = session.LANDSCAPE_GRID // 2
    grid = np.array(surface["loss"]).reshape(session.LANDSCAPE_GRID, -1)
    assert grid[middle, middle] == pytest.approx(J, abs=1e-6)  # rounded to 6 places


def test_the_recorded_page_keeps_the_panel(tmp_path):
    out = tmp_path / "run.html"
    record.record(session.make_config(dataset="xor"), 20, out)
    page = out.read_text(encoding="utf-8")
    assert 'id="landscape"' in page and "drawLandscape" in page
    assert page.count('"landscape"') >= 20  # in every frame
