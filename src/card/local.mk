# filled in by the src/card work
