"""Saving a run's charts two at a time: this process and a second one.

Saving is most of a chart's cost: each format (PNG, SVG, PDF) draws the figure again, and a PDF
subsets its fonts; matplotlib holds the interpreter lock for nearly all of it, so threads would not
help. Inside :func:`background_saving` (the CLI wraps each fitting command in one), a second Python
process starts at once and imports matplotlib while the model is fitted; :func:`save_figure_soon`
then hands it each figure it finds idle (as a pickle: the copy draws the same pixels) and saves
the others here, so a run's two charts are saved side by side. It is a fresh interpreter started
with ``subprocess`` (not a fork of this one, which is unsafe beside the sampler's threads, and not
``multiprocessing``, which would import the caller's main script again). When the block ends, every
figure is saved: one the process failed to save (an error, a crash, no answer in :data:`WAIT`
seconds) is saved here after a one-line notice.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from forecast.output.style import FORMATS, save_figure

WAIT = 300.0
"""Seconds to wait for the saver process to answer before saving its figures here."""

_SAVER: list = []
"""The background saver of the innermost :func:`background_saving` block, if any."""


class _Saver:
    """A second Python process that saves pickled figures, and the figures handed to it (in order)."""

    def __init__(self):
        import os
        import subprocess
        import sys

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "MPLBACKEND": "Agg"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from forecast.output.chart_saver import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        self.ready, self.handed, self.answered = False, [], 0

    def _idle(self) -> bool:
        """Whether the process has imported what it needs and saved everything handed to it so far."""
        import select

        while not self.ready or self.answered < len(self.handed):
            if not select.select([self.proc.stdout], [], [], 0)[0]:
                return False
            self._answer()
        return True

    def _answer(self, timeout: float = 0.0):
        import pickle
        import select

        if timeout and not select.select([self.proc.stdout], [], [], timeout)[0]:
            raise TimeoutError("the chart saver did not answer")
        reply = pickle.load(self.proc.stdout)
        if not self.ready:
            self.ready = True
            return None
        self.answered += 1
        return reply

    def offer(self, fig, stem: Path, formats) -> bool:
        """Hand ``fig`` to the process if it is idle; whether it took it."""
        import pickle

        try:
            if self.proc.poll() is not None or not self._idle():
                return False
            data = pickle.dumps((pickle.dumps(fig), str(stem), tuple(formats)))
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except Exception:  # noqa: BLE001 - a figure that cannot be pickled, or a broken pipe: save it here
            return False
        self.handed.append((fig, stem, formats))
        return True

    def finish(self, *, wait: bool) -> None:
        """Wait for the handed figures (saving here those the process did not save), close them, stop it."""
        import matplotlib.pyplot as plt

        try:
            if wait:
                stopped = None
                for i, (fig, stem, formats) in enumerate(self.handed):
                    failed = stopped
                    try:
                        while not stopped and self.answered <= i:
                            failed = self._answer(timeout=WAIT)
                    except Exception as exc:  # noqa: BLE001 - the process died or hangs
                        failed = stopped = type(exc).__name__
                    if failed:  # never lose a chart: save it in this process
                        logging.getLogger("forecast").warning(f"forecast: background chart saving failed ({failed}); saving here")
                        save_figure(fig, stem, formats)
        finally:
            for fig, _, _ in self.handed:
                plt.close(fig)
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            if not wait or self.proc.poll() is None and self.answered < len(self.handed):
                self.proc.kill()
            self.proc.wait()


def _serve() -> None:
    """The saver process: import what saving needs, say so, then save each pickled figure sent on stdin."""
    import pickle
    import sys

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.backends.backend_pdf  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.pyplot as plt
    import PIL.PngImagePlugin  # noqa: F401

    out = sys.stdout.buffer
    pickle.dump("ready", out)
    out.flush()
    while True:
        try:
            data, stem, formats = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        try:
            fig = pickle.loads(data)
            save_figure(fig, stem, formats)
            plt.close(fig)
            reply = None
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which saves the figure itself
            reply = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        pickle.dump(reply, out)
        out.flush()


@contextlib.contextmanager
def background_saving():
    """A block in which :func:`save_figure_soon` may save figures in a second process; at its end, all are saved."""
    try:
        saver = _Saver()
    except OSError:  # no second process: every figure is saved here
        yield
        return
    _SAVER.append(saver)
    try:
        yield
    except BaseException:
        _SAVER.remove(saver)
        saver.finish(wait=False)
        raise
    _SAVER.remove(saver)
    saver.finish(wait=True)


def save_figure_soon(fig, stem: str | Path, formats=FORMATS) -> None:
    """Save ``fig`` as :func:`save_figure` does and close it: in the background process when inside
    :func:`background_saving` and that process is idle (the files exist when the block ends), else now."""
    import matplotlib.pyplot as plt

    stem = Path(stem)
    if _SAVER and _SAVER[-1].offer(fig, stem, formats):
        return
    save_figure(fig, stem, formats)
    plt.close(fig)
