# One image for the web server and the job worker (compose.yaml runs it as web, worker and migrate).
# Small: two stages, no compilers or dev extras in the result; non-root; configuration only through
# the environment (config/settings.py), whose production checks refuse to start with unsafe settings.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first (a layer reused until pyproject.toml changes), then the code.
COPY pyproject.toml README.md ./
RUN mkdir -p config && touch config/__init__.py \
    && /opt/venv/bin/pip install . \
    && /opt/venv/bin/pip uninstall -y wuye
COPY . .
# A regular (not editable) install of the project alone, without the test extras.
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM python:3.11-slim
# pg_dump / pg_restore for `python -m server backup|restore`: Debian 12's client is PostgreSQL 15, the
# major version compose.yaml runs (pg_dump refuses a newer server; keep the two in step).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin wuye \
    && mkdir -p /app /data/media /data/backups \
    && chown -R wuye:wuye /app /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MEDIA_DIR=/data/media \
    METRICS_DIR=/tmp/wuye-metrics
WORKDIR /app
USER wuye:wuye
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/ready', timeout=3)"]
CMD ["python", "-m", "server", "serve"]
