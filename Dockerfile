# One image for every service and the worker; the command chooses which runs.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 BIND_HOST=0.0.0.0
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --uid 10001 wms && mkdir -p /app/var && chown wms /app/var
USER wms
CMD ["gunicorn", "-c", "gateway/gunicorn.conf.py"]
