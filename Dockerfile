# cronkeeper's image (docs/containers.md): one image for every process,
#   docker build -t cronkeeper .
#   docker run -e DATABASE_URL=postgresql://... cronkeeper api|scheduler|worker|migrate|health worker
# The wheel and every dependency are built as wheels in a throwaway stage; the final
# stage installs them offline and has no compiler, no build tools and no embedded
# PostgreSQL (the `embedded` extra is not installed, and the entry point refuses to
# start without DATABASE_URL).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# a compiler, only in case a dependency has no wheel for this platform: it stays in this stage
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m pip install --no-cache-dir --upgrade pip build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY cronkeeper ./cronkeeper
COPY api ./api
COPY services ./services
COPY sql ./sql
COPY admin_ui/__init__.py ./admin_ui/__init__.py
COPY admin_ui/templates ./admin_ui/templates
COPY admin_ui/static ./admin_ui/static
RUN python -m build --wheel --outdir /wheels . \
    && python -m pip wheel --no-cache-dir --wheel-dir /wheels /wheels/cronkeeper-*.whl

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CRONKEEPER_API_HOST=0.0.0.0 \
    CRONKEEPER_API_PORT=8000 \
    CRONKEEPER_DATA_DIR=/var/lib/cronkeeper \
    CRONKEEPER_LOG_FORMAT=json
# a fixed, non-root uid/gid, so Kubernetes' runAsNonRoot can check it
RUN groupadd --system --gid 10001 cronkeeper \
    && useradd --system --uid 10001 --gid cronkeeper --home-dir /var/lib/cronkeeper --create-home \
        --shell /usr/sbin/nologin cronkeeper
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir --no-index --find-links /wheels cronkeeper \
    && python -m pip uninstall --yes pip
COPY --chmod=0755 ops/container/entrypoint.sh /usr/local/bin/cronkeeper-entrypoint
USER 10001:10001
WORKDIR /var/lib/cronkeeper
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/cronkeeper-entrypoint"]
CMD ["api"]
