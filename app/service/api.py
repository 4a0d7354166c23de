"""The FastAPI application: routes only, each a line or two; the work is in `tracing` and friends."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import TemplateNotFound
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__
from app.examples import EXAMPLES
from app.service.admission import BodyLimitMiddleware, ClientBusy, Saturated, client_key
from app.service.logs import RequestLogMiddleware, configure_logging
from app.service.models import BusyResponse, Example, HealthResponse, TraceRequest
from app.service.text import validation_detail
from app.service.tracing import TraceService, busy_response, to_response
from app.settings import Limits, ServiceSettings
from app.trace_model import ErrorResponse, Trace

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
SWAGGER = "/static/vendor/swagger-ui"

TRACE_RESPONSES = {
    400: {"model": ErrorResponse, "description": "The program has an error (or hit a limit, or timed out)."},
    413: {"model": ErrorResponse, "description": "The request body is larger than the limit."},
    429: {
        "model": BusyResponse,
        "description": "This client address already has as many programs running or waiting as one may.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
    503: {
        "model": BusyResponse,
        "description": "Every worker is busy and the queue is full.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
}


def create_app(settings: ServiceSettings | None = None, limits: Limits | None = None) -> FastAPI:
    """Build the app; the worker pool starts with the app's lifespan and stops with it."""
    settings = settings or ServiceSettings.from_env()
    configure_logging(settings.log_level, settings.log_interval_s)
    service = TraceService(settings, limits)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(service.start)
        try:
            yield
        finally:
            await asyncio.to_thread(service.stop)

    app = FastAPI(
        title="Grafo",
        version=__version__,
        description="Trace a small PyTorch program and see its autograd graph.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.settings = settings
    _add_routes(app, settings)
    _add_handlers(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware, log_source=settings.log_source)
    return app


def _add_routes(app: FastAPI, settings: ServiceSettings) -> None:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)

    @app.post("/api/trace", response_model=Trace, responses=TRACE_RESPONSES, tags=["trace"])
    async def post_trace(body: TraceRequest, request: Request):
        """Trace a program: its graph, forward and backward steps, and a gradient check."""
        if settings.log_source:
            request.state.source = body.source
        client = client_key(request.client.host if request.client else None)
        outcome = await app.state.service.trace(body, request.state.request_id, client)
        return to_response(outcome, request.state, settings.max_trace_bytes)

    @app.get("/api/examples", response_model=list[Example], tags=["examples"])
    async def get_examples() -> list[Example]:
        """The built-in examples, the lesson first."""
        return EXAMPLES

    @app.get("/api/health", response_model=HealthResponse, tags=["health"])
    async def get_health() -> HealthResponse:
        """Status, torch version, the worker pool, and every limit in force."""
        return app.state.service.health()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request):
        return _render_index(templates, request)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title="Grafo API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )


def _render_index(templates: Jinja2Templates, request: Request):
    """The page the browser front end fills; a plain note until its template exists."""
    context = {"examples": [example.model_dump() for example in EXAMPLES], "version": __version__}
    try:
        return templates.TemplateResponse(request, "index.html", context)
    except TemplateNotFound:
        return HTMLResponse("<!doctype html><title>Grafo</title><p>Grafo: see <a href='/docs'>/docs</a>.</p>")


def _add_handlers(app: FastAPI, settings: ServiceSettings) -> None:
    @app.exception_handler(Saturated)
    async def saturated(request: Request, _: Saturated) -> JSONResponse:
        return busy_response(settings, request.state)

    @app.exception_handler(ClientBusy)
    async def client_busy(request: Request, _: ClientBusy) -> JSONResponse:
        return busy_response(settings, request.state, status=429)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        """FastAPI's 422, but bounded and safe to encode whatever the body held: a few errors, each
        input described in a few words (NaN, lone surrogates and huge values never echoed as such)."""
        request.state.error_kind = "validation"
        return JSONResponse(status_code=422, content={"detail": validation_detail(error.errors())})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        """FastAPI answers a body it cannot decode (not UTF-8) with a bare 400; that is a
        malformed request like any other, so it gets the same 422 (400 means a program error)."""
        if error.status_code == 400 and request.method in ("POST", "PUT", "PATCH"):
            request.state.error_kind = "validation"
            detail = [{"type": "json_invalid", "loc": ["body"], "msg": "the body is not valid UTF-8 JSON"}]
            return JSONResponse(status_code=422, content={"detail": detail})
        return await http_exception_handler(request, error)
