"""The one fact frontend hooks read per call: the recorder capturing now (a list holding it,
empty when none), so ``if capturing:`` costs a global lookup and a truth test."""
from __future__ import annotations

capturing: list = []
