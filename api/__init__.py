"""The admin API: a Litestar app (``cronkeeper.api.app.create_app``) and the ``cronkeeper api`` command (``cronkeeper.api.cli``)."""
