"""The admin UI's template and static files, shipped as package data of ``cronkeeper.admin_ui``."""
