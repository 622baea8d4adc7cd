"""The sentiment dashboard's pipeline: build, test, publish and deploy its Lambda image.

`dagger call test` runs the unit tests inside the image; `dagger call deploy --env preprod`
runs build → size guard → test → publish → terraform apply → smoke. The logic lives in plain
modules beside main.py so that tests and the Docker rehearsal can use it without an engine.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main import SentimentPipeline as SentimentPipeline


def __getattr__(name: str) -> object:
    # Lazy, so that importing the plain modules (stages, retry, ...) does not load the Dagger SDK;
    # the runtime's entry point still finds `sentiment_pipeline:SentimentPipeline`.
    if name == "SentimentPipeline":
        from .main import SentimentPipeline

        return SentimentPipeline
    raise AttributeError(name)
