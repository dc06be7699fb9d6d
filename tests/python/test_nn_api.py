"""embedkit.nn speaks PyTorch: the same argument names, order and defaults as torch.nn's, the
same attributes and repr, and real help texts."""

import inspect
import pydoc

import numpy as np
import pytest

import embedkit
from embedkit import nn
from embedkit.nn import functional as F

# Extras embedkit adds, all keyword-only so that PyTorch's positional calls port unchanged.
EXTRAS = {"unknown_ids", "dtype", "out"}


def positional_parameters(fn):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self"]


def keyword_only(fn):
    return {p.name for p in inspect.signature(fn).parameters.values() if p.kind == p.KEYWORD_ONLY}


PAIRS = [
    (lambda t: t.nn.Embedding.__init__, nn.Embedding.__init__),
    (lambda t: t.nn.EmbeddingBag.__init__, nn.EmbeddingBag.__init__),
    (lambda t: t.nn.Embedding.from_pretrained, nn.Embedding.from_pretrained),
    (lambda t: t.nn.EmbeddingBag.from_pretrained, nn.EmbeddingBag.from_pretrained),
    (lambda t: t.nn.functional.embedding, F.embedding),
    (lambda t: t.nn.functional.embedding_bag, F.embedding_bag),
    (lambda t: t.nn.EmbeddingBag.forward, nn.EmbeddingBag.forward),
]


@pytest.mark.parametrize("theirs, ours", PAIRS)
def test_signatures_are_pytorchs(torch, theirs, ours):
    assert positional_parameters(ours) == positional_parameters(theirs(torch))
    assert keyword_only(ours) <= EXTRAS


def test_embedding_forward_takes_input_like_pytorchs(torch):
    assert positional_parameters(nn.Embedding.forward) == positional_parameters(
        torch.nn.Embedding.forward)


MODULES = [
    ("Embedding", (10, 3), {}),
    ("Embedding", (10, 3), {"padding_idx": -2, "max_norm": 1.0, "norm_type": 1.0,
                            "scale_grad_by_freq": True}),
    ("Embedding", (10, 3), {"sparse": True, "padding_idx": 0}),
    ("EmbeddingBag", (10, 3), {}),
    ("EmbeddingBag", (10, 3), {"mode": "sum", "padding_idx": 4, "include_last_offset": True}),
    ("EmbeddingBag", (10, 3), {"mode": "max", "max_norm": 2.0, "norm_type": 3.0}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_attributes_and_repr_are_pytorchs(torch, name, args, kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for attribute in ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                      "scale_grad_by_freq", "sparse", "mode", "include_last_offset"):
        if hasattr(theirs, attribute):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert ours.weight.dtype == np.float32 and ours.requires_grad


def test_from_pretrained_freezes_by_default_as_pytorch(torch):
    w = np.ones((4, 2), np.float32)
    assert nn.Embedding.from_pretrained(w).requires_grad is False
    assert nn.EmbeddingBag.from_pretrained(w, freeze=False).requires_grad is True
    assert nn.EmbeddingBag.from_pretrained(w).mode == torch.nn.EmbeddingBag.from_pretrained(
        torch.from_numpy(w)).mode


def test_dtype_accepts_numpy_torch_and_string_spellings(torch):
    for dtype in (np.float16, np.dtype("float16"), "float16", torch.float16):
        assert nn.Embedding(3, 2, dtype=dtype).dtype == "float16"
    assert nn.Embedding(3, 2, dtype=torch.bfloat16).dtype == "bfloat16"
    assert nn.Embedding(3, 2, device="cpu", dtype=None).dtype == "float32"


def test_a_subclass_overriding_forward_is_called(torch):
    class Scaled(nn.Embedding):
        def forward(self, input):
            return 2 * super().forward(input)

    module = Scaled(4, 2, _weight=np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(module(np.array([1])), [[2.0, 2.0]])


def test_requires_grad_can_be_set_as_in_pytorch():
    module = nn.Embedding.from_pretrained(np.ones((4, 2), np.float32))
    assert module.requires_grad_() is module and module.requires_grad
    module.requires_grad = False
    with pytest.raises(ValueError, match="frozen"):
        module.backward(np.array([1]), np.ones((1, 2), np.float32))


def test_options_are_read_only():
    module = nn.Embedding(4, 2)
    with pytest.raises(AttributeError):
        module.padding_idx = 1
    with pytest.raises(AttributeError):
        module.weight = np.zeros((4, 2), np.float32)


@pytest.mark.parametrize("obj", [nn, F, nn.Embedding, nn.EmbeddingBag, nn.Embedding.forward,
                                 nn.Embedding.backward, nn.EmbeddingBag.backward,
                                 nn.Embedding.from_pretrained, nn.EmbeddingBag.from_pretrained,
                                 F.embedding, F.embedding_bag, F.embedding_backward,
                                 F.embedding_bag_backward, nn.manual_seed,
                                 embedkit._embedkit.embedding, embedkit._embedkit.Embedding])
def test_help_is_real(obj):
    assert obj.__doc__ and len(obj.__doc__.strip()) > 30
    assert pydoc.render_doc(obj)


def test_stubs_name_every_public_function():
    import pathlib
    package = pathlib.Path(nn.__file__).parent
    stubs = {name: (package / name).read_text()
             for name in ("__init__.pyi", "functional.pyi", "modules.pyi")}
    for name in ("embedding", "embedding_bag", "embedding_backward", "embedding_bag_backward"):
        assert f"def {name}(" in stubs["functional.pyi"]
    for name in ("class Embedding", "class EmbeddingBag", "def from_pretrained", "def backward"):
        assert name in stubs["modules.pyi"]
    assert "manual_seed" in stubs["__init__.pyi"]
