"""Fixtures for the identity tests: the portal with a loopback OpenID provider and SAML IdP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.identity.environment import Env, running_identity_env


@pytest.fixture
def identity_env(db_url: str, tmp_path: Path) -> Iterator[Env]:
    """The portal with Bank iD and NIA, the loopback OpenID provider and SAML IdP."""
    with running_identity_env(db_url, tmp_path) as env:
        yield env


@pytest.fixture
def oidc_env(db_url: str, tmp_path: Path) -> Iterator[Env]:
    """The portal with Bank iD only and the loopback OpenID provider (faster)."""
    with running_identity_env(db_url, tmp_path, saml=False) as env:
        yield env
