"""The landscape and xor-lab subcommands: they run, draw, and refuse bad sizes up front."""

import pytest

from tinygrad_bp.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_landscape_trains_slices_and_draws(tmp_path, capsys):
    status = main(
        [
            "landscape",
            "xor",
            "--hidden",
            "2",
            "--steps",
            "300",
            "--grid",
            "11",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "2-2-1 network" in out and "pca directions, 11x11 grid" in out
    assert "explained variance of the path" in out
    for name in ("landscape_xor.png", "landscape_xor_3d.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC


def test_landscape_on_another_data_set_with_filter_directions(capsys):
    status = main(
        [
            "landscape",
            "moons",
            "--n",
            "20",
            "--hidden",
            "3",
            "--steps",
            "50",
            "--grid",
            "5",
            "--directions",
            "filter",
        ]
    )
    assert status == 0
    assert "filter directions, 5x5 grid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["landscape", "xor", "--grid", "4"], "odd"),
        (["landscape", "xor", "--grid", "1001"], "odd"),
        (
            ["landscape", "spirals", "--n", "100000", "--hidden", "64,64", "--steps", "1000000"],
            "too much work",
        ),
        (["landscape", "nowhere"], "invalid choice"),
        (["xor-lab", "--seeds", "100000", "--steps", "100000"], "over the limit"),
        (["xor-lab", "--hidden", "0"], "at least one width"),
        (["xor-lab", "--lr", "-1"], "--lr"),
    ],
)
def test_bad_sizes_get_one_line_and_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_xor_lab_prints_its_recipe_and_table(tmp_path, capsys):
    status = main(
        ["xor-lab", "--hidden", "2,3", "--seeds", "10", "--steps", "500", "--out", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert status == 0
    for fact in ("U(-1, 1)", "alpha = 0.5", "500 steps", "J < 0.01", "2-2-1", "2-3-1"):
        assert fact in out
    assert (tmp_path / "xor_lab.png").read_bytes()[:8] == PNG_MAGIC
