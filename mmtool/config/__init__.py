"""The params model and everything read from `params/<env>.yaml`: the pydantic model (`params`), its loader
with file:line errors (`loader`), schedules (`schedule`), the generated parameter reference (`reference`) and the
project's folders and environments (`workspace`). Imports nothing of the other `mmtool` packages."""
