"""Charts saved two at a time (forecast.output.chart_saver): the same files as saving them here,
every file on disk when the block ends, and a failed second process costs nothing but a notice."""

from __future__ import annotations

import logging
import time

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def _figure(n: int):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    ax.plot(range(n + 3), [i * i for i in range(n + 3)], label=f"figure {n}")
    ax.set_title(f"Figure number {n}")
    ax.legend()
    return fig


def _ready(saver, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not saver._idle():
        assert time.monotonic() < end, "the saver process never became ready"
        time.sleep(0.05)


def test_figures_are_saved_side_by_side_with_the_same_bytes(tmp_path):
    import matplotlib.pyplot as plt

    from forecast.output import chart_saver
    from forecast.output.style import save_figure

    for n in range(3):
        save_figure(_figure(n), tmp_path / "here" / f"f{n}", formats=("png",))
    plt.close("all")
    with chart_saver.background_saving():
        saver = chart_saver._SAVER[-1]
        _ready(saver)
        for n in range(3):
            chart_saver.save_figure_soon(_figure(n), tmp_path / "soon" / f"f{n}")
        handed = len(saver.handed)
    assert 1 <= handed < 3  # the idle process took the first, this one saved the next while it was busy
    for n in range(3):
        assert (tmp_path / "soon" / f"f{n}.png").read_bytes() == (tmp_path / "here" / f"f{n}.png").read_bytes()
        assert (tmp_path / "soon" / f"f{n}.svg").stat().st_size > 0 and (tmp_path / "soon" / f"f{n}.pdf").read_bytes()[:5] == b"%PDF-"
    assert plt.get_fignums() == [] and saver.proc.poll() == 0


def test_a_figure_the_process_did_not_save_is_saved_here_with_a_notice(tmp_path, caplog):
    import matplotlib.pyplot as plt

    from forecast.output import chart_saver

    with caplog.at_level(logging.WARNING, logger="forecast"), chart_saver.background_saving():
        saver = chart_saver._SAVER[-1]
        _ready(saver)
        chart_saver.save_figure_soon(_figure(1), tmp_path / "f1")
        assert len(saver.handed) == 1
        saver.proc.kill()  # long before it could save three formats and answer
        saver.proc.wait()
    assert (tmp_path / "f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "f1.pdf").exists()
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 1 and "saving here" in notes[0]
    assert plt.get_fignums() == []


def test_outside_the_block_a_figure_is_saved_at_once_and_closed(tmp_path):
    import matplotlib.pyplot as plt

    from forecast.output import chart_saver

    fig = _figure(2)
    chart_saver.save_figure_soon(fig, tmp_path / "now", formats=("png",))
    assert (tmp_path / "now.png").exists() and not plt.fignum_exists(fig.number)


def test_an_error_in_the_block_stops_the_process(tmp_path):
    from forecast.output import chart_saver

    with pytest.raises(KeyError), chart_saver.background_saving():
        saver = chart_saver._SAVER[-1]
        raise KeyError("the command failed")
    assert saver.proc.poll() is not None and chart_saver._SAVER == []
