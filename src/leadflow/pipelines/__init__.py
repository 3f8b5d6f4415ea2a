"""The workflows, as functions over ports: parse -> validate -> normalize -> dedupe -> store."""
