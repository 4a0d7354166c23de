"""A stand-in server for developing the page before the real service exists (not used by the tests).

    .venv/bin/python tests/browser/devserver.py 8010

Serves templates/index.html and static/ like the real service, answers POST /api/trace with the lesson
fixture (or, when the engine exists, with a real trace), and GET /api/examples with the lesson.
"""

import json
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "lesson_trace.json").read_text())
app = FastAPI()
app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
templates = Environment(loader=FileSystemLoader(ROOT / "templates"))


@app.get("/", response_class=HTMLResponse)
def index(request: Request):
    return templates.get_template("index.html").render(request=request)


@app.get("/api/examples")
def examples():
    return [{"id": "lesson", "title": "The lesson", "description": "Linear model, squared error",
             "source": FIXTURE["source"]},
            {"id": "broken", "title": "Broken", "description": "A syntax error", "source": "x = (1,\ny = 2\n"}]


@app.post("/api/trace")
async def trace(request: Request):
    body = await request.json()
    source = body["source"]
    try:
        from app.engine import trace as engine_trace
        from app.errors import ProgramError
    except ImportError:
        engine_trace = None
    if engine_trace is not None:
        try:
            return JSONResponse(json.loads(engine_trace(source, root=body.get("root"), gradcheck=body.get(
                "gradcheck", True), eps=body.get("eps", 1e-3)).model_dump_json()))
        except ProgramError as error:
            return JSONResponse({"error": error.to_dict()}, status_code=400)
    if "(1,\n" in source or "syntax" in source:
        return JSONResponse({"error": {"kind": "syntax", "message": "'(' was never closed", "line": 1, "col": 5}},
                            status_code=400)
    return FIXTURE["trace"]


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8010, log_level="warning")
