"""The web app served at `/`: server-rendered pages (Jinja2) with vendored htmx.

`mount_web(app)` adds its routes, its static files and its security headers to the
FastAPI app; pages read the same services as the API and show each user their own data.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from .errors import WebServerErrorMiddleware, install_web_error_pages
from .headers import WebHeadersMiddleware
from .pages import HERE, render, templates
from .routes import auth, chat, imports, jobs, leads, queues
from .sessions import CsrfFailed, SignInRequired, remember_next

__all__ = ["mount_web"]


def mount_web(app: FastAPI) -> None:
    """Serve the web app from `app` (call once, before the app starts)."""
    for module in (auth, imports, jobs, leads, queues, chat):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(WebServerErrorMiddleware)  # inside the headers: the page gets them
    app.add_middleware(WebHeadersMiddleware)
    for name in templates.env.list_templates():  # compiled now, not in a first request
        templates.env.get_template(name)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, _: SignInRequired) -> Response:
        response: Response
        if request.headers.get("HX-Request"):  # htmx follows this header, not a 303
            response = Response(status_code=401, headers={"HX-Redirect": "/signin"})
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            target = current.path + (f"?{current.query}" if current.query else "")
        else:
            response = RedirectResponse("/signin", status_code=303)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method == "GET" or request.headers.get("HX-Request"):
            remember_next(response, request, target)  # signing in again returns there
        return response

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(request, "_message.html", {"message": str(exc)}, None, 403)

    install_web_error_pages(app)
