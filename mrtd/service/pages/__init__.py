"""The web pages `mrtd serve` serves beside the API: the office console (sign-in, and the pages of clerks,
approvers, supervisors, production and auditors) and the public seal verifier, server-rendered from Jinja2
templates in English, French, Spanish and Arabic."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """The pages' routers, for `create_app(office, routers=...)`."""
    from mrtd.service.pages import console, verifier

    return [console.router, verifier.router]
