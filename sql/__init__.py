"""The numbered migrations (``migrations/*.sql``), shipped as package data of ``cronkeeper.sql``."""
