# ccmon: worker and exporter image (a later issue hardens it further).
FROM python:3.11.11-slim-bookworm
RUN useradd --create-home --uid 10001 ccmon
WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY metrics ./metrics
COPY deploy/queues.example.yaml /etc/ccmon/queues.yaml
RUN pip install --no-cache-dir . && rm -rf /root/.cache
USER ccmon
WORKDIR /home/ccmon
ENTRYPOINT ["ccmon"]
CMD ["--help"]
