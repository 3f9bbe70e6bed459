# consent-ledger: one image for every process (api, publisher, consumer, sealer, expirer).
# Built from the project's wheel; runs as an unprivileged user.

FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ledger ./ledger
COPY projections ./projections
COPY consumers ./consumers
COPY api ./api
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONSENT_LEDGER_HOST=0.0.0.0 \
    CONSENT_LEDGER_METRICS_HOST=0.0.0.0
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
 && rm -rf /wheels \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin ledger
USER ledger
WORKDIR /home/ledger
EXPOSE 8000 9100
CMD ["consent-ledger", "serve"]
