"""``import tinygrad_bp`` reaches every submodule, loading the optional ones only on use."""

import subprocess
import sys

import pytest

CONTRACT_SUBMODULES = (
    *("nn", "losses", "optim", "train", "viz", "data", "delta", "perceptron"),
    *("testing", "interop"),
)


@pytest.mark.parametrize("name", CONTRACT_SUBMODULES)
def test_every_submodule_is_an_attribute_of_the_package(name):
    import tinygrad_bp as tbp

    module = getattr(tbp, name)
    assert module.__name__ == f"tinygrad_bp.{name}"
    assert name in dir(tbp)


def test_nn_is_reachable_as_torch_nn_is():
    import tinygrad_bp as tbp

    assert len(tbp.nn.MLP(2, [2, 1]).parameters()) == 9


def test_importing_the_package_loads_no_optional_extra():
    probe = (
        "import sys, tinygrad_bp\n"
        "heavy = [m for m in ('matplotlib', 'torch', 'onnx', 'hypothesis', 'graphviz')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_an_unknown_attribute_is_an_attribute_error():
    import tinygrad_bp as tbp

    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        tbp.nonsense  # noqa: B018
