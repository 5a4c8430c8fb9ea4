"""The offline engine: rules and a small linear model shipped in this package, no network."""
