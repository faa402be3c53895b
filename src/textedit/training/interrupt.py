"""Stopping a training loop at the end of a step: Ctrl-C, SIGTERM and SIGHUP.

A terminal's Ctrl-C, a scheduler ending a job (SLURM, ``docker stop``, Kubernetes: SIGTERM)
and a closed terminal (SIGHUP) ask a run to stop; :func:`stop_at_step_end` turns the first of
them into a request the loop reads after its step (it then writes a checkpoint), and lets a
second one stop the process at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["TrainingInterrupted", "stop_at_step_end", "terminate_as_interrupt"]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, SIGHUP) stopped a training loop (``Trainer.train``,
    ``train_damsm``) at the end of a step, after a checkpoint there.

    Attributes:
        step: the step the run stopped at.
        checkpointed: whether a checkpoint holds that step (not when a new run stopped before
            its first step: nothing was trained, and the same command starts it again).
    """

    def __init__(self, step: int, checkpointed: bool = True):
        super().__init__(f"stopped at step {step}" + (" (checkpointed)" if checkpointed else " (nothing trained yet)"))
        self.step = step
        self.checkpointed = checkpointed


def _stop_signals() -> dict[int, Any]:
    """The signals that ask a run to stop, each with its default handler: SIGINT, SIGTERM
    and, where the system has it, SIGHUP."""
    defaults: dict[int, Any] = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    if hasattr(signal, "SIGHUP"):
        defaults[signal.SIGHUP] = signal.SIG_DFL
    return defaults


@contextlib.contextmanager
def stop_at_step_end(request_stop: Callable[[], None], enabled: bool = True) -> Iterator[None]:
    """Within the block, the first SIGINT, SIGTERM or SIGHUP calls ``request_stop()`` and
    says so on stderr; the signal's default action comes back for a second one. Only in the
    main thread (signal handlers live there), only for signals whose handler is still the
    default one (a caller's own handler is left alone), and not at all when ``enabled`` is
    False (a run of several processes, which must stop together)."""
    defaults = _stop_signals()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = [sig for sig, default in defaults.items() if signal.getsignal(sig) is default]
    owner = os.getpid()

    def first(signum: int, frame: Any) -> None:
        if os.getpid() != owner:  # a forked worker process: the main process stops it
            return
        request_stop()
        for sig in caught:
            signal.signal(sig, defaults[sig])
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(
            f"\ninterrupted ({name}): finishing this step and writing a checkpoint ({name} again to stop now)",
            file=sys.stderr,
            flush=True,
        )

    for sig in caught:
        signal.signal(sig, first)
    try:
        yield
    finally:
        for sig in caught:
            signal.signal(sig, defaults[sig])


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``KeyboardInterrupt`` as Ctrl-C does, so
    that a job stopped by a scheduler or a closed terminal cleans up (temporary folders,
    resumable progress) as an interrupted one does. Main thread only; a caller's own
    handlers are left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = [
        sig for sig, default in _stop_signals().items()
        if sig != signal.SIGINT and signal.getsignal(sig) is default
    ]
    owner = os.getpid()

    def interrupt(signum: int, frame: Any) -> None:
        if os.getpid() != owner:  # a forked worker: the default action (its pool ends it so)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in caught:
        signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig in caught:
            signal.signal(sig, signal.SIG_DFL)
