"""The admin API: a Litestar app (``api.app.create_app``) and the ``api``/``token`` commands (``api.cli``)."""
