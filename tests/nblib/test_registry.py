"""nblib._registry.Registry, and every registry nblib keeps: one canonical name per entry, the
documented aliases, names in any case, a hint on a typo, clear errors for what is not a name."""

import numpy as np
import pytest

from nblib import activations, layers, losses, mlp, optim, schedules
from nblib._registry import Registry

REGISTRIES = {
    "activations.ACTIVATIONS": activations.ACTIVATIONS,
    "activations.DERIVATIVES": activations.DERIVATIVES,
    "mlp.OUTPUTS": mlp.OUTPUTS,
    "losses.LOSSES": losses.LOSSES,
    "layers.LOSSES": layers.LOSSES,
    "optim.OPTIMIZERS": optim.OPTIMIZERS,
    "schedules.SCHEDULES": schedules.SCHEDULES,
}


@pytest.fixture
def colours():
    return Registry("colour", {"red": 1, "green": 2, "blue": 3}, aliases={"rouge": "red", "vert": "green"})


# --- Registry -------------------------------------------------------------------------------------------

def test_iterating_gives_the_canonical_names_only(colours):
    assert list(colours) == ["red", "green", "blue"]  # in the order given, no aliases
    assert len(colours) == 3
    assert dict(colours) == {"red": 1, "green": 2, "blue": 3}
    assert sorted(colours.keys()) == ["blue", "green", "red"] and sorted(colours.values()) == [1, 2, 3]


def test_aliases_reach_their_entry_and_resolve_to_the_canonical_name(colours):
    assert colours.get("rouge") == 1 and colours["vert"] == 2
    assert colours.canonical("rouge") == "red" and colours.canonical("blue") == "blue"
    assert "rouge" in colours and "red" in colours and "purple" not in colours


def test_names_are_case_insensitive(colours):
    assert colours.get("RED") == 1 and colours["Rouge"] == 1
    assert colours.canonical("GrEeN") == "green" and colours.canonical("VERT") == "green"
    assert "Blue" in colours and "ROUGE" in colours


def test_entries_given_with_capitals_are_reachable():
    # nothing in Registry's contract asks for lower-case names; a name given is a name found
    shouty = Registry("layer", {"ReLU": 1}, aliases={"Rectifier": "ReLU"})
    assert shouty.get("ReLU") == 1 and shouty.get("relu") == 1 and shouty.get("rectifier") == 1
    assert "ReLU" in shouty


def test_a_typo_names_the_closest_name_and_every_canonical_one(colours):
    with pytest.raises(ValueError) as error:
        colours.get("gren")
    assert str(error.value) == "unknown colour 'gren'; expected one of ['blue', 'green', 'red']. Did you mean 'green'?"
    with pytest.raises(ValueError, match=r"Did you mean 'rouge'\?"):  # aliases are candidates too
        colours.canonical("roug")
    with pytest.raises(ValueError) as error:
        colours["xyzzy"]  # nothing close: no guess
    assert str(error.value) == "unknown colour 'xyzzy'; expected one of ['blue', 'green', 'red']."


@pytest.mark.parametrize("bad", [3, None, b"red", ("red",)])
def test_a_name_that_is_not_a_string_is_a_type_error(colours, bad):
    with pytest.raises(TypeError, match=f"colour name must be a string, got {type(bad).__name__}"):
        colours.get(bad)
    with pytest.raises(TypeError, match="must be a string"):
        colours.canonical(bad)
    assert bad not in colours  # `in` answers, it does not raise


def test_an_alias_to_an_unknown_name_is_rejected():
    with pytest.raises(ValueError, match=r"aliases point to unknown colour names \['purple'\]"):
        Registry("colour", {"red": 1}, aliases={"violet": "purple", "rouge": "red"})


def test_a_registry_is_read_only_and_copies_what_it_is_given():
    entries, aliases = {"red": 1}, {"rouge": "red"}
    colours = Registry("colour", entries, aliases=aliases)
    entries["blue"], aliases["azul"] = 3, "blue"
    assert list(colours) == ["red"] and "azul" not in colours
    with pytest.raises(TypeError):
        colours["blue"] = 3  # a Mapping, not a dict
    assert repr(colours) == "Registry('colour', ['red'])"


# --- every registry in nblib ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REGISTRIES))
def test_every_registry_is_a_registry_with_one_canonical_name_per_entry(name):
    registry = REGISTRIES[name]
    assert isinstance(registry, Registry)
    canonical = list(registry)
    assert len(set(canonical)) == len(canonical)
    assert all(key == key.lower() for key in canonical)
    entries = [registry[key] for key in canonical]
    assert len({id(entry) for entry in entries}) == len(entries), f"{name}: an entry under two canonical names"
    for alias, target in registry.aliases.items():
        assert alias not in canonical, f"{name}: {alias!r} is both canonical and an alias"
        assert registry[alias] is registry[target] and registry.canonical(alias) == target


@pytest.mark.parametrize("name", ["activations.ACTIVATIONS", "activations.DERIVATIVES", "mlp.OUTPUTS"])
def test_identity_is_an_alias_of_linear_not_a_second_name(name):
    registry = REGISTRIES[name]
    assert "linear" in list(registry) and "identity" not in list(registry)
    assert registry.canonical("identity") == "linear" and registry["identity"] is registry["linear"]
    assert registry.canonical("logistic") == "sigmoid" and registry["logistic"] is registry["sigmoid"]


def test_the_documented_aliases():
    # scikit-learn's names (identity, logistic), Keras's silu, and the loss names Keras uses
    assert activations.ACTIVATIONS["silu"] is activations.swish
    assert activations.ACTIVATIONS["step"] is activations.binary_step
    assert activations.DERIVATIVES["logistic"] is activations.sigmoid_derivative
    assert mlp.OUTPUTS["softmax"] is losses.softmax and mlp.OUTPUTS["identity"] is activations.linear
    assert list(mlp.OUTPUTS) == ["softmax", "sigmoid", "linear"]
    assert layers.LOSSES["binary_cross_entropy"] is layers.SigmoidCrossEntropy
    assert layers.LOSSES["MSE"] is layers.MeanSquaredError
    assert set(layers.LOSSES) == {"softmax_cross_entropy", "sigmoid_cross_entropy", "mean_squared_error"}


@pytest.mark.parametrize("name, typo, suggestion", [
    ("activations.ACTIVATIONS", "rleu", "relu"),
    ("mlp.OUTPUTS", "sofmax", "softmax"),
    ("losses.LOSSES", "mean_squard_error", "mean_squared_error"),
    ("layers.LOSSES", "softmax_crossentropy", "softmax_cross_entropy"),
    ("optim.OPTIMIZERS", "adma", "adam"),
    ("schedules.SCHEDULES", "cosin", "cosine"),
])
def test_every_registry_names_its_kind_and_the_closest_name_on_a_typo(name, typo, suggestion):
    registry = REGISTRIES[name]
    with pytest.raises(ValueError, match=rf"unknown {registry.kind} '{typo}'; expected one of .*"
                                         rf"Did you mean '{suggestion}'\?"):
        registry[typo]


def test_the_lookups_built_on_the_registries_share_their_messages():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adma'.*Did you mean 'adam'"):
        optim.get("adma", lr=0.1)
    with pytest.raises(ValueError, match=r"unknown schedule 'cosin'.*Did you mean 'cosine'"):
        schedules.schedule("cosin", initial_lr=0.1, decay_steps=10)
    with pytest.raises(ValueError, match=r"unknown output 'softplus'; expected one of "
                                         r"\['linear', 'sigmoid', 'softmax'\]"):
        mlp.forward(np.ones((1, 2)), [np.ones((2, 2))], [np.zeros(2)], output="softplus")
    assert isinstance(optim.get("ADAM", lr=0.1), optim.Adam)


def test_get_with_a_default_is_dicts_get_and_without_one_names_the_typo():
    # a Registry is a Mapping: get(name, default) answers like dict.get for unknown names
    colours = Registry("colour", {"red": 1}, aliases={"rouge": "red"})
    assert colours.get("ROUGE", 0) == 1
    assert colours.get("blue", 0) == 0 and colours.get("blue", "none") == "none"
    with pytest.raises(ValueError, match="unknown colour 'bleu'"):
        colours.get("bleu")
