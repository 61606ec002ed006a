"""The chaos suite: the portal run as in production, broken on purpose, checked for lost money and work (issue 10)."""
