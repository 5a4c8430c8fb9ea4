# Temporary (removed after the run): test_readme against a README with the account lines.
from pathlib import Path

from . import test_readme


def test_readme_with_confirm_step(stack, monkeypatch):
    original = Path.read_text

    def read_text(self, *args, **kwargs):
        if self.name == "README.md":
            return original(Path("/tmp/README.account.md"), *args, **kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    test_readme.test_the_readme_try_it_runs_as_written(stack)
