# Integration tests (real pcscd + vpcd + virtual card, through tests/rig.sh).
include tests/integration/foundation.mk
include tests/integration/pkcs11.mk
include tests/integration/tool.mk
include tests/integration/unlock.mk
include tests/integration/clients.mk
include tests/integration/clients2.mk
include tests/integration/hicos.mk
