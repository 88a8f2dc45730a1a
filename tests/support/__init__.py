"""Helpers that tests import (the product's processes, HTTP clients); fixtures stay in conftest.py."""
