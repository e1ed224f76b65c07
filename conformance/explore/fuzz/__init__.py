"""API fuzzing: schemathesis-generated requests against each role's OpenAPI document.

`runner.fuzz_target(session, ...)` is the engine (the CLI command is a thin adapter): per role it
loads `/openapi.json` through the target's own client, authenticates as the document's security
schemes ask (`auth`), turns each generated case into one HTTP request (`wire`), applies the
checks (`checks`) and records counts and shrunk failures (`results`); `render` writes fuzz.json
and fuzz.md.
"""
