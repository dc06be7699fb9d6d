"""Timing harness of the Python benchmarks: interleaved samples, medians, the machine's state.

The machine these benchmarks run on is shared and noisy, so two implementations are never timed
in separate phases: each sample times a few steps of every side back to back, the order
alternating from one sample to the next, and the ratio is taken per sample (both sides saw the
same load) before its median is reported.
"""

import json
import mmap
import os
import platform
import statistics
import subprocess
import time


def interleaved(sides, samples, per_sample, warmup):
    """Times `sides` ({name: step()}) in `samples` rounds of `per_sample` calls each.

    Every side first runs `warmup` untimed calls. Round r runs the sides in order when r is even
    and in reverse order when r is odd. Returns {name: [seconds per call, one per round]}.
    """
    for step in sides.values():
        for _ in range(warmup):
            step()
    names = list(sides)
    seconds = {name: [] for name in names}
    for r in range(samples):
        for name in (names if r % 2 == 0 else names[::-1]):
            step = sides[name]
            start = time.perf_counter()
            for _ in range(per_sample):
                step()
            seconds[name].append((time.perf_counter() - start) / per_sample)
    return seconds


def huge_page_clone(tensor):
    """A float32 copy of `tensor` in anonymous memory advised onto transparent huge pages
    (madvise(MADV_HUGEPAGE), 2 MiB aligned): where embedkit puts tables of 32 MiB and more, and
    torch's allocator does not. The control that tells the page size from the kernels."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415

    huge = 2 << 20
    nbytes = tensor.numel() * 4
    buf = mmap.mmap(-1, nbytes + huge, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buf.madvise(mmap.MADV_HUGEPAGE)
    raw = np.frombuffer(buf, dtype=np.uint8)  # keeps `buf` alive
    start = (-raw.ctypes.data) % huge
    out = torch.from_numpy(raw[start:start + nbytes].view(np.float32).reshape(tensor.shape))
    out.copy_(tensor)
    return out


def summary(values):
    """Median, min and max of a list of numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def ratios(baseline, contender):
    """Per-round ratios baseline / contender of two interleaved lists of times (> 1: the
    contender is faster)."""
    return [b / c for b, c in zip(baseline, contender)]


def set_threads(threads):
    """The same thread count for both sides: torch.set_num_threads and embedkit.set_num_threads
    (its kernels' pool). Returns what each reports back."""
    import torch  # noqa: PLC0415
    import embedkit  # noqa: PLC0415
    torch.set_num_threads(threads)
    embedkit.set_num_threads(threads)
    return {"torch": torch.get_num_threads(), "embedkit": embedkit.get_num_threads()}


def load_average():
    return list(os.getloadavg())


def machine():
    """What the figures depend on: the CPU, the libraries, the commit."""
    info = {"python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU family", "L3 cache"):
                info[key.strip()] = value.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True, check=True,
                                        cwd=os.path.dirname(os.path.abspath(__file__))
                                        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    import torch  # noqa: PLC0415 (the benchmarks import it anyway; kept local for clarity)
    info["torch"] = torch.__version__
    try:
        import embedkit  # noqa: PLC0415
        info["embedkit"] = embedkit.__version__
    except ImportError:
        info["embedkit"] = None
    info["blas"] = loaded_blas()
    info["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY")
    info["mem_available_gib"] = available_memory_gib()
    return info


def loaded_blas():
    """The BLAS library this process loaded (torch's dense layers run on it): Debian's default
    /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 is the unoptimised reference BLAS."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return None
    names = sorted(os.path.basename(p) for p in paths)
    if any("openblas" in n for n in names):
        return "OpenBLAS (" + ", ".join(n for n in names if "openblas" in n) + ")"
    return ", ".join(names) + (" (reference BLAS)" if names == ["libblas.so.3.11.0"] or any(
        "/blas/" in p for p in paths) else "")


def available_memory_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Starts a new peak for peak_rss_gib() (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_gib():
    """This process's peak resident memory (VmHWM)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def command_line(argv):
    """The command as run, from the repository's root, with paths relative to it (results are
    pasted into BENCHMARKS.md; a machine's own paths do not belong there)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = os.path.relpath(os.path.abspath(argv[0]), root)
    return " ".join([script] + [os.path.relpath(a, root) if os.path.isabs(a) else a
                                for a in argv[1:]])


def write_json(path, data):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(data, f, indent=1)


def write_text(path, text):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def markdown_table(header, rows, align=None):
    """A GitHub Markdown table; `align` holds '---' or '---:' per column."""
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
