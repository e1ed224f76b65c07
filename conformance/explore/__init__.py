"""Beyond fixed cases: generated requests and generated scenarios against a target.

Two engines share one way of reaching a target (`session`: the target opened on an event loop of
its own, so hypothesis' synchronous test functions can drive it):

- `fuzz`: schemathesis cases from each role's OpenAPI document, sent through the target's client,
  checked for 5xx and for conformance to the documented statuses, media types and schemas.
- `properties` + `explorer`: hypothesis properties over whole flows (issue -> present -> verify
  with random claims and disclosures, random DCQL queries, a state machine over the holder API).

Both write a JSON and a Markdown report (`report`) and shrink what fails to a minimal example,
printed with the seed that replays it.
"""
