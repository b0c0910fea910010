"""Tools for tests, loaded into app and worker processes with TOOL_MODULES=tests.tools.

`count` appends one line per execution to $COUNT_FILE (O_APPEND: whole lines even with many
processes writing), so a test can prove every step ran and none ran twice.
"""

from __future__ import annotations

import os
import time
from typing import Any

from app.engine.tools import ToolCall, register


@register("count", description="Record this execution in $COUNT_FILE; optional sleep first.")
def count(args: dict[str, Any], call: ToolCall) -> Any:
    path = os.environ["COUNT_FILE"]
    line = f"{call.run_id}:{call.step_key}:{call.attempt}:{os.getpid()}:start\n"
    with open(path, "a") as handle:
        handle.write(line)
    seconds = float(args.get("sleep", 0))
    if seconds:
        time.sleep(seconds)
    return {"step": call.step_key, "pid": os.getpid()}
