# syntax=docker/dockerfile:1
# Stage 1: front-end assets from the npm registry (govuk-frontend, htmx), Sass built with Arial.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend ./frontend
COPY scripts/build-assets ./scripts/build-assets
RUN bash scripts/build-assets

# Stage 2: a slim Python runtime, run as a non-root user.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUDIT_PORTAL_ENV=production \
    AUDIT_PORTAL_VAR_DIR=/app/var
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libmagic1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 portal
WORKDIR /app
COPY pyproject.toml README.md ./
COPY audit_portal ./audit_portal
RUN pip install --no-cache-dir --disable-pip-version-check -e .
COPY alembic.ini ./
COPY migrations ./migrations
COPY templates ./templates
COPY questionnaires ./questionnaires
COPY --from=assets /build/static ./static
RUN mkdir -p /app/var/uploads && chown -R portal /app/var
USER portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
# Migrations first (safe to repeat), then the web server.
CMD ["sh", "-c", "audit-portal migrate && exec audit-portal serve --host 0.0.0.0 --port 8000"]
