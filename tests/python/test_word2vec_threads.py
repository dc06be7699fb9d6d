"""embedkit.Word2Vec releases the GIL while it trains, and Ctrl-C (SIGINT) stops a long training
promptly with KeyboardInterrupt, leaving no output and no temporary corpus behind."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import embedkit
from word2vec_corpus import groups_corpus, write_corpus


def train_beside_a_python_thread(corpus, epochs):
    """Trains while another Python thread does ~0.2 s of pure-Python work, started once
    training is under way; returns the model, when that work finished and when training
    returned."""
    started = threading.Event()
    finished = {}

    def pure_python_work():
        started.wait()
        total = 0
        for i in range(3_000_000):
            total += i
        finished["at"] = time.perf_counter()

    def on_progress(p):
        started.set()

    worker = threading.Thread(target=pure_python_work)
    worker.start()
    try:
        model = embedkit.Word2Vec(corpus_file=corpus, vector_size=50, min_count=1, workers=1,
                                  epochs=epochs, progress=on_progress)
    finally:
        started.set()
        worker.join()
    return model, finished["at"], time.perf_counter()


def test_python_threads_run_while_it_trains(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", groups_corpus(20000, groups=20, seed=2))
    # Long enough to show something, on a fast machine too: four times the epochs if not.
    for epochs in (10, 40, 160):
        model, work_done, training_end = train_beside_a_python_thread(corpus, epochs)
        if model.total_train_time > 0.5:
            break
    assert model.total_train_time > 0.5, "training too short to show anything"
    # With the GIL held by training, the work could only finish once training had returned.
    assert work_done < training_end - 0.5 * model.total_train_time


# Trains on a corpus far too big to finish; prints "training" at the first progress report,
# then writes `out` only if training returns.
SCRIPT = textwrap.dedent("""
    import sys
    import embedkit
    from word2vec_corpus import groups_corpus
    corpus, out, mode = sys.argv[1:]
    def on_progress(p):
        print("training", flush=True)
    if mode == "sentences":
        sentences = (s for _ in range(50) for s in groups_corpus(20000, seed=3))
        model = embedkit.Word2Vec(sentences, vector_size=50, min_count=1, workers=2,
                                  epochs=50, progress=on_progress)
    else:
        model = embedkit.Word2Vec(corpus_file=corpus, vector_size=50, min_count=1, workers=2,
                                  epochs=1000, progress=on_progress)
    model.save(out)
""")


@pytest.mark.parametrize("mode", ["corpus_file", "sentences"])
def test_ctrl_c_stops_training_with_keyboard_interrupt(tmp_path, mode):
    corpus = write_corpus(tmp_path / "c.txt", groups_corpus(20000, seed=3))
    out = tmp_path / "model.w2v"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp),
               PYTHONPATH=os.pathsep.join([os.path.dirname(__file__),
                                           os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(corpus), str(out), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline() == "training\n", proc.stderr.read()
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        waited = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # An uncaught KeyboardInterrupt ends Python by SIGINT (since 3.8), so the shell sees Ctrl-C.
    assert proc.returncode == -signal.SIGINT, err
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert waited < 2.0, f"training stopped {waited:.2f} s after SIGINT"
    assert not out.exists()
    assert list(tmp.iterdir()) == [], "the temporary corpus was left behind"
