#!/usr/bin/env python3
"""Loads a finished run's logs into the real TensorBoard and reads every tag back through its HTTP data API.

Usage: tensorboard_check.py LOGDIR [--expect FILE] [--port N] [--timeout S]

Starts `python3 -m tensorboard.main --logdir LOGDIR` on 127.0.0.1, waits until it has loaded the event files, then
for every run and tag of the scalars, images and histograms plugins fetches the data route (and, for images, every
image's individualImage route, checking that a PNG comes back). --expect names a JSON file
{"scalars": [tags], "images": [tags], "histograms": [tags]}: every tag listed must load, in some run, with at least
one point. Prints one JSON object {"tensorboard": version, "loaded": {plugin: {run: {tag: points}}}, "missing": [...],
"errors": [...]} and exits 0 when nothing is missing and nothing failed, 1 otherwise, 2 when TensorBoard is not
installed or did not start.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PLUGINS = ("scalars", "images", "histograms")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base, path, params=None):
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type", "")


def get_json(base, path, params=None):
    body, _ = get(base, path, params)
    return json.loads(body)


def wait_for_tags(base, expected, deadline):
    """Polls the tag routes until every expected tag is listed (or, without expectations, any tag), or the deadline."""
    while True:
        try:
            tags = {plugin: get_json(base, f"/data/plugin/{plugin}/tags") for plugin in PLUGINS}
            listed = {plugin: {tag for run in tags[plugin].values() for tag in run} for plugin in PLUGINS}
            if expected:
                if all(set(expected.get(plugin, [])) <= listed[plugin] for plugin in PLUGINS):
                    return tags
            elif any(listed.values()):
                return tags
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
            pass
        if time.time() > deadline:
            return None
        time.sleep(1)


def read_back(base, tags, errors):
    """Fetches every tag's data; returns {plugin: {run: {tag: points}}}."""
    loaded = {plugin: {} for plugin in PLUGINS}
    for plugin in PLUGINS:
        for run, run_tags in tags[plugin].items():
            for tag in run_tags:
                try:
                    if plugin == "images":
                        points = 0
                        for sample in range(max(1, run_tags[tag].get("samples", 1))):
                            for image in get_json(base, "/data/plugin/images/images", {"run": run, "tag": tag, "sample": sample}):
                                body, content_type = get(base, f"/data/plugin/images/individualImage?{image['query']}")
                                if not body.startswith(PNG_SIGNATURE):
                                    errors.append(f"images {run}/{tag}: individualImage gave {content_type}, {len(body)} bytes, not a PNG")
                                points += 1
                    else:
                        points = len(get_json(base, f"/data/plugin/{plugin}/{plugin}", {"run": run, "tag": tag}))
                    loaded[plugin].setdefault(run, {})[tag] = points
                    if points == 0:
                        errors.append(f"{plugin} {run}/{tag}: listed but no points")
                except (urllib.error.URLError, json.JSONDecodeError, KeyError) as e:
                    errors.append(f"{plugin} {run}/{tag}: {e}")
    return loaded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--expect", help="JSON file of the tags that must load")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for TensorBoard to load the logs")
    args = parser.parse_args()
    try:
        import tensorboard
    except ImportError:
        print(json.dumps({"error": "the tensorboard Python package is not installed (pip install tensorboard)"}))
        return 2
    expected = json.load(open(args.expect)) if args.expect else {}
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", os.path.abspath(args.logdir), "--host", "127.0.0.1",
               "--port", str(port), "--reload_interval", "1", "--load_fast", "false"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        tags = wait_for_tags(base, expected, time.time() + args.timeout)
        if tags is None:
            server.terminate()
            _, stderr = server.communicate(timeout=10)
            print(json.dumps({"error": f"TensorBoard ({' '.join(command)}) listed no tags within {args.timeout} s",
                              "stderr": stderr[-2000:]}))
            return 2
        errors = []
        loaded = read_back(base, tags, errors)
        missing = [f"{plugin} {tag}" for plugin in PLUGINS for tag in expected.get(plugin, [])
                   if not any(loaded[plugin].get(run, {}).get(tag) for run in loaded[plugin])]
        print(json.dumps({"tensorboard": tensorboard.__version__, "command": " ".join(command), "loaded": loaded,
                          "missing": missing, "errors": errors}, indent=1))
        return 0 if not missing and not errors else 1
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
