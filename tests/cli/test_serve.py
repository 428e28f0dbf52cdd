"""The preview server: incremental rebuilds, error reporting without stopping, and the status endpoint."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from site_builder.paths import TEMPLATES
from site_builder.serve import Preview, Status, change_keys, make_handler


@pytest.fixture
def preview(catalog_copy: Path, tmp_path: Path) -> Preview:
    p = Preview(catalog_copy, tmp_path / "site")
    p.full()
    return p


def _mtimes(root: Path) -> dict[str, int]:
    return {str(f.relative_to(root)): f.stat().st_mtime_ns for f in root.rglob("*.html")}


def test_change_keys_map_files_to_records(catalog_copy: Path) -> None:
    keys = change_keys({catalog_copy / "models" / "internlm-20b.yaml", TEMPLATES / "gpu.html"}, catalog_copy)
    # What other pages read of a model (its figures) changes with its record.
    assert keys == {
        "models/internlm-20b",
        "model-figures/internlm-20b",
        "gpu-rows/*",
        "template:gpu.html",
    }
    assert change_keys({TEMPLATES / "base.html"}, catalog_copy) == {"*"}


def test_editing_one_model_rerenders_only_what_depends_on_it(preview: Preview) -> None:
    out, record = preview.out, preview.catalog / "models" / "internlm-20b.yaml"
    assert "live_reload" not in (out / "index.html").read_text()
    assert "static/livereload.js" in (out / "index.html").read_text()
    before = _mtimes(out)
    record.write_text(record.read_text().replace("name: InternLM 20B", "name: InternLM 20B Edited"))
    rendered = preview.incremental({record})
    assert 0 < rendered < len(before) / 2
    after = _mtimes(out)
    changed = {k for k in before if after.get(k) != before[k]}
    assert "models/internlm-20b/index.html" in changed
    assert "InternLM 20B Edited" in (out / "models/internlm-20b/index.html").read_text()
    # The listing and every GPU page show the model's name: they read its figures and are rendered again.
    assert "InternLM 20B Edited" in (out / "index.html").read_text()
    assert "InternLM 20B Edited" in (out / "gpus/h100-sxm/index.html").read_text()
    assert "models/llama-3.1-405b/index.html" not in changed  # unrelated and not a neighbour
    assert preview.status.errors == []
    # The build's record of its inputs no longer describes these pages: the next build starts over.
    assert not (out / ".build-manifest.json").exists() and not (out / ".build-inputs").exists()


def test_broken_record_reports_and_keeps_last_good_site(preview: Preview) -> None:
    out, record = preview.out, preview.catalog / "models" / "internlm-20b.yaml"
    good = (out / "models/internlm-20b/index.html").read_text()
    version = preview.status.version
    record.write_text(record.read_text().replace("num_key_value_heads: 40", "num_key_value_heads: 7"))
    assert preview.incremental({record}) == -1
    assert preview.status.version == version + 1
    [error] = preview.status.errors
    assert "num_key_value_heads: must divide num_attention_heads (40), got 7" in error
    assert (out / "models/internlm-20b/index.html").read_text() == good
    # Fixing it renders the pages the broken edit was waiting on.
    record.write_text(record.read_text().replace("num_key_value_heads: 7", "num_key_value_heads: 40"))
    assert preview.incremental({record}) > 0
    assert preview.status.errors == []


def test_status_endpoint_serves_version_and_errors(preview: Preview) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(preview.out, preview.status))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        status = json.loads(urllib.request.urlopen(url + "/__status").read())
        assert status == {"version": preview.status.version, "errors": []}
        page = urllib.request.urlopen(url + "/models/internlm-20b/").read().decode()
        assert "<h1>InternLM 20B</h1>" in page
    finally:
        server.shutdown()


SERVE = [sys.executable, "-m", "site_builder", "serve"]


def test_a_request_with_a_nul_byte_gets_400(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("home")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(tmp_path, Status()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as conn:
            conn.sendall(b"GET /index.html%00.txt HTTP/1.0\r\n\r\n")
            reply = conn.recv(200)
        assert reply.startswith(b"HTTP/1.0 400"), reply
    finally:
        server.shutdown()


def test_serve_on_a_busy_port_says_so_in_one_line(catalog_copy: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--catalog", str(catalog_copy), "--out", str(tmp_path / "site"), "--port", str(port), "--once"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"site-builder serve: error: cannot listen on 127.0.0.1:{port}") and "--port" in line
    assert not (tmp_path / "site").exists()  # nothing was built


def test_serve_refuses_an_unsafe_output_directory(catalog_copy: Path) -> None:
    result = subprocess.run(
        [*SERVE, "--catalog", str(catalog_copy), "--out", str(catalog_copy), "--port", "0", "--once"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "refusing to replace" in result.stderr and "Traceback" not in result.stderr


def test_the_preview_says_built_once_and_not_to_run_make_serve(
    catalog_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Preview(catalog_copy, tmp_path / "site").full()
    err = capsys.readouterr().err
    assert err.count("built ") == 1, err
    assert "make serve" not in err  # it is already serving
