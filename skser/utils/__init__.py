"""Utilities for developers and tests: discovery of skser's public estimators."""

# SPDX-License-Identifier: BSD-3-Clause

from ._discovery import all_estimators

__all__ = ["all_estimators"]
