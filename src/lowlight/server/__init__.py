"""``lowlight serve``: the HTTP API and web page (:func:`create_app`)."""

from .app import ServerConfig, check_bind, create_app, serve

__all__ = ["ServerConfig", "check_bind", "create_app", "serve"]
