"""The domain's classes are mapped onto their tables when the service layer is imported (as in
the service); an object made before that would not survive the mapping, so it happens first."""

import pactra_signing.adapters.orm  # noqa: F401 - maps the domain's classes before any test makes one
