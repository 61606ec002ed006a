"""Checks for pages in the browser: axe-core (vendored), a dependency-free accessibility
smoke check, and sideways scrolling on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


IMPACTS = ("minor", "moderate", "serious", "critical")


def run_axe(page: Any, *, min_impact: str = "serious", every_impact: bool = False) -> list[dict[str, Any]]:
    """Run axe-core in the page (evaluated through the DevTools protocol, so our CSP
    does not block it) and return its violations of ``min_impact`` or worse (serious and
    critical by default; ``every_impact=True`` is the same as ``min_impact="minor"``)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    if every_impact:
        min_impact = "minor"
    wanted = IMPACTS[IMPACTS.index(min_impact):]
    return [v for v in result if v["impact"] in wanted or v["impact"] is None]


def a11y_smoke(page: Any) -> list[str]:
    """Checks that need no library: labels, one h1, lang, alt texts."""
    return page.evaluate(
        """() => {
            const problems = [];
            if (!document.documentElement.lang) problems.push('html has no lang');
            const h1 = document.querySelectorAll('h1').length;
            if (h1 !== 1) problems.push(`${h1} h1 elements`);
            for (const el of document.querySelectorAll('input, select, textarea')) {
                if (el.type === 'hidden') continue;
                const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')
                    || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
                if (!labelled) problems.push(`unlabelled ${el.tagName} ${el.name}`);
            }
            for (const img of document.querySelectorAll('img')) {
                if (!img.hasAttribute('alt')) problems.push(`img without alt: ${img.src}`);
            }
            return problems;
        }"""
    )


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0 = no sideways scroll)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
