"""The service's HTTP layer, on Lambda's own event formats: no ASGI, no web framework.

Lambda hands the function one HTTP request at a time as an event; a FastAPI or Starlette app needs
asyncio, anyio and the framework imported before the first byte is answered, which measured as
most of a cold start (docs/benchmarks.md, docs/decisions.md). This package does what the service
needs of a framework and no more: routes (`routing`), inputs validated by msgspec (`inputs`), the
event formats (`events`), CORS (`cors`), static assets (`static`) and the OpenAPI document built
from the routes (`openapi`, imported only when the document is asked for).
"""
