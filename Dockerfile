# One image for every Tiaojie role: serve (signaling + API), media (SFU) and workers.
FROM node:20-bookworm-slim AS client
WORKDIR /src/web_client
COPY web_client/package.json web_client/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web_client/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libreoffice-writer-nogui poppler-utils \
      fonts-noto-cjk ffmpeg curl \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 tiaojie
WORKDIR /app
COPY pyproject.toml README.md LICENSE MANIFEST.in ./
# The build backend: setuptools, plus fetching the diarizer's speaker-encoder weights.
COPY build_backend/ build_backend/
COPY signaling/ signaling/
COPY media/ media/
COPY transcription/ transcription/
COPY agreements/ agreements/
COPY experts/ experts/
COPY web_client/__init__.py web_client/
COPY --from=client /src/web_client/dist web_client/dist
# One command: the build puts the speaker-encoder weights into the installed package.
RUN pip install --no-cache-dir '.[models]'
USER tiaojie
ENV TIAOJIE_DATA_DIR=/var/lib/tiaojie TIAOJIE_HOST=0.0.0.0 TIAOJIE_LOG_JSON=true
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["tiaojie", "serve"]
