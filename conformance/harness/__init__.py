"""The harness: loads scenarios, drives a target through a dialect, evaluates checks, reports.

    loader (yamlsource, schemas, scenario)   YAML -> validated, frozen Scenario objects
    template                                 ${...} inputs and dotted-path captures
    runner -> steps -> expectations, checks  one event loop; events to handlers
    results, events                          frozen results; RunStarted ... RunFinished
    reports/                                 junit.xml, report.json, summary.md, report.html
    selection                                -k EXPR / --tag
    environment                              the one seam to conformance.dialects
    pytest_plugin                            the same engine as pytest items

The CLI (`conformance run` / `conformance list`) and the pytest plugin are adapters over the runner.
"""
