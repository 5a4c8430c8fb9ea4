"""Write deploy/nginx/pactra.conf: the edge `make run` uses (pactra_devtools.edge.render), for
the Compose network: nginx listens on every address of its container at PACTRA_PUBLIC_PORT and
forwards to the `gateway` container; it runs unprivileged with its temporary files in /tmp.

    .venv/bin/python deploy/nginx/render.py

tests/deploy/test_compose.py fails while the file differs from what this writes.
"""

from pathlib import Path

from pactra_devtools.edge import render
from pactra_platform.settings import Settings

TARGET = Path(__file__).with_name("pactra.conf")


def rendered() -> str:
    # The settings' defaults, not this shell's PACTRA_* variables: the file is the same
    # wherever it is written.
    defaults = {name: field.get_default(call_default_factory=True)
                for name, field in Settings.model_fields.items()}
    settings = Settings.model_construct(**{**defaults, "gateway_host": "gateway"})
    body = render(settings, Path("/tmp"), Path("/tmp/nginx.pid"),  # noqa: S108 - the container's own tmpfs
                  listen_host="0.0.0.0")  # noqa: S104 - nginx is the container's public face
    _, _, rest = body.partition("\n")
    return ("# Written by deploy/nginx/render.py from pactra_devtools/edge.py: edit that, then run "
            "the script.\n" + rest)


if __name__ == "__main__":
    TARGET.write_text(rendered())
    print(f"wrote {TARGET}")
