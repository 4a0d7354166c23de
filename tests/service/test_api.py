"""The REST API through the real HTTP stack in process (httpx via TestClient, real worker pool)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.autograd import Variable

from app.examples import EXAMPLES, LESSON
from app.settings import Limits
from app.trace_model import ErrorResponse, Trace
from tests.service.conftest import tensor_named, wait_until


def _strict_json(content: bytes):
    """Parse as a strict JSON parser would: NaN and Infinity literals are refused."""

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(content, parse_constant=refuse)


def test_lesson_end_to_end(client):
    response = client.post("/api/trace", json={"source": LESSON})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    trace = Trace.model_validate_json(response.content)  # exactly the engine's contract
    data = _strict_json(response.content)

    y = Variable(2 * torch.arange(0, 4))
    x = Variable(torch.arange(0, 4))
    w = Variable(torch.ones(1), requires_grad=True)
    J = (x * w - y).pow(2).sum()
    J.backward()

    assert tensor_named(data, "J")["value"]["data"] == pytest.approx(J.item())
    assert tensor_named(data, "w")["grad"]["data"] == pytest.approx(w.grad.tolist())
    assert J.item() == 14 and w.grad.tolist() == [-28.0]
    assert data["output"] == [str(w.grad)]
    assert len(trace.passes) == 1


def test_request_id_header(client):
    response = client.post("/api/trace", json={"source": LESSON, "gradcheck": False})
    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) == 16


ERROR_PROGRAMS = {
    "syntax": "x = 1 +",
    "name": "x = y + 1",
    "type": "x = len(3)",
    "runtime": "import torch\nx = torch.ones(2) @ torch.ones(3)",
    "limit": "import torch\nx = torch.ones(100000, 100000)",
}


@pytest.mark.parametrize("kind", sorted(ERROR_PROGRAMS))
def test_program_error_kinds_are_400(client, kind):
    response = client.post("/api/trace", json={"source": ERROR_PROGRAMS[kind]})
    assert response.status_code == 400, response.text
    body = ErrorResponse.model_validate(response.json())
    assert body.error.kind == kind
    assert body.error.line is not None and body.error.message


def test_a_program_cannot_read_the_hosts_files(client):
    """Programs are real Python now; the sandbox, not a refusal, keeps /etc/passwd out of reach."""
    response = client.post("/api/trace", json={"source": "import torch\nx = torch.load('/etc/passwd')"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["kind"], error["line"]) == ("runtime", 2)
    assert "Permission denied" in error["message"] and "root:" not in response.text


def test_timeout_kind_is_400(tight_client):
    from tests.service.conftest import SLOW_MANY_OPS

    response = tight_client.post("/api/trace", json={"source": SLOW_MANY_OPS, "gradcheck": False})
    assert response.status_code == 400
    assert response.json()["error"]["kind"] == "timeout"


@pytest.mark.parametrize(
    "body",
    [
        {"source": LESSON, "unknown": 1},
        {"source": 3},
        {"root": "J"},
        {"source": LESSON, "gradcheck": "yes"},
        {"source": LESSON, "eps": 0},
        {"source": LESSON, "eps": -1e-3},
    ],
)
def test_malformed_bodies_are_422(client, body):
    response = client.post("/api/trace", json=body)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


@pytest.mark.parametrize("raw", [b'{"source": "x = 1", "eps": NaN}', b'{"source": "x = 1", "eps": Infinity}',
                                 b"{not json", b'{"source": "\xff"}', b"[]"])
def test_unusual_json_is_422_not_500(client, raw):
    response = client.post("/api/trace", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    _strict_json(response.content)


def test_nan_and_inf_values_encode(client):
    source = (
        "import torch\n"
        "x = torch.tensor([0.0, 1.0], requires_grad=True)\n"
        "y = torch.log(x)\n"
        "z = y / x\n"
        "J = (y * x).sum()\n"
        "J.backward()\n"
        "print(x.grad)\n"
    )
    response = client.post("/api/trace", json={"source": source})
    assert response.status_code == 200, response.text
    data = _strict_json(response.content)
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    (torch.log(x) * x).sum().backward()
    assert math.isnan(x.grad[0].item())
    assert tensor_named(data, "x")["grad"]["data"][0] == "nan"
    assert tensor_named(data, "y")["value"]["data"][0] == "-inf"


def test_oversized_body_is_413_by_content_length(client):
    limit = client.app.state.settings.max_body_bytes
    response = client.post("/api/trace", json={"source": "x = 1\n" + "#" * limit})
    assert response.status_code == 413
    assert response.json()["error"]["kind"] == "limit"


def test_oversized_chunked_body_is_413(client):
    """A body with no Content-Length (chunked). TestClient buffers it; the streaming side is tested
    against the middleware directly (test_admission.py) and against uvicorn (test_live_server.py)."""
    limit = client.app.state.settings.max_body_bytes

    def chunks():
        yield b'{"source": "'
        for _ in range(limit // 1024 * 2):
            yield b"#" * 1024
        yield b'"}'

    response = client.post("/api/trace", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["kind"] == "limit"


def test_source_over_engine_limit_is_400_limit(client):
    source = "x = 1\n" + "# padding\n" * 2000  # under the body cap, over the engine's 16 KiB
    response = client.post("/api/trace", json={"source": source})
    assert response.status_code == 400
    assert response.json()["error"]["kind"] == "limit"


def test_examples_endpoint(client):
    response = client.get("/api/examples")
    assert response.status_code == 200
    examples = response.json()
    assert [example["id"] for example in examples] == [example.id for example in EXAMPLES]
    assert examples[0]["source"] == LESSON
    assert len(examples) >= 10
    for example in examples:
        assert set(example) == {"id", "title", "description", "source", "translations"}
        assert set(example["translations"]["pt-BR"]) == {"title", "description"}


def test_health_reports_pool_and_every_limit(client):
    # a worker retired by an earlier test (after a limit error) may still be being replaced
    assert wait_until(lambda: client.get("/api/health").json()["pool"]["alive"] == 2)
    response = client.get("/api/health")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["torch"].startswith(torch.__version__.split("+")[0])
    assert health["pool"]["workers"] == 2 and health["pool"]["alive"] == 2
    assert set(health["limits"]) == set(Limits().as_dict())
    for name in ("max_body_bytes", "workers", "queue_size", "time_limit_s", "memory_limit_mb"):
        assert name in health["service"]
    assert health["limits"]["time_limit_s"] == health["service"]["time_limit_s"]


def test_index_page_and_static(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert client.get("/static/vendor/swagger-ui/swagger-ui.css").status_code == 200


def test_docs_work_offline(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served
