"""The Redis connection of an app: one pool per process, made when the app is created."""
from __future__ import annotations

from flask import Flask, current_app
from redis import Redis


def connect(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=30)


def init_app(app: Flask, client: Redis | None = None) -> None:
    app.extensions["redis"] = client or connect(app.config["SETTINGS"].redis_url)


def client() -> Redis:
    return current_app.extensions["redis"]
