# Grafo: a small image with the CPU build of torch, running as a non-root user.
#   docker build -t grafo . && docker run -p 8000:8000 grafo
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1

WORKDIR /srv/grafo

# The CPU build of torch first (its own index; no CUDA packages), in a layer of its own.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Then the other dependencies, read from pyproject.toml (torch is already satisfied).
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(deps))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The application runs from its source tree (templates/ and static/ sit beside app/).
COPY app ./app
COPY templates ./templates
COPY static ./static

# Workers confine themselves with the kernel (app/sandbox): seccomp through Debian's libseccomp2,
# which the slim image ships; importing the sandbox loads it, so a missing library fails the build.
# Under Docker's default seccomp profile user namespaces are usually refused: workers then keep
# Landlock (when the host kernel has it), seccomp and rlimits; /api/health lists what is on.
RUN python -c "import app.sandbox"

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin grafo
USER grafo

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"]

CMD ["python", "-m", "app", "serve", "--host", "0.0.0.0", "--port", "8000"]
