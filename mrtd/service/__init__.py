"""The HTTP face of mrtd: a FastAPI app over the use cases of `mrtd.issuance.office`.

`app.create_app` builds it: the v1 API router (`api`), problem+json errors (`problems`), bearer-token
authentication (`auth`), Prometheus metrics (`metrics`), `/healthz`. More routers (server-rendered pages)
are added with `app.include_router` in the same way as `api.router`.
"""
