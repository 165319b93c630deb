# filled in by the src/pkcs11 work
