"""What every answer carries: the CSP with a per-request nonce, HSTS behind HTTPS, no caching of
anything a login was needed for."""

from __future__ import annotations

import re

from fastapi import Request

from ..config import ServiceSettings

#: On every response: no type sniffing, frames only from this site (the map page frames its own map).
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
                    "Referrer-Policy": "same-origin"}
_INLINE_SCRIPT = re.compile(r"<script(?=[\s>])")


def security_headers(request: Request, settings: ServiceSettings) -> dict[str, str]:
    """Scripts only from this site (inline ones with the request's nonce)."""
    nonce = request.state.csp_nonce
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")}
    if settings.cookie_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if getattr(request.state, "principal", None) is not None:
        headers["Cache-Control"] = "no-store"
    return headers


def with_nonce(html: str, nonce: str) -> str:
    """Mark a generated page's own inline scripts (folium writes them) with the request's CSP nonce."""
    return _INLINE_SCRIPT.sub(f'<script nonce="{nonce}"', html)
