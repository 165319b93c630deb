# filled in by the src/pcsc work
