"""Marker for strings translated later, at render time (extracted by ``scripts/i18n`` via ``-k N_``)."""


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Return ``message`` unchanged; babel extracts it into the catalogue."""
    return message
