"""An MCP client no one here wrote (the Python `mcp` SDK) operating a
kernel through its `/mcp` endpoint: lists the tools, reads the topology,
is refused a pause without the token, then pauses and resumes a pipe with
it. Prints one JSON report and exits.

usage: mcp_client.py URL TOKEN PIPE_ID
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

url, token, pipe = sys.argv[1], sys.argv[2], sys.argv[3]


async def session(headers, work):
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as s:
                await s.initialize()
                return await work(s)


def answer(result):
    return {"is_error": bool(result.is_error), "value": result.structured_content}


async def visitor(s):
    tools = await s.list_tools()
    topology = await s.call_tool("topology", {})
    refused = await s.call_tool("pause", {"id": pipe})
    return {
        "tools": sorted(t.name for t in tools.tools),
        "schemas": {t.name: t.input_schema for t in tools.tools},
        "topology": answer(topology),
        "refused": answer(refused),
    }


async def operator(s):
    paused = await s.call_tool("pause", {"id": pipe})
    resumed = await s.call_tool("resume", {"id": pipe})
    return {"paused": answer(paused), "resumed": answer(resumed)}


async def main():
    report = await session({}, visitor)
    report.update(await session({"Authorization": f"Bearer {token}"}, operator))
    print(json.dumps(report), flush=True)


asyncio.run(main())
