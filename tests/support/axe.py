"""Accessibility checks in the browser tests: axe-core (npm, `make install` puts it in
``admin_ui/node_modules``) injected into the page, WCAG 2 A and AA rules.

``axe_violations(page)`` returns the violations as short strings (rule id, impact and the
first offending elements), so an assertion failure says what to fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "admin_ui" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[str]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make install runs `npm ci` in admin_ui/)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
            return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} -- ` +
                v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
        }"""
    )
    return list(found)


def no_horizontal_scroll(page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
