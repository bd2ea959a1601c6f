"""Every request and response body of the admin API (msgspec structs), one module per resource.

Request structs reject unknown fields. Optional inputs default to ``UNSET`` so
that the defaults live in one place (``cronkeeper.jobs``), not here; ``null``
counts as "not given" except where it means "clear" (a job's ``name``).
Times go out in UTC. Import a struct from its resource's module
(``cronkeeper.api.schemas.jobs``, ``.runs``, ``.brands``, ``.customers``,
``.preview``, ``.system``); shared pieces are in ``.common``.
"""
