"""The microgpt benchmark computes the same step on both engines (no timing here)."""

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import microgpt  # noqa: E402
from tinygrad_bp import Value  # noqa: E402


def test_the_model_has_microgpts_size_and_starts_near_a_uniform_guess():
    params = microgpt.make_params(Value, seed=0)
    assert len(microgpt.parameters(params)) == 16 * (2 * microgpt.VOCAB + 16 + 4 * 16 + 2 * 64)
    loss = microgpt.document_loss(Value, params, microgpt.tokens_of("emma"))
    # small initial weights: every next token about equally likely, loss about ln(vocab)
    assert loss.data == pytest.approx(math.log(microgpt.VOCAB), abs=0.05)


def test_both_engines_give_the_same_loss_and_gradients():
    microgpt.check_agreement({"minimal": microgpt.MinimalValue, "ours": Value}, "olivia")


def test_the_agreement_check_catches_a_different_weight():
    engines = {"minimal": microgpt.MinimalValue, "ours": Value}

    class Shifted(Value):
        def __init__(self, data, *args, **kwargs):
            super().__init__(data + 1e-3, *args, **kwargs)

    with pytest.raises(AssertionError):
        microgpt.check_agreement({**engines, "ours": Shifted}, "ava")


def test_a_step_trains_the_name_down():
    params = microgpt.make_params(Value, seed=1)
    tokens = microgpt.tokens_of("liam")
    before = microgpt.document_loss(Value, params, tokens)
    before.backward()
    for w in microgpt.parameters(params):
        w.data -= 0.5 * w.grad
    after = microgpt.document_loss(Value, params, tokens)
    assert after.data < before.data
