"""Training across MPI processes from Python: the ``comm=`` argument of ``Word2Vec``,
``FastText`` and ``Recommender.fit`` (docs/python.md, "Training across processes").

``comm`` is an mpi4py communicator (``mpi4py.MPI.COMM_WORLD`` or one of its sub-communicators);
the compiled module takes its Fortran handle (``comm.py2f()``) and turns it back into the C
handle with ``MPI_Comm_f2c`` (docs/design.md says why not mpi4py's C API). mpi4py is imported
only when a ``comm`` is given.
"""

from embedkit import _embedkit

__all__ = []


def communicator(comm, who):
    """``comm`` when it is None or an mpi4py intracommunicator that this embedkit can train
    over: TypeError for another object, ValueError for ``COMM_NULL``, RuntimeError when embedkit
    was built without MPI. Not collective (every rank checks its own)."""
    if comm is None:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        MPI = None
    if MPI is None or not isinstance(comm, MPI.Comm):
        raise TypeError(f"{who}: comm must be an mpi4py communicator (mpi4py.MPI.COMM_WORLD or "
                        f"one made from it), got {type(comm).__name__}"
                        + ("" if MPI is not None else " (mpi4py is not installed: "
                           "apt-get install python3-mpi4py)"))
    if comm == MPI.COMM_NULL:
        raise ValueError(f"{who}: comm is MPI.COMM_NULL")
    if not isinstance(comm, MPI.Intracomm):
        raise TypeError(f"{who}: comm must be an intracommunicator, got "
                        f"{type(comm).__name__}")
    if not _embedkit.has_mpi:
        raise RuntimeError(f"{who}: comm= needs embedkit built with MPI (cmake "
                           "-DEMBEDKIT_MPI=ON, with libopenmpi-dev); this embedkit was built "
                           "without it")
    return comm


class agreement:
    """``with agreement(comm): checks``: the argument checks of a collective call, run on every
    rank. Without a comm, an error goes out as it is. With one, the ranks then compare (one
    ``allgather``): when the checks failed on any rank, every rank raises the lowest failing
    rank's error type with its message prefixed by ``rank <r>: `` (as embedkit's C++ collectives
    do), so that no rank goes on into training and waits there for ever for one that stopped."""

    def __init__(self, comm):
        self.comm = comm

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if self.comm is None or (kind is not None and not issubclass(kind, Exception)):
            return False  # no comm; or KeyboardInterrupt and the like: as they are
        # The error's nearest built-in type travels (any rank can unpickle it), with its text.
        sent = None
        if error is not None:
            builtin = next(k for k in kind.__mro__ if k.__module__ == "builtins")
            sent = (builtin, str(error))
        failures = self.comm.allgather(sent)
        for rank, failure in enumerate(failures):
            if failure is None:
                continue
            failed_kind, message = failure
            try:
                agreed = failed_kind(f"rank {rank}: {message}")
            except Exception:  # an exception type that does not take a message
                agreed = RuntimeError(f"rank {rank}: {failed_kind.__name__}: {message}")
            raise agreed from error
        return False
