"""One module per `site-builder` command, each with `register(subparsers)` and `run(args) -> int`.

Modules import only argparse at load time, so building the parser costs nothing; `run` imports what its command
needs (a query such as `estimate` must not load the page renderer). The order here is the order of `--help`.
"""

from site_builder.commands import (
    build,
    calibrate,
    check,
    estimate,
    fmt,
    import_hf_config,
    new,
    recommend,
    schema,
    serve,
)

COMMANDS = (check, build, serve, estimate, recommend, import_hf_config, schema, new, fmt, calibrate)
