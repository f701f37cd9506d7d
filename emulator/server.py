"""Run the emulator on a loopback port in a background thread (sandbox, demo, tests)."""

import logging
import socket
import threading
import time

import uvicorn

from emulator.app import create_app
from emulator.state import Workspace

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 10.0


class EmulatorServer:
    """A uvicorn server for one workspace on 127.0.0.1; use as a context manager."""

    def __init__(self, workspace: Workspace, port: int = 0, host: str = "127.0.0.1") -> None:
        self.workspace = workspace
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(create_app(workspace), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"emulator-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "EmulatorServer":
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"Emulator failed to start on {self.url}")
            time.sleep(0.01)
        logger.info("Emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self) -> None:
        self._server.run(sockets=[self._socket])
