# ccmon: one image for the worker, the exporter/API and the other `ccmon` commands.
# Small (slim base, wheels built in a throw-away stage, no compiler or pip cache in the
# final layer), non-root (uid 10001), pinned base image.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY metrics ./metrics
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CCMON_QUEUES_FILE=/etc/ccmon/queues.yaml
COPY --from=build /install /usr/local
COPY deploy/queues.example.yaml /etc/ccmon/queues.yaml
RUN useradd --create-home --uid 10001 --user-group ccmon
USER 10001:10001
WORKDIR /home/ccmon
# 9108: exporter /metrics, /healthz and the read API; 9109: a worker's health metrics
EXPOSE 9108 9109
ENTRYPOINT ["ccmon"]
CMD ["--help"]
