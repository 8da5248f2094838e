"""The HTTP data APIs a person's browser reads: a real TensorBoard server, and optuna-dashboard's WSGI app."""
from __future__ import annotations

import contextlib
import io
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator


def wsgi_get(app, path: str) -> tuple[str, dict]:
    """One GET through a WSGI app (optuna-dashboard's), as a browser would send it."""
    status: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "8080", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO()}
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return status[0], json.loads(body)


class TensorBoard:
    """Client of a running TensorBoard server's data API (``/data/...``)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


@contextlib.contextmanager
def tensorboard_server(logdir: str | Path, runs: int, timeout: float = 120.0) -> Iterator[TensorBoard]:
    """``tensorboard --logdir`` on a free local port, once it lists ``runs`` runs; stopped afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
                             "--port", str(port), "--reload_interval", "1", "--load_fast", "false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tb = TensorBoard(f"http://127.0.0.1:{port}")
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"tensorboard exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                if len(tb.get("/data/runs")) >= runs:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise TimeoutError(f"tensorboard on port {port} did not list {runs} runs of {logdir} in {timeout:.0f} s")
            time.sleep(0.5)
        yield tb
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
