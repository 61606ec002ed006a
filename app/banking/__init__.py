"""Bank transfers: reading bank statements (``statements``); matching and storage build on it."""
