"""embedkit.train_supervised against fastText's Python module (python3-fasttext 0.9.2).

The data is made here: labelled lines whose class is given by two of its own keywords among
words shared by every class, so both programs can separate the classes perfectly.
"""

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

from classifier_data import LABELS, keyword_lines, write
from gil_probe import ticks_during


@pytest.fixture
def data(tmp_path):
    return (write(tmp_path / "train.txt", keyword_lines(400, 1)),
            write(tmp_path / "test.txt", keyword_lines(200, 2)))


# Settings both programs train with: one thread, so embedkit's run is deterministic.
ARGS = dict(lr=0.5, epoch=10, dim=16, thread=1, verbose=0)


def test_module_level_names_are_fasttexts():
    assert embedkit.train_supervised is embedkit.fasttext.train_supervised
    assert embedkit.load_model is embedkit.fasttext.load_model


@pytest.mark.parametrize("loss,ngrams", [("softmax", 1), ("hs", 1), ("ns", 1), ("softmax", 2)])
def test_same_accuracy_as_fasttext(fasttext, data, loss, ngrams):
    train, test = data
    args = dict(ARGS, loss=loss, wordNgrams=ngrams, bucket=10000)
    ours = embedkit.train_supervised(input=train, **args).test(test)
    theirs = fasttext.train_supervised(input=train, **args).test(test)
    assert ours[0] == theirs[0] == 200
    assert type(ours[0]) is int and type(ours[1]) is float and type(ours[2]) is float
    # The classes are separable: both should be (nearly) perfect. Tolerance: 2 lines of 200.
    assert theirs[1] >= 0.98
    assert abs(ours[1] - theirs[1]) <= 0.01
    assert abs(ours[2] - theirs[2]) <= 0.01


def ambiguous_lines(count, seed, flip):
    """Each line holds one keyword of its class and one of a random class (the same class a
    quarter of the time), and a fraction `flip` of the labels is random: the best possible
    accuracy on clean lines is 1/4 + 3/4 * 1/2 = 0.625."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        c, other = rng.randrange(LABELS), rng.randrange(LABELS)
        words = [f"common{rng.randrange(30)}" for _ in range(4)]
        words += [f"key{c}_{rng.randrange(5)}", f"key{other}_{rng.randrange(5)}"]
        rng.shuffle(words)
        label = rng.randrange(LABELS) if rng.random() < flip else c
        lines.append(f"__label__c{label} " + " ".join(words))
    return lines


@pytest.mark.parametrize("loss", ["softmax", "hs", "ns"])
def test_same_accuracy_as_fasttext_where_no_model_is_perfect(fasttext, tmp_path, loss):
    train = write(tmp_path / "train.txt", ambiguous_lines(2000, 1, 0.2))
    test = write(tmp_path / "test.txt", ambiguous_lines(1000, 2, 0.0))
    args = dict(ARGS, loss=loss)
    ours = embedkit.train_supervised(train, **args).test(test)[1]
    theirs = fasttext.train_supervised(train, **args).test(test)[1]
    # Measured over seeds 0-2: both within 0.02 of 0.625 and of each other.
    assert abs(ours - 0.625) <= 0.03 and abs(theirs - 0.625) <= 0.03
    assert abs(ours - theirs) <= 0.03


def test_test_at_k_counts_as_fasttext(fasttext, data):
    train, test = data
    for k in (2, -1):
        ours = embedkit.train_supervised(train, **ARGS).test(test, k=k)
        theirs = fasttext.train_supervised(train, **ARGS).test(test, k=k)
        assert ours[0] == theirs[0]
        assert ours[1] == pytest.approx(theirs[1], abs=0.01)  # 1 / k of the lines, both
        assert ours[2] == pytest.approx(theirs[2], abs=0.01)


def test_predict_returns_fasttexts_types_and_labels(fasttext, data):
    train, test = data
    ours = embedkit.train_supervised(train, **ARGS)
    theirs = fasttext.train_supervised(train, **ARGS)
    texts = [line.split(" ", 1)[1] for line in open(test).read().splitlines()]

    for k in (1, 3, -1):
        a, b = ours.predict(texts[0], k=k), theirs.predict(texts[0], k=k)
        assert type(a) is tuple and type(a[0]) is tuple and type(a[1]) is np.ndarray
        assert a[1].dtype == b[1].dtype == np.float64
        assert len(a[0]) == len(b[0]) == a[1].shape[0] == (LABELS if k == -1 else k)
        assert all(type(label) is str for label in a[0])
        assert np.all(np.diff(a[1]) <= 0)  # most probable first
        assert a[0][0] == b[0][0]

    a, b = ours.predict(texts, k=2), theirs.predict(texts, k=2)
    assert type(a) is tuple and type(a[0]) is list and type(a[1]) is list
    assert len(a[0]) == len(a[1]) == len(texts)
    assert type(a[0][0]) is type(b[0][0]) is list
    assert type(a[1][0]) is np.ndarray and a[1][0].dtype == b[1][0].dtype == np.float32
    agree = sum(x[0] == y[0] for x, y in zip(a[0], b[0]))
    assert agree >= 0.98 * len(texts)

    # A threshold above every probability: nothing, in fastText's empty shapes.
    a, b = ours.predict(texts[0], k=2, threshold=1.01), theirs.predict(texts[0], k=2,
                                                                        threshold=1.01)
    assert a[0] == b[0] == ()
    assert a[1].shape == b[1].shape == (0,) and a[1].dtype == b[1].dtype
    a, b = ours.predict([texts[0]], threshold=1.01), theirs.predict([texts[0]], threshold=1.01)
    assert a[0] == b[0] == [[]]
    assert a[1][0].shape == (0,) and a[1][0].dtype == b[1][0].dtype

    # Probabilities of softmax sum to 1 over every label.
    assert ours.predict(texts[0], k=-1)[1].sum() == pytest.approx(1.0, abs=1e-6)


def test_dictionary_and_vectors_as_fasttext(fasttext, data):
    train, _ = data
    ours = embedkit.train_supervised(train, **ARGS)
    theirs = fasttext.train_supervised(train, **ARGS)
    assert ours.get_dimension() == theirs.get_dimension() == 16
    # Counts are the same; the order of equal counts is not specified by fastText.
    ow, oc = ours.get_words(include_freq=True)
    tw, tc = theirs.get_words(include_freq=True)
    assert dict(zip(ow, oc.tolist())) == dict(zip(tw, tc.tolist()))
    assert np.all(np.diff(oc) <= 0)
    ol, olc = ours.get_labels(include_freq=True)
    tl, tlc = theirs.get_labels(include_freq=True)
    assert dict(zip(ol, olc.tolist())) == dict(zip(tl, tlc.tolist()))
    assert ours.words == ow and ours.labels == ol
    assert ours.get_word_id(ow[3]) == 3 and ours.get_word_id("nope") == -1

    a, b = ours.get_word_vector("key1_1"), theirs.get_word_vector("key1_1")
    assert type(a) is np.ndarray and a.dtype == b.dtype == np.float32 and a.shape == b.shape
    assert np.array_equal(a, ours.get_input_matrix()[ours.get_word_id("key1_1")])
    assert not ours.get_word_vector("never-seen").any()
    assert not theirs.get_word_vector("never-seen").any()

    # The sentence vector is the mean of the rows the line looks up, "</s>" included.
    s = ours.get_sentence_vector("key1_1 common3 never-seen")
    rows = [ours.get_word_id(w) for w in ("key1_1", "common3", "</s>")]
    assert s.dtype == theirs.get_sentence_vector("x").dtype
    assert np.allclose(s, ours.get_input_matrix()[rows].mean(axis=0), atol=1e-7)

    m = ours.get_input_matrix()
    assert m.shape == (len(ow), 16) and not m.flags.writeable
    assert ours.get_output_matrix().shape == (LABELS, 16)


def stem_lines(count, seed, unseen):
    """Each class has its stems; a keyword is a stem and an inflection. Training lines use the
    first three inflections, `unseen` lines two others: only the stems' n-grams tell the class."""
    stems = [["gravit", "orbitt", "planet"], ["melod", "harmon", "rhythm"],
             ["photos", "chlorop", "leafy"], ["volcan", "magmat", "tecton"]]
    ends = ["ation", "ously"] if unseen else ["ing", "er", "s"]
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        c = rng.randrange(len(stems))
        words = [f"w{rng.randrange(20)}" for _ in range(3)]
        words.append(rng.choice(stems[c]) + rng.choice(ends))
        lines.append(f"__label__c{c} " + " ".join(words))
    return lines


def test_subwords_as_fasttext(fasttext, tmp_path):
    train = write(tmp_path / "train.txt", stem_lines(600, 3, False))
    test = write(tmp_path / "test.txt", stem_lines(300, 4, True))
    args = dict(ARGS, minn=3, maxn=6, bucket=20000)
    ours = embedkit.train_supervised(train, **args)
    theirs = fasttext.train_supervised(train, **args)
    # Every test keyword is new: accuracy comes from the character n-grams, as in fastText.
    n, p, _ = ours.test(test)
    assert n == 300 and p >= theirs.test(test)[1] - 0.03 and p > 0.9
    assert embedkit.train_supervised(train, **dict(ARGS, bucket=20000)).test(test)[1] < 0.6
    # A word's vector is the mean of its row and its n-gram rows; outside the vocabulary, of its
    # n-gram rows, so it is not zero (fastText's get_word_vector).
    m = ours.get_input_matrix()
    assert m.shape == (len(ours.words) + 20000, 16)
    assert ours.get_word_vector("gravitation").any()
    assert ours.get_word_id("gravitation") == -1
    w = ours.get_word_id("w3")
    assert not np.array_equal(ours.get_word_vector("w3"), m[w])  # n-gram rows take part
    # Saved and loaded, the model predicts the same.
    path = tmp_path / "subwords.safetensors"
    ours.save_model(path)
    loaded = embedkit.load_model(path)
    texts = [line.split(" ", 1)[1] for line in open(test).read().splitlines()]
    a, b = ours.predict(texts, k=2), loaded.predict(texts, k=2)
    assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))
    oov = "magmatously"
    assert np.array_equal(ours.get_word_vector(oov), loaded.get_word_vector(oov))


def test_one_thread_is_deterministic(data):
    train, test = data
    a = embedkit.train_supervised(train, **ARGS)
    b = embedkit.train_supervised(train, **ARGS)
    assert np.array_equal(a.get_input_matrix(), b.get_input_matrix())
    c = embedkit.train_supervised(train, **dict(ARGS, seed=5))
    assert not np.array_equal(a.get_input_matrix(), c.get_input_matrix())


def test_save_load_round_trip_predicts_identically(data, tmp_path):
    train, test = data
    model = embedkit.train_supervised(train, **dict(ARGS, wordNgrams=2, bucket=5000,
                                                    loss="hs"))
    path = tmp_path / "model.safetensors"
    model.save_model(path)
    loaded = embedkit.load_model(str(path))
    texts = [line.split(" ", 1)[1] for line in open(test).read().splitlines()]
    a, b = model.predict(texts, k=-1), loaded.predict(texts, k=-1)
    assert a[0] == b[0]
    assert all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))
    assert model.test(test) == loaded.test(test)
    assert model.get_words() == loaded.get_words()
    assert model.get_labels() == loaded.get_labels()
    assert np.array_equal(model.get_input_matrix(), loaded.get_input_matrix())
    assert np.array_equal(model.get_output_matrix(), loaded.get_output_matrix())


def test_test_label_gives_each_labels_scores(data):
    train, test = data
    scores = embedkit.train_supervised(train, **ARGS).test_label(test)
    assert sorted(scores) == [f"__label__c{c}" for c in range(LABELS)]
    for s in scores.values():
        assert set(s) == {"precision", "recall", "f1score"}
        assert 0.9 <= s["precision"] <= 1 and 0.9 <= s["recall"] <= 1


def test_another_label_prefix(tmp_path):
    lines = [line.replace("__label__", "#") for line in keyword_lines(200, 3)]
    model = embedkit.train_supervised(write(tmp_path / "t.txt", lines), label="#", **ARGS)
    assert model.get_labels()[0].startswith("#")
    assert model.predict("key2_1 common1")[0] == ("#c2",)


def test_verbose_prints_fasttexts_progress_line(data):
    train, _ = data
    code = f"import embedkit; embedkit.train_supervised({train!r}, epoch=2, thread=1)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "Progress: 100.0%" in out.stderr and "avg.loss" in out.stderr
    quiet = subprocess.run([sys.executable, "-c", code.replace(")", ", verbose=0)")],
                           capture_output=True, text=True, check=True)
    assert quiet.stderr == ""


# -- bad input --------------------------------------------------------------------------------


def test_missing_files_raise_file_not_found(data, tmp_path):
    train, _ = data
    with pytest.raises(FileNotFoundError):
        embedkit.train_supervised(str(tmp_path / "missing.txt"), verbose=0)
    model = embedkit.train_supervised(train, **ARGS)
    with pytest.raises(FileNotFoundError):
        model.test(str(tmp_path / "missing.txt"))
    with pytest.raises(FileNotFoundError):
        embedkit.load_model(str(tmp_path / "missing.bin"))


def test_a_file_without_labels_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no label"):
        embedkit.train_supervised(write(tmp_path / "t.txt", ["just some words", "more"]),
                                  verbose=0)
    with pytest.raises(ValueError):
        embedkit.train_supervised(write(tmp_path / "e.txt", [""]), verbose=0)
    with pytest.raises(ValueError, match="line 2"):
        embedkit.train_supervised(write(tmp_path / "l.txt", ["__label__a x", "__label__b"]),
                                  verbose=0)


def test_a_file_that_is_not_a_model_is_an_os_error(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"not a model at all")
    with pytest.raises(OSError, match="model.bin"):
        embedkit.load_model(path)


def test_k_must_be_positive_or_minus_one_as_in_fasttext(fasttext, data):
    train, test = data
    ours = embedkit.train_supervised(train, **ARGS)
    theirs = fasttext.train_supervised(train, **ARGS)
    for k in (0, -2):
        for model in (ours, theirs):
            with pytest.raises(ValueError, match="k needs to be 1 or higher"):
                model.predict("key1_1", k=k)
        with pytest.raises(ValueError):
            ours.test(test, k=k)
    for model in (ours, theirs):
        with pytest.raises(ValueError, match="one line at a time"):
            model.predict("two\nlines")
        with pytest.raises(ValueError, match="one line at a time"):
            model.get_sentence_vector("two\nlines")


@pytest.mark.parametrize("arg", [dict(loss="ova"), dict(minCountLabel=2), dict(lrUpdateRate=50),
                                 dict(autotuneModelSize="2M")])
def test_arguments_embedkit_cannot_honour_are_refused(data, arg):
    train, _ = data
    name = next(iter(arg))
    with pytest.raises(ValueError, match=name if name != "minCountLabel" else "label"):
        embedkit.train_supervised(train, verbose=0, **arg)


def test_pretrained_vectors_give_fasttexts_vocabulary_and_start(fasttext, data, tmp_path):
    # A learning rate too small to move anything: the trained rows are the start.
    train, _ = data
    vec = tmp_path / "p.vec"
    vec.write_text("3 4\nkey0_1 0.5 0.25 -1 2\nnever_seen 1 2 3 4\ncommon3 0.125 0 0 -8\n")
    args = dict(dim=4, epoch=1, lr=1e-30, thread=1, verbose=0, pretrainedVectors=str(vec))
    ours = embedkit.train_supervised(input=train, **args)
    theirs = fasttext.train_supervised(input=train, **args)
    ours_words, ours_freq = ours.get_words(include_freq=True)
    theirs_words, theirs_freq = theirs.get_words(include_freq=True)
    assert dict(zip(ours_words, ours_freq)) == dict(zip(theirs_words, theirs_freq))
    assert "never_seen" in ours_words
    for line in vec.read_text().splitlines()[1:]:
        word, *values = line.split()
        want = np.array(values, dtype=np.float32)
        np.testing.assert_array_equal(ours.get_word_vector(word), want)
        np.testing.assert_array_equal(theirs.get_word_vector(word), want)
    with pytest.raises(ValueError, match="dimension 4 do not match the model's dim 5"):
        embedkit.train_supervised(input=train, **dict(args, dim=5))
    with pytest.raises(FileNotFoundError):
        embedkit.train_supervised(input=train, **dict(args, pretrainedVectors=str(tmp_path / "missing.vec")))


def test_bad_values_and_unknown_arguments(data):
    train, _ = data
    for arg in (dict(dim=0), dict(epoch=0), dict(lr=-1.0), dict(thread=0), dict(minCount=0),
                dict(wordNgrams=2, bucket=0), dict(loss="nope"), dict(maxn=6),
                dict(minn=4, maxn=3), dict(minn=3, maxn=6, bucket=0), dict(maxn=-1)):
        with pytest.raises(ValueError):
            embedkit.train_supervised(train, verbose=0, **arg)
    with pytest.raises(TypeError, match="unexpected argument 'epochs'"):
        embedkit.train_supervised(train, epochs=5)
    with pytest.raises(TypeError, match="multiple values"):
        embedkit.train_supervised(train, 0.1, lr=0.2)
    with pytest.raises(TypeError):
        embedkit.train_supervised(train, dim=1.5)


# -- threads and Ctrl-C -----------------------------------------------------------------------


def test_training_releases_the_gil(tmp_path):
    path = write(tmp_path / "big.txt", keyword_lines(20000, 5))
    ticks, elapsed = ticks_during(
        lambda: embedkit.train_supervised(path, epoch=5, dim=32, thread=1, verbose=0))
    # Held GIL: no tick while training. Released: about one a millisecond (gil_probe.py).
    assert elapsed > 0.1 and ticks >= elapsed / 0.02


CTRL_C = textwrap.dedent("""
    import sys
    import embedkit
    train, out = sys.argv[1], sys.argv[2]
    print("training", flush=True)
    model = embedkit.train_supervised(train, epoch=100000, thread=2, verbose=0)
    model.save_model(out)
""")


def test_ctrl_c_raises_keyboard_interrupt_promptly_and_writes_nothing(tmp_path):
    train = write(tmp_path / "big.txt", keyword_lines(20000, 6))
    out = tmp_path / "model.bin"
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C, train, str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "training"
    time.sleep(1.0)  # well inside training, which would take hours
    assert proc.poll() is None
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.perf_counter() - sent < 5
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err
    assert "_embedkit.TextClassifier.train(" in err  # raised inside training, not before
    assert not out.exists()
    assert os.listdir(tmp_path) == ["big.txt"]


def test_autotune_searches_what_the_call_leaves_open(data, tmp_path):
    # A bad start the search must leave (epoch and lr are searched), a dimension it must keep.
    train, test = data
    valid = write(tmp_path / "valid.txt", keyword_lines(150, 3))
    model = embedkit.train_supervised(input=train, autotuneValidationFile=valid,
                                      autotuneDuration=5, dim=8, bucket=10000, thread=1,
                                      verbose=0)
    assert model.get_dimension() == 8
    n, precision, _ = model.test(test)
    assert n == 200 and precision > 0.9


def test_autotune_refuses_bad_input(data, tmp_path):
    train, _ = data
    valid = write(tmp_path / "valid.txt", ["__label__never common1 common2"])
    with pytest.raises(ValueError, match="'never'"):
        embedkit.train_supervised(input=train, autotuneValidationFile=valid, verbose=0)
    with pytest.raises(FileNotFoundError):
        embedkit.train_supervised(input=train, autotuneValidationFile=str(tmp_path / "none"),
                                  verbose=0)
    for duration in (0, -1):
        with pytest.raises(ValueError, match="autotuneDuration"):
            embedkit.train_supervised(input=train, autotuneValidationFile=valid,
                                      autotuneDuration=duration, verbose=0)
    with pytest.raises(ValueError, match="metric"):
        embedkit.train_supervised(input=train, autotuneValidationFile=valid,
                                  autotuneMetric="f2", verbose=0)
