"""Output formats: every way a result, a counterexample or a report leaves the tool.

One module per format, each a renderer over data the earlier stages computed: the terminal
(`terminal`, and an ablation's table in `ablation`), JSON of a result (`jsonout`), ITF traces
(`itf`), the HTML page (`html`, with an ablation's section from `ablation`), a regression
run's JUnit XML and JSON (`regress`). `formats` registers the files the command line writes.
The data the formats share (a trace's rows, its timeline) is `trace`'s. Imports `compile.*`,
`engines.*`, `hooks` and `regress` (their results), `lang.types`, `lang.paths`, `trace.*`;
never `domain`: a vocabulary's words arrive as data (an explanation, a timeline and its legend).
"""
