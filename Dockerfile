# Dunwell production image: gunicorn for the web, `manage.py qcluster` for the worker.
# Same image, two processes (see README "Deploying").
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=0 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 dunwell
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=dunwell:dunwell . .

# collectstatic needs settings to load; these throwaway values never reach a running container.
RUN SECRET_KEY=build-only-not-secret-$(date +%s%N) \
    FIELD_ENCRYPTION_KEYS=ZmFrZS1idWlsZC1vbmx5LWtleS0wMDAwMDAwMDAwMDA= \
    python manage.py collectstatic --noinput

USER dunwell
EXPOSE 8000

# Web: gunicorn. Worker: docker run IMAGE python manage.py qcluster
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--access-logfile", "-"]
