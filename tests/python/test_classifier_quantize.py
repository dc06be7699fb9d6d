"""fastText's model.quantize and autotuneModelSize in embedkit.train_supervised's classifier.

Against the embedkit command (EMBEDKIT_CLI, set by tests/python/CMakeLists.txt; the tests that
need it skip without it): the Python quantize of a model is what `embedkit quantize` writes for
the saved model, byte for byte, and predicts and tests as `embedkit classify predict|test` do on
that file. Against fastText's Python module (python3-fasttext 0.9.2): the saved .ftz is read and
predicts the same labels. The data is made here: labelled lines whose class is given by two of
its own keywords among words shared by every class.
"""

import ast
import inspect
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import embedkit
from embedkit import fasttext as ek_fasttext

from classifier_data import LABELS, keyword_lines, write
from gil_probe import ticks_during


@pytest.fixture
def data(tmp_path):
    return (write(tmp_path / "train.txt", keyword_lines(400, 1)),
            write(tmp_path / "test.txt", keyword_lines(200, 2)))


# One thread: the same model on every run, and the retraining too.
ARGS = dict(lr=0.5, epoch=10, dim=16, wordNgrams=2, bucket=2000, thread=1, verbose=0)


@pytest.fixture
def cli():
    path = os.environ.get("EMBEDKIT_CLI")
    if not path:
        pytest.skip("EMBEDKIT_CLI (the embedkit command) is not set")
    return path


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def listing(path):
    return {p.name: p.read_bytes() for p in path.iterdir()}


# The same quantization in fastText's Python arguments and on the command line.
VARIANTS = [
    (dict(), []),
    (dict(dsub=4, qnorm=True, qout=True, cutoff=300),
     ["--dsub", "4", "--qnorm", "--qout", "--cutoff", "300"]),
    (dict(cutoff=300, retrain=True, qnorm=True),
     ["--cutoff", "300", "--retrain", "--qnorm", "--threads", "1"]),
]


@pytest.mark.parametrize("python_args,cli_args", VARIANTS)
def test_quantize_is_the_commands(cli, data, tmp_path, python_args, cli_args):
    train, test = data
    model = embedkit.train_supervised(input=train, **ARGS)
    model.save_model(tmp_path / "model.safetensors")
    if python_args.get("retrain"):
        python_args = dict(python_args, input=train)
        cli_args = cli_args + ["--input", train]
    run(cli, "quantize", tmp_path / "model.safetensors", "-o", tmp_path / "cli.ftz", *cli_args)

    assert not model.is_quantized()
    assert model.quantize(**python_args) is None  # in place, as fastText's
    assert model.is_quantized()
    model.save_model(tmp_path / "python.ftz")
    assert (tmp_path / "python.ftz").read_bytes() == (tmp_path / "cli.ftz").read_bytes()

    # predict: the labels and probabilities `classify predict` prints (5 digits).
    lines = [line.split(" ", 1)[1] for line in open(test).read().splitlines()]
    printed = run(cli, "classify", "predict", tmp_path / "cli.ftz", test, "-k", "2").splitlines()
    labels, probabilities = model.predict(lines, k=2)
    assert len(printed) == len(lines) == len(labels)
    for line_labels, line_probabilities, out in zip(labels, probabilities, printed):
        tokens = out.split()
        assert line_labels == tokens[0::2]
        # Printed with 5 decimals; the list's arrays are float32, as fastText's.
        np.testing.assert_allclose(line_probabilities, [float(t) for t in tokens[1::2]],
                                   rtol=0, atol=5e-6 + 1e-7)
    one, p = model.predict(lines[0])
    assert one == tuple(labels[0][:1]) and isinstance(p, np.ndarray)

    # test: N, P@1, R@1 of `classify test`.
    tested = dict(line.split("\t")[:2] for line in
                  run(cli, "classify", "test", tmp_path / "cli.ftz", test).splitlines()
                  if "\t" in line)
    n, precision, recall = model.test(test)
    assert n == int(tested["N"]) == 200
    assert precision == pytest.approx(float(tested["P@1"]), abs=5e-5)
    assert recall == pytest.approx(float(tested["R@1"]), abs=5e-5)
    assert precision > 0.9  # the keywords survive the quantization


def test_quantized_model_answers_from_its_codes(data, tmp_path):
    train, test = data
    model = embedkit.train_supervised(input=train, **ARGS)
    rows = model.get_input_matrix().shape[0]
    words = model.get_words()
    model.quantize(input=train, cutoff=40, retrain=True, qnorm=True)
    assert "quantized" in repr(model)
    with pytest.raises(ValueError, match="quantized"):
        model.get_input_matrix()
    assert model.get_output_matrix().shape == (LABELS, 16)  # not quantized without qout
    kept = model.get_words()
    assert 0 < len(kept) < len(words) and set(kept) <= set(words) and rows > 40
    assert sorted(model.get_labels()) == [f"__label__c{c}" for c in range(LABELS)]
    assert model.get_word_id(kept[-1]) == len(kept) - 1
    assert model.get_word_vector("key1_1").shape == (16,)
    assert model.get_dimension() == 16
    assert set(model.test_label(test)) == set(model.get_labels())

    # The saved .ftz, read back by load_model, is the same model.
    model.save_model(tmp_path / "q.ftz")
    back = embedkit.load_model(tmp_path / "q.ftz")
    assert isinstance(back, ek_fasttext.FastTextModel) and back.is_quantized()
    line = "common1 key2_3 key2_1 common4"
    assert back.predict(line, k=2)[0] == model.predict(line, k=2)[0]
    np.testing.assert_array_equal(back.get_sentence_vector(line), model.get_sentence_vector(line))
    # Label tokens are not words (fastText's getLine), in the line or not.
    np.testing.assert_array_equal(model.get_sentence_vector("__label__c2 " + line),
                                  model.get_sentence_vector(line))
    assert back.test(test) == model.test(test)
    assert back.test_label(test) == model.test_label(test)

    # Quantized once: a second quantize is refused and changes nothing.
    before = model.predict(line, k=2)
    with pytest.raises(ValueError, match="already quantized"):
        model.quantize()
    assert model.predict(line, k=2)[0] == before[0]


def test_saved_ftz_is_read_by_fasttext(fasttext, data, tmp_path):
    train, test = data
    model = embedkit.train_supervised(input=train, **ARGS)
    model.quantize(input=train, cutoff=300, retrain=True, qnorm=True, qout=True, dsub=4)
    model.save_model(tmp_path / "q.ftz")
    theirs = fasttext.load_model(str(tmp_path / "q.ftz"))
    assert theirs.is_quantized()
    lines = [line.split(" ", 1)[1] for line in open(test).read().splitlines()]
    ours_labels, ours_p = model.predict(lines, k=2)
    their_labels, their_p = theirs.predict(lines, k=2)
    assert [list(x) for x in ours_labels] == [list(x) for x in their_labels]
    for a, b in zip(ours_p, their_p):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    n, precision, recall = theirs.test(test)
    assert (n, precision, recall) == pytest.approx(model.test(test), abs=1e-9)


def test_model_of_another_label_prefix(cli, tmp_path):
    train = write(tmp_path / "train.txt", keyword_lines(400, 1, prefix="#"))
    test = write(tmp_path / "test.txt", keyword_lines(200, 2, prefix="#"))
    model = embedkit.train_supervised(input=train, label="#", **ARGS)
    model.save_model(tmp_path / "model.safetensors")
    run(cli, "quantize", tmp_path / "model.safetensors", "-o", tmp_path / "cli.ftz", "--cutoff",
        "300", "--retrain", "--input", train, "--threads", "1")
    model.quantize(input=train, cutoff=300, retrain=True)
    model.save_model(tmp_path / "python.ftz")
    assert (tmp_path / "python.ftz").read_bytes() == (tmp_path / "cli.ftz").read_bytes()
    assert model.predict("common1 key3_1 key3_2")[0] == ("#c3",)
    assert model.test(test)[1] > 0.9


def test_fasttext_model_quantize_is_the_commands(cli, data, tmp_path):
    # A fastText .bin (what `embedkit convert --to fasttext-bin` writes) read by load_model.
    train, test = data
    embedkit.train_supervised(input=train, **ARGS).save_model(tmp_path / "m.safetensors")
    run(cli, "convert", tmp_path / "m.safetensors", tmp_path / "m.bin", "--to", "fasttext-bin")
    run(cli, "quantize", tmp_path / "m.bin", "-o", tmp_path / "cli.ftz", "--cutoff", "300",
        "--retrain", "--input", train, "--epochs", "3", "--lr", "0.2", "--threads", "1")
    model = embedkit.load_model(tmp_path / "m.bin")
    assert not model.is_quantized()
    model.quantize(input=train, cutoff=300, retrain=True, epoch=3, lr=0.2, thread=1)
    assert model.is_quantized()
    model.save_model(tmp_path / "python.ftz")
    assert (tmp_path / "python.ftz").read_bytes() == (tmp_path / "cli.ftz").read_bytes()
    assert model.test(test)[1] > 0.9


def test_word_vectors_quantize_without_a_cutoff(tmp_path):
    # fastText quantizes supervised models only; embedkit also word vectors, keeping every row.
    rng = random.Random(0)
    corpus = write(tmp_path / "corpus.txt",
                   [" ".join(f"w{rng.randrange(200)}" for _ in range(12)) for _ in range(500)])
    model = embedkit.train_unsupervised(corpus, dim=8, minCount=1, epoch=1, thread=1, verbose=0)
    with pytest.raises(ValueError, match="cutoff needs a supervised model"):
        model.quantize(cutoff=10)
    assert not model.is_quantized()
    words = model.get_words()
    model.quantize()
    assert model.is_quantized() and model.get_words() == words
    assert model.get_word_vector("w1").shape == (8,)
    model.save_model(tmp_path / "v.ftz")
    assert embedkit.load_model(tmp_path / "v.ftz").is_quantized()
    with pytest.raises(ValueError, match="already quantized"):
        model.quantize()


def test_retrain_without_a_cutoff_retrains_nothing_as_fasttext(data, tmp_path):
    # fastText prunes, and so retrains, only with a cutoff below the input rows; the tutorial's
    # model.quantize(input=..., retrain=True) quantizes without pruning.
    train, _ = data
    files = []
    for i, args in enumerate([dict(), dict(input=train, retrain=True),
                              dict(input=train, retrain=True, cutoff=10 ** 9)]):
        model = embedkit.train_supervised(input=train, **ARGS)
        model.quantize(**args)
        model.save_model(tmp_path / f"{i}.ftz")
        files.append((tmp_path / f"{i}.ftz").read_bytes())
    assert files[0] == files[1] == files[2]


def test_quantize_refuses_bad_input_and_changes_nothing(data, tmp_path):
    train, test = data
    model = embedkit.train_supervised(input=train, **ARGS)
    line = "common1 key2_3 key2_1 common4"
    before = model.predict(line, k=4)
    other = write(tmp_path / "other.txt", keyword_lines(50, 9, prefix="__other__"))
    unknown = write(tmp_path / "unknown.txt", ["__label__zz common1 key1_1"] * 5)
    files = listing(tmp_path)
    cases = [
        (ValueError, "Need input file path", dict(retrain=True, cutoff=40)),
        (ValueError, "dsub", dict(dsub=17)),
        (ValueError, "dsub", dict(dsub=0)),
        (ValueError, "cutoff", dict(cutoff=-1)),
        (ValueError, "lr", dict(input=train, retrain=True, cutoff=40, lr=-1.0)),
        (ValueError, "epoch", dict(input=train, retrain=True, cutoff=40, epoch=-2)),
        (TypeError, "cutoff", dict(cutoff="40")),
        (TypeError, "qnorm", dict(qnorm="yes")),
        (FileNotFoundError, "missing", dict(input=str(tmp_path / "missing.txt"), retrain=True,
                                            cutoff=40)),
        (ValueError, "no label", dict(input=other, retrain=True, cutoff=40)),
        (ValueError, "none of the 5 training lines", dict(input=unknown, retrain=True,
                                                          cutoff=40)),
        (RuntimeError, "lr", dict(input=train, retrain=True, cutoff=40, lr=1e30)),
    ]
    for error, message, args in cases:
        with pytest.raises(error, match=message):
            model.quantize(**args)
        assert not model.is_quantized(), args
        labels, p = model.predict(line, k=4)
        assert labels == before[0] and np.array_equal(p, before[1]), args
        assert listing(tmp_path) == files, args
    # A loss fastText reads differently (its hs tree): refused, not quantized.
    hs = embedkit.train_supervised(input=train, **dict(ARGS, loss="hs"))
    with pytest.raises(ValueError, match="hs"):
        hs.quantize()
    assert not hs.is_quantized()
    # A quantized model saves its .ftz atomically: an unwritable path leaves nothing.
    model.quantize()
    with pytest.raises(OSError):
        model.save_model(tmp_path / "no-such-dir" / "q.ftz")
    assert listing(tmp_path) == files


def test_quantize_releases_the_gil(tmp_path):
    train = write(tmp_path / "big.txt", keyword_lines(20000, 6, noise=3000))
    model = embedkit.train_supervised(input=train, epoch=1, dim=32, thread=1, verbose=0)
    ticks, elapsed = ticks_during(lambda: model.quantize(
        input=train, cutoff=500, retrain=True, epoch=20, thread=1, verbose=0))
    # Held GIL: no tick while quantizing. Released: about one a millisecond (gil_probe.py).
    assert model.is_quantized()
    assert elapsed > 0.1 and ticks >= elapsed / 0.02


CTRL_C = textwrap.dedent("""
    import sys
    import embedkit
    train = sys.argv[1]
    model = embedkit.train_supervised(train, epoch=1, dim=16, thread=1, verbose=0)
    print("quantizing", flush=True)
    try:
        model.quantize(input=train, cutoff=100, retrain=True, epoch=100000, thread=2, verbose=0)
    except KeyboardInterrupt:
        print("interrupted", model.is_quantized(), model.predict("common1 key1_1")[0], flush=True)
""")


def test_ctrl_c_stops_a_retraining_and_leaves_the_model(tmp_path):
    train = write(tmp_path / "big.txt", keyword_lines(20000, 6, noise=3000))
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C, train], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "quantizing"
    time.sleep(1.0)  # well inside the retraining, which would take hours
    assert proc.poll() is None
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.perf_counter() - sent < 5
    assert proc.returncode == 0, err
    assert out.split()[:2] == ["interrupted", "False"]  # not quantized, still predicts


def sized_lines(count, seed):
    """Two keywords of the class among four of 3000 noise words: thousands of rows, of which
    a model-size budget keeps few."""
    return keyword_lines(count, seed, noise=3000)


# The model options autotune would search, fixed: the search is then over epoch, lr and dsub, so
# that every candidate fits the budgets below (at dim 8, 4 labels: at least 9607 bytes).
FIXED = dict(dim=8, wordNgrams=1, minn=0, maxn=0, bucket=1000, loss="softmax", thread=1,
             verbose=0)


def test_autotune_model_size_gives_a_quantized_model_within_the_budget(tmp_path):
    train = write(tmp_path / "train.txt", sized_lines(1500, 1))
    valid = write(tmp_path / "valid.txt", sized_lines(200, 3))
    test = write(tmp_path / "test.txt", sized_lines(200, 2))
    full = embedkit.train_supervised(input=train, **FIXED)
    full.quantize()
    full.save_model(tmp_path / "full.ftz")
    for budget, limit in (("30K", 30000), ("20k", 20000)):
        model = embedkit.train_supervised(input=train, autotuneValidationFile=valid,
                                          autotuneModelSize=budget, autotuneDuration=3,
                                          **FIXED)
        assert model.is_quantized()
        assert model.get_dimension() == 8  # given, so not searched
        path = tmp_path / f"{budget}.ftz"
        model.save_model(path)
        # Within the budget, where keeping every row would not be.
        assert os.path.getsize(path) <= limit < os.path.getsize(tmp_path / "full.ftz")
        assert len(model.get_words()) < len(full.get_words())
        assert model.test(test)[1] > 0.8


def test_autotune_model_size_refuses_bad_input(tmp_path):
    train = write(tmp_path / "train.txt", sized_lines(300, 1))
    valid = write(tmp_path / "valid.txt", sized_lines(50, 3))
    files = listing(tmp_path)
    for size, error, message in (("1", ValueError, "below the smallest model"),
                                 ("5K", ValueError, "9607 bytes"),
                                 ("2X", ValueError, "2X"),
                                 ("0", ValueError, "'0'"),
                                 (2000000, TypeError, "autotuneModelSize")):
        with pytest.raises(error, match=message):
            embedkit.train_supervised(input=train, autotuneValidationFile=valid,
                                      autotuneModelSize=size, autotuneDuration=3, **FIXED)
        assert listing(tmp_path) == files
    with pytest.raises(ValueError, match="autotuneValidationFile"):
        embedkit.train_supervised(input=train, autotuneModelSize="2M", **FIXED)


# fastText 0.9.2's model.quantize arguments and defaults.
QUANTIZE = [("input", None), ("qout", False), ("cutoff", 0), ("retrain", False), ("epoch", None),
            ("lr", None), ("thread", None), ("verbose", None), ("dsub", 2), ("qnorm", False)]


def test_quantize_has_fasttexts_signature_in_code_and_stubs():
    stubs = ast.parse(open(os.path.join(os.path.dirname(ek_fasttext.__file__),
                                        "fasttext.pyi")).read())
    for cls in (ek_fasttext.TextClassifier, ek_fasttext.FastTextModel):
        params = list(inspect.signature(cls.quantize).parameters.values())[1:]
        assert [(p.name, p.default) for p in params] == QUANTIZE
        stub = next(node for node in stubs.body
                    if isinstance(node, ast.ClassDef) and node.name == cls.__name__)
        method = next(node for node in stub.body
                      if isinstance(node, ast.FunctionDef) and node.name == "quantize")
        names = [a.arg for a in method.args.args[1:]]
        defaults = [ast.literal_eval(d) for d in method.args.defaults]
        assert list(zip(names, defaults)) == QUANTIZE
