"""Errors of the event index, in the :class:`~civicdao.errors.CivicDAOError` hierarchy."""

from __future__ import annotations

from civicdao.errors import CivicDAOError, ConfigError, NetworkError

__all__ = ["IndexMismatchError", "IndexStoreError", "IndexSyncError"]


class IndexStoreError(CivicDAOError):
    """The index database cannot be opened, read or written."""


class IndexMismatchError(ConfigError):
    """The index database was built for another chain or another deployment."""


class IndexSyncError(NetworkError):
    """The node refused or failed a request the sync needs (after adapting the range down to one block)."""
