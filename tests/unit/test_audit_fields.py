"""``Access.audit`` logs any field name, even one LogRecord uses itself."""

from __future__ import annotations

import logging

from api.auth import Access
from cronkeeper.tokens import ApiToken


def test_a_field_named_like_a_logrecord_attribute_is_prefixed(caplog):
    caplog.set_level(logging.INFO, logger="cronkeeper.api")
    token = ApiToken.__new__(ApiToken)
    object.__setattr__(token, "id", 7)
    Access(token).audit("thing_done", created=3, name="x", job_id="j")
    (record,) = [r for r in caplog.records if r.getMessage() == "thing_done"]
    assert (record.audit_created, record.audit_name, record.job_id, record.token_id) == ("3", "x", "j", 7)
