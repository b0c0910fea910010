"""A bare Starlette app served the way Reflex serves the backend (granian, ASGI, one worker):
the calibration ceiling for the API scenario.

    python -m bench.bare_app --port 3591
"""

from __future__ import annotations

import argparse

from granian.constants import Interfaces
from granian.server import Server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAYLOAD = {"id": "run_01jd2y7k3m8q9r4s5t6v7w8x9y", "status": "COMPLETED", "steps": []}


async def get_item(_request: Request) -> JSONResponse:
    return JSONResponse(PAYLOAD)


async def post_item(request: Request) -> JSONResponse:
    return JSONResponse({**PAYLOAD, "input": await request.json()}, status_code=201)


app = Starlette(routes=[Route("/item", get_item, methods=["GET"]),
                        Route("/item", post_item, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    Server(target="bench.bare_app:app", address="127.0.0.1", port=args.port,
           interface=Interfaces.ASGI, workers=1).serve()


if __name__ == "__main__":
    main()
